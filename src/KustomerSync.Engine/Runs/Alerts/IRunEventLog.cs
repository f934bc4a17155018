namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>
/// The system's log of runs: on Windows, the Application event log (source KustomerSync). An interface, so the
/// entries a run writes can be checked where there is no event log.
/// </summary>
public interface IRunEventLog
{
    /// <summary>Writes one entry for the run; returns null when written, else why it was skipped (never throws).</summary>
    string? Write(RunReport report);
}
