namespace KustomerSync.Engine.Sync;

/// <summary>How a run ended, as its driver saw it; the run history's status follows from it and the summary.</summary>
public enum RunEnding
{
    /// <summary>Every row was submitted and drained (rows may still have failed, or the run stopped for a fault).</summary>
    Completed,
    /// <summary>The caller stopped it (Ctrl+C); what Kustomer confirmed is kept.</summary>
    Cancelled,
    /// <summary>The input stopped part-way (a source or a computed value failed): Failed, without the keys-left check.</summary>
    Failed,
}
