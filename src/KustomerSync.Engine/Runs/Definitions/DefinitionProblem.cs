namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>One mistake in a definition, with the setting it concerns (e.g. Destination.ApiKeyEnvironmentVariable).</summary>
public sealed record DefinitionProblem(string Setting, string Message)
{
    public override string ToString() => Setting.Length == 0 ? Message : Setting + ": " + Message;
}
