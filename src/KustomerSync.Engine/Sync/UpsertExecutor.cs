using System.Collections.Concurrent;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Writes one mapped record: look its key up, then update or create as the behaviour allows. A create whose answer
/// was lost, or that collided with a record created meanwhile, is resolved by looking the key up again, so a retry
/// never makes a duplicate. A key that search may not see (a custom attribute on records older than two years) is
/// created only when its absence is proven or the options allow creating on a search miss.
/// <para>Requests per row at the minimum: a key the state store says was never synced is created at once (one
/// request) where Kustomer refuses a second record with the key (customers by ExternalId or Email); a duplicate answer
/// falls back to the lookup and the update, so nothing depends on the state being complete, and when creates keep
/// colliding (a new state store over an org that already holds the records) the rest of the run looks up first.
/// A record the lookup returned that already holds the payload is not written (Unchanged).</para>
/// <para>A changed customer whose id is known is updated with one request where the mapping names no company: the
/// dispatcher reads such records ahead, 20 to a search (<see cref="ReadAheadAsync"/>), and a hit that shows the company
/// link, or the revision the state store's stamp remembers with its link, saves the read by id the update would need.
/// What Kustomer answered to each write is kept as the row's new stamp (<see cref="TakeStamp"/>).</para>
/// </summary>
public sealed class UpsertExecutor
{
    private readonly RecordGateway _records;
    private readonly ReferenceResolver _references;
    private readonly UpsertOptions _options;
    private readonly bool _mayCreateFirst;
    private int _createdFirst;
    private int _collided;
    private volatile bool _lookUpFirst;
    private readonly bool _keepStamps;
    private readonly ConcurrentDictionary<long, RecordStamp> _stamps = new();

    /// <summary>Collisions of creates sent first before the run may call them a pattern rather than a race.</summary>
    private const int CollisionsBeforeLookingFirst = 3;

    /// <param name="keepStamps">Keep what Kustomer answered to each write for <see cref="TakeStamp"/> (a run with a state store that writes).</param>
    public UpsertExecutor(RecordGateway records, ReferenceResolver references, UpsertOptions options, bool keepStamps = false)
    {
        _records = records;
        _references = references;
        _options = options;
        _mayCreateFirst = RecordGateway.KeyIsUnique(options.Target, options.Key) && options.Behavior != SyncBehavior.UpdateOnly;
        _keepStamps = keepStamps && options.Target.Kind == ObjectKind.Customer && !options.WhatIf;
    }

    /// <summary>Resolves the record's references to ids; the failed result when one names no record, else null.</summary>
    public async Task<UpsertResult?> ResolveReferencesAsync(MappedRecord record, CancellationToken cancellationToken)
    {
        if (record.References.Count == 0) return null;
        try
        {
            var problem = await _references.ApplyAsync(record, cancellationToken).ConfigureAwait(false);
            return problem is null ? null : RowResults.Fail(RowResults.For(record, _options), ErrorIds.ReferenceNotFound, problem,
                record.References.First(r => record.Payload[r.Field] is null).Column);
        }
        catch (KustomerException ex)
        {
            return RowResults.Fail(RowResults.For(record, _options), ex.ErrorId, $"Row {record.Input.Row} (key '{record.Key}'): {ex.Message}", null);
        }
    }

    /// <summary>
    /// True when writing the record reads it by its known id first: a customer update that must carry the company link
    /// (the mapping names none), or any plan of an update (WhatIf checks the record is still there).
    /// </summary>
    public bool ReadsFirst(PlannedRecord planned) =>
        planned.KnownId is not null && _options.Target.Kind == ObjectKind.Customer && _options.Behavior != SyncBehavior.CreateOnly &&
        (_options.WhatIf || RecordGateway.NeedsCompanyLink(_options.Target, planned.Record.Payload));

    /// <summary>
    /// Reads the records of rows that <see cref="ReadsFirst"/> through one search per 20 ids: for each row, the record as
    /// its write may take it, or null where the write must still read it by id. A hit serves a write when it shows the
    /// company link, or when it shows the revision and updatedAt the row's stamp remembers (the record is unchanged
    /// since, so the remembered link holds); a plan needs only the hit. Search is only the cheaper way: when it fails,
    /// every row is left to its own read.
    /// </summary>
    public async Task<IReadOnlyList<FoundRecord?>> ReadAheadAsync(IReadOnlyList<PlannedRecord> rows, CancellationToken cancellationToken)
    {
        var ready = new FoundRecord?[rows.Count];
        IReadOnlyList<FoundRecord> hits;
        try
        {
            hits = await _records.SearchByIdsAsync(rows.Select(r => r.KnownId!).ToList(), cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerException)
        {
            return ready;
        }
        var byId = new Dictionary<string, FoundRecord>(StringComparer.Ordinal);
        foreach (var hit in hits) byId[hit.Id] = hit;
        for (var i = 0; i < rows.Count; i++)
        {
            if (!byId.TryGetValue(rows[i].KnownId!, out var hit)) continue;
            if (_options.WhatIf || hit.CompanyKnown) ready[i] = hit;
            else if (rows[i].Stamp is { } stamp && stamp.Stamps(hit)) ready[i] = hit.WithRememberedLink(stamp);
        }
        return ready;
    }

    /// <summary>
    /// The stamp of what Kustomer answered to the row's write (its create, its update, or the record found already
    /// holding the payload), once; null when the answer showed none.
    /// </summary>
    public RecordStamp? TakeStamp(long row) => _stamps.TryRemove(row, out var stamp) ? stamp : null;

    /// <summary>
    /// Writes the record; <paramref name="knownId"/> (from the state store) saves the lookup, <paramref name="neverSynced"/>
    /// (the state store has no trace of the key) lets a create go first, and <paramref name="readAhead"/> (the known record as
    /// <see cref="ReadAheadAsync"/> found it) saves reading it by id.
    /// </summary>
    public async Task<UpsertResult> ExecuteAsync(MappedRecord record, string? knownId, CancellationToken cancellationToken, bool neverSynced = false,
        FoundRecord? readAhead = null)
    {
        if (await ResolveReferencesAsync(record, cancellationToken).ConfigureAwait(false) is { } unresolved) return unresolved;
        var result = RowResults.For(record, _options);
        try
        {
            if (knownId is null && neverSynced && _mayCreateFirst && !_lookUpFirst && !_options.WhatIf)
                return await CreateAsync(result, record, cancellationToken, first: true).ConfigureAwait(false);
            if (knownId is not null)
            {
                try
                {
                    // A plan must not promise an update of a record that is gone: WhatIf reads the remembered record (a write
                    // would find out by its 404).
                    var current = readAhead ?? (_options.WhatIf ? await _records.ReadAsync(knownId, cancellationToken).ConfigureAwait(false) : FoundRecord.ById(knownId));
                    return await UpdateExistingAsync(result, current, record, cancellationToken, lookedUp: false).ConfigureAwait(false);
                }
                catch (KustomerApiException gone) when (gone.Status == System.Net.HttpStatusCode.NotFound)
                {
                    // The remembered record was deleted or merged in Kustomer: find or create it afresh.
                    result.KustomerId = null;
                }
            }
            var found = await _records.FindAsync(record.Key, cancellationToken).ConfigureAwait(false);
            if (found is not null) return await UpdateExistingAsync(result, found, record, cancellationToken).ConfigureAwait(false);
            if (_options.Behavior == SyncBehavior.UpdateOnly)
                return RowResults.Fail(result, ErrorIds.RecordNotFound, $"No {_options.Target.DisplayName} " +
                    (await _records.MissIsProofAsync(cancellationToken).ConfigureAwait(false) ? "" : "that search can see (records updated in the last two years) ") +
                    $"has {_options.Key.DisplayName} '{record.Key}', and the behaviour UpdateOnly does not create records.", null);
            if (!_options.CreateOnSearchMiss && !await _records.MissIsProofAsync(cancellationToken).ConfigureAwait(false))
                return RowResults.Fail(result, ErrorIds.KeyNotProvablyAbsent,
                    $"Row {record.Input.Row} (key '{record.Key}'): no {_options.Target.DisplayName} that search can see has {_options.Key.DisplayName} '{record.Key}', " +
                    $"but Kustomer's search sees only records updated in the last two years and this org has older {_options.Target.DisplayName} records, " +
                    "so the record may exist and was not created (a duplicate could not be ruled out). Match by ExternalId or Email, keep a state store " +
                    "that knows the record's id, or allow creating on a search miss when no older record can hold the key.", _options.Key.FieldPath);
            if (_options.WhatIf) return RowResults.Done(result, UpsertStatus.WouldCreate, null);
            return await CreateAsync(result, record, cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerApiException ex)
        {
            return RowResults.Fail(result, ex.ErrorId, $"Row {record.Input.Row} (key '{record.Key}'): {ex.Detail}", RowResults.FieldFromPointer(ex.Pointer));
        }
        catch (KustomerException ex)
        {
            return RowResults.Fail(result, ex.ErrorId, $"Row {record.Input.Row} (key '{record.Key}'): {ex.Message}", null);
        }
    }

    private async Task<UpsertResult> UpdateExistingAsync(UpsertResult result, FoundRecord current, MappedRecord record, CancellationToken cancellationToken,
        bool lookedUp = true)
    {
        var id = current.Id;
        result.KustomerId = id;
        if (_options.Behavior == SyncBehavior.CreateOnly)
        {
            result.Message = "The record exists and the behaviour CreateOnly leaves existing records alone.";
            return RowResults.Done(result, UpsertStatus.Unchanged, id);
        }
        // Only a record the lookup returned is compared: a row the state store sends by its id has changed since the last
        // confirmed write, or is sent again on purpose (a full sync).
        if (lookedUp && RecordComparison.Holds(_options.Target, current, record.Payload))
        {
            result.Message = "Kustomer already holds these values; nothing was sent.";
            KeepStamp(record, current);
            return RowResults.Done(result, UpsertStatus.Unchanged, id);
        }
        if (_options.WhatIf) return RowResults.Done(result, UpsertStatus.WouldUpdate, id);
        result.Attempts++;
        KeepStamp(record, await _records.UpdateAsync(current, record.Payload, cancellationToken).ConfigureAwait(false));
        return RowResults.Done(result, UpsertStatus.Updated, id);
    }

    private void KeepStamp(MappedRecord record, FoundRecord? answered)
    {
        if (_keepStamps && answered is not null && RecordStamp.Of(answered) is { } stamp) _stamps[record.Input.Row] = stamp;
    }

    /// <summary>Creates the record; <paramref name="first"/>: sent before any lookup, on the state store's word that the key is new.</summary>
    private async Task<UpsertResult> CreateAsync(UpsertResult result, MappedRecord record, CancellationToken cancellationToken, bool first = false)
    {
        while (true)
        {
            result.Attempts++;
            try
            {
                var created = await _records.CreateAsync(record.Payload, _options.Backfill, cancellationToken).ConfigureAwait(false);
                if (first) Interlocked.Increment(ref _createdFirst);
                KeepStamp(record, created);
                return RowResults.Done(result, UpsertStatus.Created, created.Id);
            }
            catch (KustomerOutcomeUnknownException lost)
            {
                // The create may have been applied: look before posting again.
                var found = await _records.FindAsync(record.Key, cancellationToken).ConfigureAwait(false);
                if (found is not null) return RowResults.Done(result, UpsertStatus.Created, found.Id);
                if (result.Attempts >= _options.MaxCreateAttempts)
                    return RowResults.Fail(result, lost.ErrorId, $"Row {record.Input.Row} (key '{record.Key}'): Kustomer did not confirm the create after {result.Attempts} attempts ({lost.Message}).", null);
            }
            catch (KustomerApiException conflict) when (RecordGateway.IsConflict(conflict))
            {
                // A race on the same key (someone created it meanwhile), or a state store that does not know the record:
                // this row becomes an update. Creates sent first that collide more often than they succeed cost more
                // than lookups would: the rest of the run looks up first.
                if (first && Interlocked.Increment(ref _collided) >= CollisionsBeforeLookingFirst && Volatile.Read(ref _collided) > Volatile.Read(ref _createdFirst))
                    _lookUpFirst = true;
                first = false;
                var found = await _records.FindAsync(record.Key, cancellationToken).ConfigureAwait(false);
                if (found is not null && _options.Behavior != SyncBehavior.CreateOnly)
                    return await UpdateExistingAsync(result, found, record, cancellationToken).ConfigureAwait(false);
                if (found is not null)
                    return RowResults.Done(result, UpsertStatus.Unchanged, found.Id);
                // Another record holds some other unique value; Kustomer's error does not reliably say which (§11).
                var holder = await _records.FindHolderAsync(conflict, record.Payload, cancellationToken).ConfigureAwait(false);
                return RowResults.Fail(result, ErrorIds.Conflict, $"Row {record.Input.Row} (key '{record.Key}'): {conflict.Detail}" +
                    (holder is null ? "" : $" (held by record {holder})") + ".", RowResults.FieldFromPointer(conflict.Pointer));
            }
        }
    }
}
