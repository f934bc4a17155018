using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>A definition that cannot run: every problem found, at once.</summary>
public sealed class DefinitionException : KustomerSyncException
{
    /// <param name="errorId">ErrorIds.InvalidDefinition (the file), or ErrorIds.SecretUnavailable (a named secret could not be read).</param>
    public DefinitionException(string path, IReadOnlyList<DefinitionProblem> problems, string errorId = ErrorIds.InvalidDefinition)
        : base(errorId, Format(path, problems))
    {
        Path = path;
        Problems = problems;
    }

    public string Path { get; }
    public IReadOnlyList<DefinitionProblem> Problems { get; }

    private static string Format(string path, IReadOnlyList<DefinitionProblem> problems) =>
        $"The sync definition '{path}' has {problems.Count} problem{(problems.Count == 1 ? "" : "s")}:" + Environment.NewLine +
        string.Join(Environment.NewLine, problems.Select(p => "  - " + p));
}
