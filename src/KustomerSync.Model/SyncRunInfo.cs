namespace KustomerSync;

/// <summary>How a sync run ended.</summary>
public enum SyncRunStatus
{
    /// <summary>Started and not finished (still running, or the process died: see <see cref="SyncRunInfo.Ended"/>).</summary>
    Running,
    /// <summary>Every row Created, Updated or Unchanged (or WouldCreate/WouldUpdate under -WhatIf).</summary>
    Succeeded,
    /// <summary>The run completed but some rows ended Invalid or Failed.</summary>
    PartiallyFailed,
    /// <summary>The run stopped on an error that concerned all rows (source, key, state store).</summary>
    Failed,
    /// <summary>Stopped by the user (Ctrl+C) or the host; what was confirmed is kept.</summary>
    Cancelled,
    /// <summary>A guard against a broken source refused the run before any write (ErrorId KustomerSync.GuardTripped); nothing was sent.</summary>
    Refused,
}

/// <summary>One run of a sync, from the run history of a state store (Get-KustomerSyncRun).</summary>
public sealed class SyncRunInfo
{
    public string Sync { get; set; } = "";
    public long RunId { get; set; }
    public string? Object { get; set; }
    public string? SyncKey { get; set; }
    public string? Behavior { get; set; }
    public bool WhatIf { get; set; }
    /// <summary>True when -FullSync ignored the stored hashes for this run.</summary>
    public bool FullSync { get; set; }
    public DateTime Started { get; set; }
    public DateTime? Ended { get; set; }
    public SyncRunStatus Status { get; set; }
    public long Total { get; set; }
    public long Created { get; set; }
    public long Updated { get; set; }
    public long Unchanged { get; set; }
    public long Invalid { get; set; }
    public long Failed { get; set; }
    public long WouldCreate { get; set; }
    public long WouldUpdate { get; set; }
    /// <summary>HTTP requests sent to Kustomer.</summary>
    public long Requests { get; set; }
    /// <summary>Keys that had left the source since the previous run (null when the run did not check).</summary>
    public long? KeysLeft { get; set; }
    /// <summary>Where the run ran: machine name and process id.</summary>
    public string? Machine { get; set; }
    public int? ProcessId { get; set; }
    /// <summary>Why the run failed or was cancelled, when it did.</summary>
    public string? Message { get; set; }

    public TimeSpan? Duration => Ended is { } ended ? ended - Started : null;

    /// <summary>The status a finished run gets from its summary: Cancelled, Failed (fatal error), PartiallyFailed (some rows Invalid or Failed) or Succeeded.</summary>
    public static SyncRunStatus StatusFor(UpsertSummary summary, bool fatal)
    {
        if (summary.Cancelled) return SyncRunStatus.Cancelled;
        if (fatal) return SyncRunStatus.Failed;
        return summary.Failed + summary.Invalid > 0 ? SyncRunStatus.PartiallyFailed : SyncRunStatus.Succeeded;
    }

    public override string ToString() => $"{Sync} #{RunId} {Status}";
}
