namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>The parameter value that stands for the last successful run's start time ('$LastRunStart').</summary>
public sealed class LastRunStartToken
{
    public static readonly LastRunStartToken Instance = new();
    private LastRunStartToken() { }
    public override string ToString() => "$LastRunStart";
}
