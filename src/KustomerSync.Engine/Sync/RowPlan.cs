namespace KustomerSync.Engine.Sync;

/// <summary>What the planner decided for one row: a result already (Invalid or Unchanged), or a record to write.</summary>
public sealed class RowPlan
{
    private RowPlan(UpsertResult? result, PlannedRecord? write)
    {
        Result = result;
        Write = write;
    }

    /// <summary>The row's result when it needs no write; null when <see cref="Write"/> is set.</summary>
    public UpsertResult? Result { get; }
    public PlannedRecord? Write { get; }
    public bool IsInvalid => Result?.Status == UpsertStatus.Invalid;

    public static RowPlan Decided(UpsertResult result) => new(result, null);
    public static RowPlan ToWrite(PlannedRecord record) => new(null, record);
}
