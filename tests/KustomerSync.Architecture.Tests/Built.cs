using System.Reflection;

namespace KustomerSync.Architecture.Tests;

/// <summary>Where the sources and the assemblies this test run was built with are.</summary>
internal static class Built
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>Release or Debug: the configuration of this test assembly, and so of the projects it references.</summary>
    public static string Configuration { get; } =
        typeof(Built).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    /// <summary>The PowerShell 7 build of a src/ project's assembly (or another file of its output).</summary>
    public static string Output(string project, string file) =>
        Path.Combine(RepoRoot, "src", project, "bin", Configuration, "net8.0", file);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KustomerSync.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No KustomerSync.sln above {AppContext.BaseDirectory}.");
    }
}
