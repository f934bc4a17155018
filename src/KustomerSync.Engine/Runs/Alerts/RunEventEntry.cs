namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>The level, id and text of a run's event log entry; event ids are stable so monitoring can filter on them.</summary>
public sealed record RunEventEntry(RunEventLevel Level, int EventId, string Text)
{
    public const int SucceededId = 1000;
    public const int PartiallyFailedId = 1001;
    public const int FailedId = 1002;
    public const int RefusedId = 1003;
    public const int CancelledId = 1004;

    public static RunEventEntry For(RunReport report)
    {
        var (level, id) = report.Refused ? (RunEventLevel.Error, RefusedId) : report.Status switch
        {
            SyncRunStatus.Succeeded => (RunEventLevel.Information, SucceededId),
            SyncRunStatus.PartiallyFailed => (RunEventLevel.Warning, PartiallyFailedId),
            SyncRunStatus.Cancelled => (RunEventLevel.Warning, CancelledId),
            _ => (RunEventLevel.Error, FailedId),
        };
        var lines = new List<string> { report.Headline + ".", report.CountsLine };
        if (report.Message is not null) lines.Add(report.Message);
        if (report.ErrorId is not null) lines.Add("ErrorId: " + report.ErrorId);
        if (report.RunId is { } run) lines.Add($"Run {run} in the run history of sync '{report.Sync}'.");
        if (report.RejectedKeys.Count > 0) lines.Add("Rejected keys: " + string.Join(", ", report.RejectedKeys) + (report.Rejected > report.RejectedKeys.Count ? ", ..." : ""));
        return new RunEventEntry(level, id, string.Join(Environment.NewLine, lines));
    }
}

public enum RunEventLevel
{
    Information,
    Warning,
    Error,
}
