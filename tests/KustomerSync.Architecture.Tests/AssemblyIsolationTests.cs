using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;

namespace KustomerSync.Architecture.Tests;

/// <summary>
/// The load-context rule of src/KustomerSync.Cmdlets/Loading/README.md: the assemblies PowerShell loads in its default
/// context (the cmdlets and KustomerSync.Model) reference none of the engine's dependencies, which live in the
/// engine's private context. A reference would make PowerShell resolve that dependency in the default context, where
/// another module's version of it may already be loaded, and its types would not be the engine's.
/// </summary>
public class AssemblyIsolationTests
{
    /// <summary>
    /// The isolated assemblies: every runtime assembly of every package the engine depends on (directly or not), read
    /// from the engine's own deps.json, so a dependency added to the engine is guarded without editing this test.
    /// </summary>
    internal static IReadOnlySet<string> IsolatedAssemblies()
    {
        using var deps = JsonDocument.Parse(File.ReadAllText(Built.Output("KustomerSync.Engine", "KustomerSync.Engine.deps.json")));
        var libraries = deps.RootElement.GetProperty("libraries");
        var names = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var target in deps.RootElement.GetProperty("targets").EnumerateObject())
        {
            foreach (var library in target.Value.EnumerateObject())
            {
                if (libraries.GetProperty(library.Name).GetProperty("type").GetString() != "package") continue;
                foreach (var section in new[] { "runtime", "runtimeTargets" })
                {
                    if (!library.Value.TryGetProperty(section, out var assets)) continue;
                    foreach (var asset in assets.EnumerateObject())
                    {
                        if (asset.Name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) &&
                            (!asset.Value.TryGetProperty("assetType", out var type) || type.GetString() == "runtime"))
                            names.Add(Path.GetFileNameWithoutExtension(asset.Name));
                    }
                }
            }
        }
        return names;
    }

    internal static IReadOnlyList<string> ReferencedAssemblies(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        return reader.AssemblyReferences.Select(h => reader.GetString(reader.GetAssemblyReference(h).Name)).ToList();
    }

    [Fact]
    public void The_isolated_set_holds_the_engines_drivers()
    {
        // A guard over an empty set would pass for nothing: the drivers the engine ships must be in it.
        var isolated = IsolatedAssemblies();
        Assert.Contains("Npgsql", isolated);
        Assert.Contains("MySqlConnector", isolated);
        Assert.Contains("Microsoft.Data.Sqlite", isolated);
        Assert.Contains("Microsoft.Data.SqlClient", isolated);
    }

    [Theory]
    [InlineData("KustomerSync.Cmdlets")]
    [InlineData("KustomerSync.Model")]
    public void An_assembly_of_the_default_context_references_no_isolated_dependency(string project)
    {
        var path = project == "KustomerSync.Model"
            ? Path.Combine(Built.RepoRoot, "src", project, "bin", Built.Configuration, "netstandard2.0", project + ".dll")
            : Built.Output(project, project + ".dll");
        var references = ReferencedAssemblies(path);
        Assert.Contains(references, r => r is "System.Runtime" or "netstandard");
        var isolated = IsolatedAssemblies();
        var crossing = references.Where(isolated.Contains).ToList();
        Assert.True(crossing.Count == 0,
            $"{project} references {string.Join(", ", crossing)}, which the engine's private load context holds; reach them through the engine instead (src/KustomerSync.Cmdlets/Loading/README.md).");
    }

    [Fact]
    public void The_model_references_neither_the_engine_nor_PowerShell()
    {
        // KustomerSync.Model is shared by both contexts, so it can depend on nothing that lives in only one of them.
        var references = ReferencedAssemblies(Path.Combine(Built.RepoRoot, "src", "KustomerSync.Model", "bin", Built.Configuration, "netstandard2.0", "KustomerSync.Model.dll"));
        Assert.DoesNotContain("KustomerSync.Engine", references);
        Assert.DoesNotContain("System.Management.Automation", references);
    }

    [Fact]
    public void The_engine_references_neither_the_cmdlets_nor_PowerShell()
    {
        var references = ReferencedAssemblies(Built.Output("KustomerSync.Engine", "KustomerSync.Engine.dll"));
        Assert.DoesNotContain("KustomerSync.Cmdlets", references);
        Assert.DoesNotContain("System.Management.Automation", references);
    }
}
