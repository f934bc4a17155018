namespace KustomerSync.Engine.Runs.Guards;

/// <summary>The guards' thresholds; each can be turned off by setting it to null.</summary>
public sealed record GuardSettings
{
    public static GuardSettings Default { get; } = new();

    /// <summary>Refuse a run whose full-table source returns no rows when the sync has synced rows before (an incremental query may rightly return none).</summary>
    public bool RefuseEmptySource { get; init; } = true;

    /// <summary>A full-table source that returns less than this share of the last successful run's rows is refused (50 %).</summary>
    public double? MinSourceShare { get; init; } = 0.5;

    /// <summary>A run that would change more than this share of the records the sync knows is refused (25 %).</summary>
    public double? MaxChangeShare { get; init; } = 0.25;

    /// <summary>A run that would clear a field on more than this share of the records that had a value in it is refused (25 %).</summary>
    public double? MaxClearShare { get; init; } = 0.25;

    /// <summary>Shares are judged only over at least this many records, so small syncs and first runs are not refused for a handful of rows.</summary>
    public long MinRecordsToJudge { get; init; } = 100;
}
