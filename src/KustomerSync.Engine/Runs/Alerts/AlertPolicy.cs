namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>Which runs an alert is sent for.</summary>
public sealed record AlertPolicy
{
    /// <summary>The default share of rejected rows above which a completed run alerts: 5 %.</summary>
    public const double DefaultRejectedShare = 0.05;

    /// <summary>Alert when more than this share of the rows ended Invalid or Failed (0 alerts on any rejected row).</summary>
    public double RejectedShare { get; init; } = DefaultRejectedShare;

    /// <summary>Alert for successful runs too (a daily "it ran" message); off by default.</summary>
    public bool OnSuccess { get; init; }

    /// <summary>Failed and refused runs always alert; stopped runs (Ctrl+C, a host stop) do not: someone was there.</summary>
    public bool ShouldAlert(RunReport report) =>
        report.Refused
        || report.Status == SyncRunStatus.Failed
        || report.Status == SyncRunStatus.PartiallyFailed && (RejectedShare <= 0 ? report.Rejected > 0 : report.RejectedShare > RejectedShare)
        || OnSuccess && report.Status is SyncRunStatus.Succeeded or SyncRunStatus.PartiallyFailed;
}
