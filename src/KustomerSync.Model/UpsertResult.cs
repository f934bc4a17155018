namespace KustomerSync;

/// <summary>The outcome of one input row of an upsert.</summary>
public sealed class UpsertResult
{
    /// <summary>1-based position of the row in the input.</summary>
    public long Row { get; set; }
    public string Object { get; set; } = "";
    /// <summary>The value of the sync key for this row (null when the row had none).</summary>
    public string? Key { get; set; }
    public UpsertStatus Status { get; set; }
    public string? KustomerId { get; set; }
    /// <summary>Why a row is Invalid or Failed; null otherwise.</summary>
    public string? Message { get; set; }
    /// <summary>The column or field the message is about, when there is one.</summary>
    public string? Field { get; set; }
    /// <summary>Stable error identifier (KustomerSync.*) for Invalid and Failed rows.</summary>
    public string? ErrorId { get; set; }
    public int Attempts { get; set; }
    /// <summary>The input object, so rejected rows can be piped onward.</summary>
    public object? InputObject { get; set; }

    public bool IsSuccess => Status is UpsertStatus.Created or UpsertStatus.Updated or UpsertStatus.Unchanged
        or UpsertStatus.WouldCreate or UpsertStatus.WouldUpdate;
}
