using System.Text.RegularExpressions;

namespace KustomerSync.Architecture.Tests;

/// <summary>
/// The engine's messages name concepts ("the mapping", "the behaviour UpdateOnly"), never a PowerShell parameter: a
/// .psd1 sync has no -Mapping. The cmdlets add the PowerShell advice (KustomerCmdlet.Advice).
/// </summary>
public class EngineMessageTests
{
    // A parameter is a dash and a capitalised word, not inside a word or a run of dashes (Get-Secret, -----BEGIN).
    private static readonly Regex Parameter = new(@"(?<![\w-])-[A-Z][a-z]+[A-Za-z]*", RegexOptions.Compiled);
    private static readonly Regex StringLiteral = new(@"\$?@?""(?:[^""\\]|\\.)*""", RegexOptions.Compiled);

    /// <summary>Values the engine parses, not messages.</summary>
    private static readonly string[] Allowed = { "-Infinity" };

    [Fact]
    public void No_engine_string_names_a_PowerShell_parameter()
    {
        var found = new List<string>();
        var engine = Path.Combine(Built.RepoRoot, "src", "KustomerSync.Engine");
        var files = Directory.GetFiles(engine, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal)) continue;
                foreach (Match literal in StringLiteral.Matches(lines[i]))
                    foreach (Match p in Parameter.Matches(literal.Value))
                        if (!Allowed.Contains(p.Value)) found.Add($"{Path.GetRelativePath(Built.RepoRoot, file)}:{i + 1}: {p.Value}");
            }
        }
        Assert.True(found.Count == 0, "Name the concept, and let the cmdlet add the parameter (KustomerCmdlet.Advice):" + Environment.NewLine + string.Join(Environment.NewLine, found));
    }
}
