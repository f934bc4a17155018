using System.Text.RegularExpressions;

namespace KustomerSync.Architecture.Tests;

/// <summary>
/// PowerShell 7 gives a cmdlet run with -Debug alone the verbose preference Inquire, so a WriteVerbose call would prompt
/// at every line and fail a non-interactive scheduled task. Verbose lines go through KustomerCmdlet.Narrate, which
/// writes them only while verbose output is on.
/// </summary>
public class CmdletNarrationTests
{
    [Fact]
    public void No_cmdlet_calls_WriteVerbose_but_the_base_class()
    {
        var cmdlets = Path.Combine(Built.RepoRoot, "src", "KustomerSync.Cmdlets");
        var found = new List<string>();
        foreach (var file in Directory.GetFiles(cmdlets, "*.cs", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == "KustomerCmdlet.cs" || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
                if (Regex.IsMatch(lines[i], @"\bWriteVerbose\(")) found.Add($"{Path.GetRelativePath(Built.RepoRoot, file)}:{i + 1}");
        }
        Assert.True(found.Count == 0, "Write verbose lines with Narrate(...), not WriteVerbose:" + Environment.NewLine + string.Join(Environment.NewLine, found));
    }
}
