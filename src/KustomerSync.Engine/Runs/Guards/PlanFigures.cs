namespace KustomerSync.Engine.Runs.Guards;

/// <summary>What a planned run would do, counted before any write: the figures the guards judge.</summary>
public sealed record PlanFigures
{
    /// <summary>Rows the source returned.</summary>
    public long Rows { get; init; }

    /// <summary>Rows the last successful run read, or null when there was none.</summary>
    public long? LastSuccessfulRows { get; init; }

    /// <summary>True when the source returns the whole table each run, so its size can be compared between runs (not an incremental query).</summary>
    public bool FullSource { get; init; }

    /// <summary>Records the sync's state knows (synced before).</summary>
    public long KnownRecords { get; init; }

    /// <summary>Known records the run would update (changed payloads).</summary>
    public long Changes { get; init; }

    /// <summary>Per field: how many known records had a value in it last time, and how many of those the run would clear.</summary>
    public IReadOnlyDictionary<string, FieldClearing> Fields { get; init; } = new Dictionary<string, FieldClearing>();
}

/// <summary>Of the known records in a run that had a value in one field, how many the run would set to null.</summary>
public readonly record struct FieldClearing(long HadValue, long Cleared);
