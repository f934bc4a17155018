namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>What '$LastRunStart' becomes after a run that rejected rows.</summary>
public enum StateWatermark
{
    /// <summary>The start of the last run in which every row succeeded: rejected rows are read again until they succeed.</summary>
    LastSuccessfulRun,

    /// <summary>
    /// The start of each run that completed, rejected rows or not; the rows that failed at Kustomer are kept in the
    /// state store and sent again by the next runs (<see cref="StateDefinition.RetryRuns"/> at most).
    /// </summary>
    AdvanceAndRetry,
}
