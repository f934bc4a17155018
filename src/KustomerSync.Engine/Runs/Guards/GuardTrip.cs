namespace KustomerSync.Engine.Runs.Guards;

/// <summary>A guard that refused the run: which one, the figures, and what to do.</summary>
public sealed record GuardTrip(GuardKind Guard, string Message);
