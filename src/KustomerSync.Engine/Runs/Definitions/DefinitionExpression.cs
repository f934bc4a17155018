namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>A computed mapping value written as a scriptblock in the definition: its text only. The host compiles it.</summary>
/// <param name="Text">The scriptblock's text, without the braces.</param>
/// <param name="Line">The line in the definition file where it starts (1-based; 0 when unknown).</param>
public sealed record DefinitionExpression(string Text, int Line)
{
    public override string ToString() => "{ " + Text.Trim() + " }";
}
