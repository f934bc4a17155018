using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Writes one mapped record: look its key up, then update or create as the behaviour allows. A create whose answer
/// was lost, or that collided with a record created meanwhile, is resolved by looking the key up again, so a retry
/// never makes a duplicate. A key that search may not see (a custom attribute on records older than two years) is
/// created only when its absence is proven or the options allow creating on a search miss.
/// </summary>
public sealed class UpsertExecutor
{
    private readonly RecordGateway _records;
    private readonly ReferenceResolver _references;
    private readonly UpsertOptions _options;

    public UpsertExecutor(RecordGateway records, ReferenceResolver references, UpsertOptions options)
    {
        _records = records;
        _references = references;
        _options = options;
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

    /// <summary>Writes the record; <paramref name="knownId"/> (from the state store) saves the lookup.</summary>
    public async Task<UpsertResult> ExecuteAsync(MappedRecord record, string? knownId, CancellationToken cancellationToken)
    {
        if (await ResolveReferencesAsync(record, cancellationToken).ConfigureAwait(false) is { } unresolved) return unresolved;
        var result = RowResults.For(record, _options);
        try
        {
            if (knownId is not null)
            {
                try
                {
                    // A plan must not promise an update of a record that is gone: WhatIf reads the remembered record (a write
                    // would find out by its 404).
                    var current = _options.WhatIf ? await _records.ReadAsync(knownId, cancellationToken).ConfigureAwait(false) : FoundRecord.ById(knownId);
                    return await UpdateExistingAsync(result, current, record, cancellationToken).ConfigureAwait(false);
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

    private async Task<UpsertResult> UpdateExistingAsync(UpsertResult result, FoundRecord current, MappedRecord record, CancellationToken cancellationToken)
    {
        var id = current.Id;
        result.KustomerId = id;
        if (_options.Behavior == SyncBehavior.CreateOnly)
        {
            result.Message = "The record exists and the behaviour CreateOnly leaves existing records alone.";
            return RowResults.Done(result, UpsertStatus.Unchanged, id);
        }
        if (_options.WhatIf) return RowResults.Done(result, UpsertStatus.WouldUpdate, id);
        result.Attempts++;
        await _records.UpdateAsync(current, record.Payload, cancellationToken).ConfigureAwait(false);
        return RowResults.Done(result, UpsertStatus.Updated, id);
    }

    private async Task<UpsertResult> CreateAsync(UpsertResult result, MappedRecord record, CancellationToken cancellationToken)
    {
        while (true)
        {
            result.Attempts++;
            try
            {
                var id = await _records.CreateAsync(record.Payload, _options.Backfill, cancellationToken).ConfigureAwait(false);
                return RowResults.Done(result, UpsertStatus.Created, id);
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
                // A race on the same key: someone created it meanwhile, so this row becomes an update.
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
