namespace KustomerSync.Engine.Sync;

/// <summary>Where the dispatcher's workers send planned records: one at a time, or a batch through the bulk endpoints.</summary>
public interface IRecordWriter
{
    Task<UpsertResult> WriteAsync(PlannedRecord planned, CancellationToken cancellationToken);
    Task<IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)>> WriteBatchAsync(IReadOnlyList<PlannedRecord> batch, CancellationToken cancellationToken);
}

/// <summary>Writes to Kustomer through the single-record and (when the key can follow bulk jobs) the bulk executor.</summary>
internal sealed class KustomerWriter : IRecordWriter
{
    private readonly UpsertExecutor _single;
    private readonly BulkExecutor? _bulk;

    public KustomerWriter(UpsertExecutor single, BulkExecutor? bulk)
    {
        _single = single;
        _bulk = bulk;
    }

    public Task<UpsertResult> WriteAsync(PlannedRecord planned, CancellationToken cancellationToken) =>
        _single.ExecuteAsync(planned.Record, planned.KnownId, cancellationToken, planned.NeverSynced);

    public Task<IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)>> WriteBatchAsync(IReadOnlyList<PlannedRecord> batch, CancellationToken cancellationToken) =>
        (_bulk ?? throw new InvalidOperationException("This run writes one record per request.")).ExecuteAsync(batch, cancellationToken);
}
