#if NET
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace KustomerSync.Cmdlets.Loading;

/// <summary>
/// The private load context of the engine and its dependencies (Npgsql, Microsoft.Data.Sqlite, ...), so that a
/// different version of any of them already loaded by another module (SqlServer, dbatools, Az) cannot clash with
/// ours. Only KustomerSync.Model, the types users see, is shared with the default context.
/// </summary>
internal sealed class EngineLoadContext : AssemblyLoadContext
{
    private static readonly string[] SharedAssemblies = { "KustomerSync.Model", "System.Management.Automation" };
    private readonly string _directory;
    private readonly string _runtimeFamily;
    private readonly string _rid;

    public EngineLoadContext(string directory) : base("KustomerSync.Engine", isCollectible: false)
    {
        _directory = directory;
        _runtimeFamily = OperatingSystem.IsWindows() ? "win" : "unix";
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        _rid = os + "-" + RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || SharedAssemblies.Contains(assemblyName.Name)) return null;
        foreach (var candidate in new[]
        {
            Path.Combine(_directory, "runtimes", _rid, "lib", "net8.0", assemblyName.Name + ".dll"),
            Path.Combine(_directory, "runtimes", _runtimeFamily, "lib", "net8.0", assemblyName.Name + ".dll"),
            Path.Combine(_directory, assemblyName.Name + ".dll"),
        })
        {
            if (File.Exists(candidate)) return LoadFromAssemblyPath(candidate);
        }
        // Framework assemblies come from the default context.
        return null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var nativeDirectory = Path.Combine(_directory, "runtimes", _rid, "native");
        foreach (var name in NativeNames(unmanagedDllName))
        {
            var path = Path.Combine(nativeDirectory, name);
            if (File.Exists(path)) return LoadUnmanagedDllFromPath(path);
        }
        return IntPtr.Zero;
    }

    private static IEnumerable<string> NativeNames(string name)
    {
        yield return name;
        if (OperatingSystem.IsWindows()) { yield return name + ".dll"; yield break; }
        var extension = OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        yield return name + extension;
        yield return "lib" + name + extension;
    }
}
#endif
