namespace KustomerSync.Engine.State;

/// <summary>What a sync run records when it starts.</summary>
public sealed record SyncRunStart
{
    public string? Object { get; init; }
    public string? SyncKey { get; init; }
    public SyncBehavior Behavior { get; init; } = SyncBehavior.UpdateOrCreate;
    public bool WhatIf { get; init; }
    public bool FullSync { get; init; }
    public DateTime StartedUtc { get; init; } = DateTime.UtcNow;
}
