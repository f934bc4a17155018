using System.Management.Automation;
using System.Reflection;
#if NET
using System.Runtime.Loader;
#endif

namespace KustomerSync.Cmdlets.Loading;

/// <summary>
/// Runs when PowerShell imports the module. On PowerShell 7 the engine lives in <c>dependencies/</c> next to this
/// assembly, out of PowerShell's own probing, and is loaded into <see cref="EngineLoadContext"/> the first time a
/// cmdlet needs it. On Windows PowerShell 5.1 (no load contexts) the dependencies are resolved from the same folder.
/// </summary>
public sealed class ModuleLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly string DependencyDirectory =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleLoader).Assembly.Location)!, "dependencies");

#if NET
    private static readonly Lazy<EngineLoadContext> Context = new(() => new EngineLoadContext(DependencyDirectory));

    public void OnImport() => AssemblyLoadContext.Default.Resolving += ResolveEngine;

    public void OnRemove(PSModuleInfo module) => AssemblyLoadContext.Default.Resolving -= ResolveEngine;

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == "KustomerSync.Engine" ? Context.Value.LoadFromAssemblyName(name) : null;
#else
    public void OnImport() => AppDomain.CurrentDomain.AssemblyResolve += ResolveDependency;

    public void OnRemove(PSModuleInfo module) => AppDomain.CurrentDomain.AssemblyResolve -= ResolveDependency;

    private static Assembly? ResolveDependency(object sender, ResolveEventArgs args)
    {
        var name = new AssemblyName(args.Name).Name;
        var path = Path.Combine(DependencyDirectory, name + ".dll");
        return File.Exists(path) ? Assembly.LoadFrom(path) : null;
    }
#endif
}
