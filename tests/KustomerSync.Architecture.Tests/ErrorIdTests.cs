using System.Reflection;
using System.Text.RegularExpressions;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Architecture.Tests;

/// <summary>
/// The ErrorIds are a public contract: one class holds them all, each value is "KustomerSync." + its name, every id
/// the documentation names exists, and no "KustomerSync.&lt;Id&gt;" literal is written anywhere else in src/.
/// (tests/Pester/Help.Tests.ps1 checks the other way: every id has a cause and fix in about_KustomerSync.)
/// </summary>
public class ErrorIdTests
{
    private static readonly Dictionary<string, string> Ids = typeof(ErrorIds)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Each_id_is_KustomerSync_dot_its_name_and_unique()
    {
        Assert.True(Ids.Count > 40);
        Assert.All(Ids, id => Assert.Equal("KustomerSync." + id.Key, id.Value));
        Assert.Equal(Ids.Count, Ids.Values.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    /// <summary>Words after "KustomerSync." in the docs that are not ErrorIds: the projects, and the types users see.</summary>
    private static HashSet<string> NotIds()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in new[] { "src", "tests" })
            foreach (var dir in Directory.GetDirectories(Path.Combine(Built.RepoRoot, folder), "KustomerSync.*"))
                names.Add(Path.GetFileName(dir).Substring("KustomerSync.".Length).Split('.')[0]);
        foreach (var type in typeof(KustomerSync.UpsertResult).Assembly.GetExportedTypes()) names.Add(type.Name);
        return names;
    }

    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string> { "README.md", "module/en-US/about_KustomerSync.help.txt" };
        foreach (var file in Directory.GetFiles(Path.Combine(Built.RepoRoot, "docs"), "*.md", SearchOption.AllDirectories))
            data.Add(Path.GetRelativePath(Built.RepoRoot, file).Replace('\\', '/'));
        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_id_a_document_names_exists(string document)
    {
        var text = File.ReadAllText(Path.Combine(Built.RepoRoot, document));
        var notIds = NotIds();
        // "KustomerSync.Source*" is a family, "KustomerSync.Format.ps1xml" a file, "src/KustomerSync.Engine/" a folder.
        var named = Regex.Matches(text, @"(?<![\w/.])KustomerSync\.([A-Z][A-Za-z]+)(?![\w*/]|\.[A-Za-z])")
            .Select(m => m.Groups[1].Value)
            .Where(name => !notIds.Contains(name))
            .Distinct()
            .ToList();
        var unknown = named.Where(name => !Ids.ContainsKey(name)).ToList();
        Assert.True(unknown.Count == 0, $"{document} names ErrorIds that KustomerSync does not raise: {string.Join(", ", unknown.Select(n => "KustomerSync." + n))}.");
    }

    [Fact]
    public void No_id_is_written_outside_the_ErrorIds_class()
    {
        var constants = Path.Combine(Built.RepoRoot, "src", "KustomerSync.Engine", "Diagnostics", "ErrorIds.cs");
        var notIds = NotIds();
        var found = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Built.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file == constants || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") ||
                file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal)) continue;
                foreach (Match m in Regex.Matches(lines[i], @"""[^""]*\bKustomerSync\.([A-Z][A-Za-z]+)\b"))
                {
                    if (!notIds.Contains(m.Groups[1].Value))
                        found.Add($"{Path.GetRelativePath(Built.RepoRoot, file)}:{i + 1}: KustomerSync.{m.Groups[1].Value}");
                }
            }
        }
        Assert.True(found.Count == 0, "Use the ErrorIds constant instead of the literal:" + Environment.NewLine + string.Join(Environment.NewLine, found));
    }
}
