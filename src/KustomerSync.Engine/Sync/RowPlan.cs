using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>What the planner decided for one row: a result already (Invalid or Unchanged), or a record to write.</summary>
public sealed record RowPlan
{
    private RowPlan(UpsertResult? result, PlannedRecord? write, ValuedFields? learned)
    {
        Result = result;
        Write = write;
        Learned = learned;
    }

    /// <summary>The row's result when it needs no write; null when <see cref="Write"/> is set.</summary>
    public UpsertResult? Result { get; }
    public PlannedRecord? Write { get; }
    public bool IsInvalid => Result?.Status == UpsertStatus.Invalid;

    /// <summary>For an Unchanged row whose state did not know which fields held a value (a store from before they were kept): the fields, to remember.</summary>
    public ValuedFields? Learned { get; }

    public static RowPlan Decided(UpsertResult result, ValuedFields? learned = null) => new(result, null, learned);
    public static RowPlan ToWrite(PlannedRecord record) => new(null, record, null);
}
