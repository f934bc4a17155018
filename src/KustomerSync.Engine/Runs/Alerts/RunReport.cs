namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>
/// What an alert or an event log entry says about one run: counts, how it ended and why, and at most a few row keys.
/// Never row data beyond keys, never secrets: it is posted to chat channels and written to shared logs.
/// </summary>
public sealed record RunReport
{
    /// <summary>The most rejected keys a report names; the count says how many there were.</summary>
    public const int MaxKeys = 10;

    public string Sync { get; init; } = "";
    public string Object { get; init; } = "";
    public SyncRunStatus Status { get; init; }
    /// <summary>The guard that refused the run before any write, or null.</summary>
    public string? Guard { get; init; }
    public long? RunId { get; init; }
    public long Total { get; init; }
    public long Created { get; init; }
    public long Updated { get; init; }
    public long Unchanged { get; init; }
    public long Invalid { get; init; }
    public long Failed { get; init; }
    public long Requests { get; init; }
    public DateTime StartedUtc { get; init; }
    public DateTime EndedUtc { get; init; }
    public string Machine { get; init; } = Environment.MachineName;
    /// <summary>The run's error or its history message (already free of secrets), or null.</summary>
    public string? Message { get; init; }
    public string? ErrorId { get; init; }
    /// <summary>Keys of rejected rows, at most <see cref="MaxKeys"/>.</summary>
    public IReadOnlyList<string> RejectedKeys { get; init; } = Array.Empty<string>();

    public long Rejected => Invalid + Failed;
    public double RejectedShare => Total > 0 ? (double)Rejected / Total : 0;
    public bool Refused => Status == SyncRunStatus.Refused;

    public static RunReport From(string sync, UpsertSummary summary, SyncRunStatus status, DateTime startedUtc, DateTime endedUtc,
        string? message = null, string? errorId = null, string? guard = null, IEnumerable<string>? rejectedKeys = null) => new()
    {
        Sync = sync,
        Object = summary.Object,
        Status = status,
        Guard = guard,
        RunId = summary.RunId,
        Total = summary.Total,
        Created = summary.Created,
        Updated = summary.Updated,
        Unchanged = summary.Unchanged,
        Invalid = summary.Invalid,
        Failed = summary.Failed,
        Requests = summary.Requests,
        StartedUtc = startedUtc,
        EndedUtc = endedUtc,
        Message = message,
        ErrorId = errorId,
        RejectedKeys = (rejectedKeys ?? Array.Empty<string>()).Take(MaxKeys).ToArray(),
    };

    /// <summary>"customers: Failed on HOST: 1,200 rows, 3 created, ... (KustomerSync.X: message)".</summary>
    public string Headline
    {
        get
        {
            var how = Refused ? $"was refused by the {Guard ?? "run's"} guard{(Guard?.Contains(',') == true ? "s" : "")}" : Status switch
            {
                SyncRunStatus.Succeeded => "succeeded",
                SyncRunStatus.PartiallyFailed => $"completed with {Rejected:N0} rejected row{(Rejected == 1 ? "" : "s")}",
                SyncRunStatus.Cancelled => "was stopped",
                _ => "failed",
            };
            return $"KustomerSync '{Sync}' {how} on {Machine}";
        }
    }

    public string CountsLine =>
        $"{Total:N0} rows: {Created:N0} created, {Updated:N0} updated, {Unchanged:N0} unchanged, {Invalid:N0} invalid, {Failed:N0} failed ({Requests:N0} requests).";
}
