using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Writes a batch of up to 100 records through Kustomer's bulk endpoints: one request (one unit of the rate budget)
/// instead of one per record.
/// <list type="bullet">
/// <item>Records whose Kustomer id is known are updated in one bulk PUT.</item>
/// <item>Customers keyed by ExternalId or Email are created first: Kustomer rejects a second record with the same
/// identifier ("duplicate detected"), and only those are looked up and updated. Other keys are not unique in Kustomer,
/// so their records are looked up before anything is created.</item>
/// <item>A request rejected whole (400, 413) is split in halves until the bad record stands alone.</item>
/// <item>A create whose submission answer was lost, or an item the job did not report, goes through the
/// single-record path, which looks the key up before creating: a retry never makes a duplicate.</item>
/// </list>
/// </summary>
public sealed class BulkExecutor
{
    private const int LookupConcurrency = 8;
    private readonly RecordGateway _records;
    private readonly BulkGateway _bulk;
    private readonly UpsertExecutor _single;
    private readonly UpsertOptions _options;
    private readonly bool _createFirst;

    public BulkExecutor(RecordGateway records, BulkGateway bulk, UpsertExecutor single, UpsertOptions options)
    {
        _records = records;
        _bulk = bulk;
        _single = single;
        _options = options;
        _createFirst = options.Target.Kind == "customer" && options.Key.Kind is SyncKeyKind.ExternalId or SyncKeyKind.Email
            && options.Behavior != SyncBehavior.UpdateOnly;
    }

    public async Task<IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)>> ExecuteAsync(IReadOnlyList<PlannedRecord> batch, CancellationToken cancellationToken)
    {
        var done = new List<(PlannedRecord, UpsertResult)>(batch.Count);
        batch = await ResolveReferencesAsync(batch, done, cancellationToken).ConfigureAwait(false);
        var updates = new List<(PlannedRecord Planned, string Id)>();
        var creates = new List<PlannedRecord>();
        var single = new List<(PlannedRecord Planned, string? KnownId)>();

        foreach (var planned in batch)
        {
            if (planned.KnownId is null) continue;
            if (_options.Behavior == SyncBehavior.CreateOnly) done.Add((planned, Exists(planned, planned.KnownId)));
            else updates.Add((planned, planned.KnownId));
        }
        var unknown = batch.Where(p => p.KnownId is null).ToList();
        if (_createFirst) creates.AddRange(unknown);
        else await ResolveAsync(unknown, updates, creates, done, cancellationToken).ConfigureAwait(false);

        if (creates.Count > 0)
        {
            var duplicates = new List<PlannedRecord>();
            await SubmitAsync(create: true, creates.Select(p => (p, (string?)null)).ToList(), done, single, duplicates, cancellationToken).ConfigureAwait(false);
            // Created meanwhile or before: the identifier is taken, so these records exist and become updates.
            await ResolveAsync(duplicates, updates, creates: null, done, cancellationToken).ConfigureAwait(false);
        }
        if (updates.Count > 0)
            await SubmitAsync(create: false, updates.Select(u => (u.Planned, (string?)u.Id)).ToList(), done, single, duplicates: null, cancellationToken).ConfigureAwait(false);

        var fallbacks = single.Select(async s => (s.Planned, await _single.ExecuteAsync(s.Planned.Record, s.KnownId, cancellationToken).ConfigureAwait(false)));
        done.AddRange(await Task.WhenAll(fallbacks).ConfigureAwait(false));
        return done;
    }

    /// <summary>The records whose references all resolved; the others are failed into <paramref name="done"/>.</summary>
    private async Task<IReadOnlyList<PlannedRecord>> ResolveReferencesAsync(IReadOnlyList<PlannedRecord> batch, List<(PlannedRecord, UpsertResult)> done,
        CancellationToken cancellationToken)
    {
        if (batch.All(p => p.Record.References.Count == 0)) return batch;
        var resolved = new List<PlannedRecord>(batch.Count);
        foreach (var planned in batch)
        {
            // The resolver caches each distinct key, so a batch naming the same company costs one lookup.
            var failed = await _single.ResolveReferencesAsync(planned.Record, cancellationToken).ConfigureAwait(false);
            if (failed is null) resolved.Add(planned);
            else done.Add((planned, failed));
        }
        return resolved;
    }

    /// <summary>Looks keys up (a few at a time): found ones become updates, missing ones creates, as the behaviour allows.</summary>
    private async Task ResolveAsync(List<PlannedRecord> records, List<(PlannedRecord, string)> updates, List<PlannedRecord>? creates,
        List<(PlannedRecord, UpsertResult)> done, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(LookupConcurrency);
        var lookups = records.Select(async planned =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return (planned, id: await _records.FindIdAsync(planned.Record.Key, cancellationToken).ConfigureAwait(false), error: (KustomerException?)null);
            }
            catch (KustomerException ex)
            {
                return (planned, id: (string?)null, error: ex);
            }
            finally
            {
                gate.Release();
            }
        });
        foreach (var (planned, id, error) in await Task.WhenAll(lookups).ConfigureAwait(false))
        {
            if (error is not null) done.Add((planned, Failed(planned, error)));
            else if (id is not null && _options.Behavior == SyncBehavior.CreateOnly) done.Add((planned, Exists(planned, id)));
            else if (id is not null) updates.Add((planned, id));
            else if (_options.Behavior == SyncBehavior.UpdateOnly)
                done.Add((planned, RowResults.Fail(RowResults.For(planned.Record, _options), "KustomerSync.RecordNotFound",
                    $"No {_options.Target.DisplayName} has {_options.Key.DisplayName} '{planned.Record.Key}', and -Behavior UpdateOnly does not create records.", null)));
            else if (creates is not null) creates.Add(planned);
            else done.Add((planned, RowResults.Fail(RowResults.For(planned.Record, _options), "KustomerSync.Conflict",
                $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): Kustomer reported the key as taken, but no record has it.", null)));
        }
    }

    private async Task SubmitAsync(bool create, List<(PlannedRecord Planned, string? Id)> items, List<(PlannedRecord, UpsertResult)> done,
        List<(PlannedRecord, string?)> single, List<PlannedRecord>? duplicates, CancellationToken cancellationToken)
    {
        for (var start = 0; start < items.Count; start += BulkGateway.MaxItems)
        {
            var chunk = items.GetRange(start, Math.Min(BulkGateway.MaxItems, items.Count - start));
            await SubmitChunkAsync(create, chunk, done, single, duplicates, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SubmitChunkAsync(bool create, List<(PlannedRecord Planned, string? Id)> items, List<(PlannedRecord, UpsertResult)> done,
        List<(PlannedRecord, string?)> single, List<PlannedRecord>? duplicates, CancellationToken cancellationToken)
    {
        var body = new JsonArray();
        foreach (var (planned, id) in items)
        {
            var item = (JsonObject)RecordGateway.UpdatableBody(_options.Target, planned.Record.Payload, forUpdate: !create).DeepClone();
            if (id is not null) item["id"] = id;
            item["_clientRef"] = planned.ClientRef;
            body.Add(item);
        }

        IReadOnlyDictionary<string, BulkItemResult> results;
        try
        {
            results = await _bulk.RunAsync(create, body, cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerApiException rejected) when (BulkGateway.IsWholeRequestRejection(rejected))
        {
            if (items.Count == 1)
            {
                var planned = items[0].Planned;
                done.Add((planned, RowResults.Fail(RowResults.For(planned.Record, _options), rejected.ErrorId,
                    $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): {rejected.Detail}", RowResults.FieldFromPointer(StripIndex(rejected.Pointer)))));
                return;
            }
            var half = items.Count / 2;
            await SubmitChunkAsync(create, items.GetRange(0, half), done, single, duplicates, cancellationToken).ConfigureAwait(false);
            await SubmitChunkAsync(create, items.GetRange(half, items.Count - half), done, single, duplicates, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (KustomerOutcomeUnknownException)
        {
            single.AddRange(items.Select(i => (i.Planned, i.Id)));
            return;
        }

        foreach (var (planned, id) in items)
        {
            if (!results.TryGetValue(planned.ClientRef, out var outcome))
            {
                single.Add((planned, id));
                continue;
            }
            var result = RowResults.For(planned.Record, _options);
            result.Attempts = 1;
            if (outcome.Succeeded)
                done.Add((planned, RowResults.Done(result, create ? UpsertStatus.Created : UpsertStatus.Updated, outcome.ObjectId ?? id)));
            else if (create && outcome.IsDuplicate && duplicates is not null && _createFirst)
                duplicates.Add(planned);
            else if (!create && outcome.IsNotFound)
                single.Add((planned, null));
            else
                done.Add((planned, RowResults.Fail(result, outcome.IsDuplicate ? "KustomerSync.Conflict" : "KustomerSync.Rejected",
                    $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): {outcome.Error}", null)));
        }
    }

    private UpsertResult Exists(PlannedRecord planned, string id)
    {
        var result = RowResults.Done(RowResults.For(planned.Record, _options), UpsertStatus.Unchanged, id);
        result.Message = "The record exists and -Behavior CreateOnly leaves existing records alone.";
        return result;
    }

    private UpsertResult Failed(PlannedRecord planned, KustomerException error) =>
        RowResults.Fail(RowResults.For(planned.Record, _options), error.ErrorId,
            $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): {(error is KustomerApiException api ? api.Detail : error.Message)}", null);

    /// <summary>A bulk error pointer starts with the item's index (/3/custom/ageNum); the field is the rest.</summary>
    private static string? StripIndex(string? pointer)
    {
        if (string.IsNullOrEmpty(pointer)) return pointer;
        var parts = pointer!.TrimStart('/').Split('/');
        return parts.Length > 1 && int.TryParse(parts[0], out _) ? "/" + string.Join("/", parts.Skip(1)) : pointer;
    }
}
