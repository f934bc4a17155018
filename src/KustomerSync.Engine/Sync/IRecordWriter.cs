using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>Where the dispatcher's workers send planned records: one at a time, or a batch through the bulk endpoints.</summary>
public interface IRecordWriter
{
    /// <summary>True when writing the row on its own reads its record first, so the dispatcher reads several such rows ahead at once.</summary>
    bool ReadsFirst(PlannedRecord planned);

    /// <summary>The records of rows that <see cref="ReadsFirst"/>, read together: one per row, null where the row's write must read its own.</summary>
    Task<IReadOnlyList<FoundRecord?>> ReadAheadAsync(IReadOnlyList<PlannedRecord> rows, CancellationToken cancellationToken);

    /// <summary>Writes one row; <paramref name="readAhead"/> is its record from <see cref="ReadAheadAsync"/>, when that found it.</summary>
    Task<UpsertResult> WriteAsync(PlannedRecord planned, FoundRecord? readAhead, CancellationToken cancellationToken);

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

    public bool ReadsFirst(PlannedRecord planned) => _single.ReadsFirst(planned);

    public Task<IReadOnlyList<FoundRecord?>> ReadAheadAsync(IReadOnlyList<PlannedRecord> rows, CancellationToken cancellationToken) =>
        _single.ReadAheadAsync(rows, cancellationToken);

    public Task<UpsertResult> WriteAsync(PlannedRecord planned, FoundRecord? readAhead, CancellationToken cancellationToken) =>
        _single.ExecuteAsync(planned.Record, planned.KnownId, cancellationToken, planned.NeverSynced, readAhead);

    public Task<IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)>> WriteBatchAsync(IReadOnlyList<PlannedRecord> batch, CancellationToken cancellationToken) =>
        (_bulk ?? throw new InvalidOperationException("This run writes one record per request.")).ExecuteAsync(batch, cancellationToken);
}
