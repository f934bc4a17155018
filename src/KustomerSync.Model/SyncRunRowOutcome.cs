namespace KustomerSync;

/// <summary>The recorded outcome of one input row of a sync run (Get-KustomerSyncRun -Rows).</summary>
public sealed class SyncRowOutcome
{
    public long RunId { get; set; }
    /// <summary>1-based position of the row in the run's input.</summary>
    public long Row { get; set; }
    public string? Key { get; set; }
    public UpsertStatus Status { get; set; }
    public string? KustomerId { get; set; }
    public string? ErrorId { get; set; }
    public string? Message { get; set; }

    public override string ToString() => $"#{RunId} row {Row} {Key} {Status}";
}
