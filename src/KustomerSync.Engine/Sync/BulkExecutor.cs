using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Writes a batch of records through Kustomer's bulk endpoints: one request (one unit of the rate budget) per up to
/// 100 records and 90 KB, instead of one per record.
/// <list type="bullet">
/// <item>Records whose Kustomer id is known are updated in bulk PUTs; a customer update carries the customer's current
/// company unless the mapping names one, since an item without it unlinks the company (§4.2).</item>
/// <item>Customers keyed by ExternalId or Email are created first: Kustomer rejects a second record with the same
/// identifier ("duplicate detected"), and only those are looked up and updated. Other keys are not unique in Kustomer,
/// so their records are looked up before anything is created.</item>
/// <item>Results are matched by _clientRef where Kustomer documents it; elsewhere updates by the ids each batch lists,
/// and KObject creates by looking their externalIds up once the job is done. A result that cannot be tied to its item
/// is never taken as done.</item>
/// <item>A request rejected whole (400, 413) is split in halves until the bad record stands alone; that record, one too
/// big for any bulk request, a create whose submission answer was lost and an item the job did not report go through
/// the single-record path, which looks the key up before creating: a retry never makes a duplicate.</item>
/// </list>
/// </summary>
public sealed class BulkExecutor
{
    private const int LookupConcurrency = 8;
    private readonly RecordGateway _records;
    private readonly BulkGateway _bulk;
    private readonly UpsertExecutor _single;
    private readonly UpsertOptions _options;
    private readonly bool _keyIsUnique;
    private readonly bool _createFirst;

    public BulkExecutor(RecordGateway records, BulkGateway bulk, UpsertExecutor single, UpsertOptions options)
    {
        _records = records;
        _bulk = bulk;
        _single = single;
        _options = options;
        _keyIsUnique = options.Target.Kind == "customer" && options.Key.Kind is SyncKeyKind.ExternalId or SyncKeyKind.Email;
        _createFirst = _keyIsUnique && options.Behavior != SyncBehavior.UpdateOnly;
    }

    /// <summary>One batch's bookkeeping: rows settled, rows for the single-record path, and companies to keep.</summary>
    private sealed class Work
    {
        public readonly List<(PlannedRecord, UpsertResult)> Done = new();
        public readonly List<(PlannedRecord Planned, string? KnownId)> Single = new();
        public readonly Dictionary<string, string?> Companies = new(StringComparer.Ordinal);
    }

    private sealed record Item(PlannedRecord Planned, string? Id, JsonObject Body);

    public async Task<IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)>> ExecuteAsync(IReadOnlyList<PlannedRecord> batch, CancellationToken cancellationToken)
    {
        var work = new Work();
        batch = await ResolveReferencesAsync(batch, work.Done, cancellationToken).ConfigureAwait(false);
        var updates = new List<(PlannedRecord Planned, string Id)>();
        var creates = new List<PlannedRecord>();

        foreach (var planned in batch)
        {
            if (planned.KnownId is null) continue;
            if (_options.Behavior == SyncBehavior.CreateOnly) work.Done.Add((planned, Exists(planned, planned.KnownId)));
            else updates.Add((planned, planned.KnownId));
        }
        var unknown = batch.Where(p => p.KnownId is null).ToList();
        if (_createFirst) creates.AddRange(unknown);
        else await ResolveAsync(unknown, updates, creates, work.Done, cancellationToken).ConfigureAwait(false);

        if (creates.Count > 0)
        {
            var duplicates = new List<PlannedRecord>();
            await SubmitAsync(create: true, creates.Select(p => (p, (string?)null)).ToList(), work, duplicates, cancellationToken).ConfigureAwait(false);
            // Created meanwhile or before: the identifier is taken, so these records exist and become updates.
            await ResolveAsync(duplicates, updates, creates: null, work.Done, cancellationToken).ConfigureAwait(false);
        }
        if (updates.Count > 0)
        {
            var ready = await KeepCompaniesAsync(updates, work, cancellationToken).ConfigureAwait(false);
            await SubmitAsync(create: false, ready.Select(u => (u.Planned, (string?)u.Id)).ToList(), work, duplicates: null, cancellationToken).ConfigureAwait(false);
        }

        var fallbacks = work.Single.Select(async s => (s.Planned, await _single.ExecuteAsync(s.Planned.Record, s.KnownId, cancellationToken).ConfigureAwait(false)));
        work.Done.AddRange(await Task.WhenAll(fallbacks).ConfigureAwait(false));
        return work.Done;
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

    /// <summary>Looks keys up, a few at a time.</summary>
    private async Task<(PlannedRecord Planned, string? Id, KustomerException? Error)[]> LookUpAsync(IEnumerable<PlannedRecord> records, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(LookupConcurrency);
        return await Task.WhenAll(records.Select(async planned =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return (planned, await _records.FindIdAsync(planned.Record.Key, cancellationToken).ConfigureAwait(false), (KustomerException?)null);
            }
            catch (KustomerException ex)
            {
                return (planned, (string?)null, ex);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Found keys become updates, missing ones creates, as the behaviour allows.</summary>
    private async Task ResolveAsync(List<PlannedRecord> records, List<(PlannedRecord, string)> updates, List<PlannedRecord>? creates,
        List<(PlannedRecord, UpsertResult)> done, CancellationToken cancellationToken)
    {
        foreach (var (planned, id, error) in await LookUpAsync(records, cancellationToken).ConfigureAwait(false))
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

    /// <summary>
    /// Customer updates whose mapping names no company, with each customer's current company noted in
    /// <see cref="Work.Companies"/>; a customer that no longer exists goes to the single path, which finds or creates it.
    /// </summary>
    private async Task<List<(PlannedRecord Planned, string Id)>> KeepCompaniesAsync(List<(PlannedRecord Planned, string Id)> updates, Work work,
        CancellationToken cancellationToken)
    {
        if (_options.Target.Kind != "customer") return updates;
        var unknown = updates.Where(u => NeedsCompany(u.Planned) && !work.Companies.ContainsKey(u.Id)).Select(u => u.Id).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0) return updates;
        IReadOnlyDictionary<string, string?> found;
        try
        {
            found = await _bulk.CompaniesOfAsync(unknown, cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerException)
        {
            // Without the current company a bulk item would unlink it; the single path reads it for each record.
            work.Single.AddRange(updates.Where(u => NeedsCompany(u.Planned) && !work.Companies.ContainsKey(u.Id)).Select(u => (u.Planned, (string?)u.Id)));
            return updates.Where(u => !NeedsCompany(u.Planned) || work.Companies.ContainsKey(u.Id)).ToList();
        }
        foreach (var pair in found) work.Companies[pair.Key] = pair.Value;
        var ready = new List<(PlannedRecord, string)>(updates.Count);
        foreach (var update in updates)
        {
            if (!NeedsCompany(update.Planned) || work.Companies.ContainsKey(update.Id)) ready.Add(update);
            else work.Single.Add((update.Planned, null));
        }
        return ready;
    }

    private bool NeedsCompany(PlannedRecord planned) => _options.Target.Kind == "customer" && !planned.Record.Payload.ContainsKey("company");

    private JsonObject BodyFor(bool create, PlannedRecord planned, string? id, Work work)
    {
        var body = (JsonObject)RecordGateway.UpdatableBody(_options.Target, planned.Record.Payload, forUpdate: !create).DeepClone();
        if (id is not null)
        {
            body["id"] = id;
            if (NeedsCompany(planned) && work.Companies.TryGetValue(id, out var company) && company is not null) body["company"] = company;
        }
        if (_bulk.TakesClientRef(create)) body["_clientRef"] = planned.ClientRef;
        return body;
    }

    /// <summary>Sends the items in requests of at most 100 items and <see cref="BulkGateway.MaxBodyBytes"/>.</summary>
    private async Task SubmitAsync(bool create, List<(PlannedRecord Planned, string? Id)> items, Work work, List<PlannedRecord>? duplicates,
        CancellationToken cancellationToken)
    {
        const int brackets = 2;
        var chunk = new List<Item>();
        var bytes = brackets;
        foreach (var (planned, id) in items)
        {
            var body = BodyFor(create, planned, id, work);
            var size = BulkGateway.SizeOf(body);
            if (size + brackets > BulkGateway.MaxBodyBytes)
            {
                // Too big for any bulk request: the single endpoint takes it if it is under its own limit, or says it is too large.
                work.Single.Add((planned, id));
                continue;
            }
            if (chunk.Count == BulkGateway.MaxItems || bytes + size > BulkGateway.MaxBodyBytes)
            {
                await SubmitChunkAsync(create, chunk, work, duplicates, cancellationToken).ConfigureAwait(false);
                chunk = new List<Item>();
                bytes = brackets;
            }
            chunk.Add(new Item(planned, id, body));
            bytes += size;
        }
        if (chunk.Count > 0) await SubmitChunkAsync(create, chunk, work, duplicates, cancellationToken).ConfigureAwait(false);
    }

    private async Task SubmitChunkAsync(bool create, List<Item> items, Work work, List<PlannedRecord>? duplicates, CancellationToken cancellationToken)
    {
        BulkJobResult results;
        try
        {
            results = await _bulk.RunAsync(create, new JsonArray(items.Select(i => (JsonNode)i.Body.DeepClone()).ToArray()), cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerApiException rejected) when (BulkGateway.IsWholeRequestRejection(rejected))
        {
            if (items.Count == 1)
            {
                // A bulk endpoint's verdict on a lone item is not the last word: the single endpoint may take it, or say precisely why not.
                work.Single.Add((items[0].Planned, items[0].Id));
                return;
            }
            var half = items.Count / 2;
            await SubmitChunkAsync(create, items.GetRange(0, half), work, duplicates, cancellationToken).ConfigureAwait(false);
            await SubmitChunkAsync(create, items.GetRange(half, items.Count - half), work, duplicates, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (KustomerOutcomeUnknownException)
        {
            work.Single.AddRange(items.Select(i => (i.Planned, i.Id)));
            return;
        }

        if (_bulk.TakesClientRef(create)) MatchByClientRef(create, items, results, work, duplicates);
        else if (!create) MatchUpdatesById(items, results, work);
        else await ConfirmCreatesAsync(items, results, work, cancellationToken).ConfigureAwait(false);
    }

    private void MatchByClientRef(bool create, List<Item> items, BulkJobResult results, Work work, List<PlannedRecord>? duplicates)
    {
        foreach (var (planned, id, _) in items)
        {
            if (!results.ByClientRef.TryGetValue(planned.ClientRef, out var outcome))
            {
                Unconfirmed(create, planned, id, results, work);
                continue;
            }
            var result = RowResults.For(planned.Record, _options);
            result.Attempts = 1;
            if (outcome.Succeeded)
                work.Done.Add((planned, RowResults.Done(result, create ? UpsertStatus.Created : UpsertStatus.Updated, outcome.ObjectId ?? id)));
            else if (create && outcome.IsDuplicate && duplicates is not null && _createFirst)
                duplicates.Add(planned);
            else if (!create && outcome.IsNotFound)
                work.Single.Add((planned, null));
            else
                work.Done.Add((planned, RowResults.Fail(result, outcome.IsDuplicate ? "KustomerSync.Conflict" : "KustomerSync.Rejected",
                    $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): {outcome.Error}", null)));
        }
    }

    /// <summary>
    /// Without _clientRef an update is done when a finished batch lists its id once and no error names it; an id that
    /// two items share cannot tell their outcomes apart.
    /// </summary>
    private void MatchUpdatesById(List<Item> items, BulkJobResult results, Work work)
    {
        var shared = items.GroupBy(i => i.Id!, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        foreach (var (planned, id, _) in items)
        {
            if (results.TimesWritten(id!) == 1 && !results.NamedInErrors(id!) && !shared.Contains(id!, StringComparer.Ordinal))
            {
                var result = RowResults.For(planned.Record, _options);
                result.Attempts = 1;
                work.Done.Add((planned, RowResults.Done(result, UpsertStatus.Updated, id)));
            }
            else Unconfirmed(create: false, planned, id, results, work);
        }
    }

    /// <summary>
    /// KObject bulk creates report ids in an undocumented order, so once the job is done each created record is looked
    /// up by its key and counted created only when a batch listed the id found.
    /// </summary>
    private async Task ConfirmCreatesAsync(List<Item> items, BulkJobResult results, Work work, CancellationToken cancellationToken)
    {
        if (!results.Complete)
        {
            foreach (var item in items) Unconfirmed(create: true, item.Planned, null, results, work);
            return;
        }
        foreach (var (planned, id, error) in await LookUpAsync(items.Select(i => i.Planned), cancellationToken).ConfigureAwait(false))
        {
            if (id is not null && error is null && results.TimesWritten(id) > 0)
            {
                var result = RowResults.For(planned.Record, _options);
                result.Attempts = 1;
                work.Done.Add((planned, RowResults.Done(result, UpsertStatus.Created, id)));
            }
            else work.Single.Add((planned, null));
        }
    }

    /// <summary>
    /// An item the job did not report. When the job finished, or the item is an update, or Kustomer would refuse a second
    /// record with the key, the single path (lookup first) settles it. A create of a key Kustomer does not keep unique,
    /// in a job still pending, could be applied later by the job too: it is reported failed rather than made twice.
    /// </summary>
    private void Unconfirmed(bool create, PlannedRecord planned, string? id, BulkJobResult results, Work work)
    {
        if (results.Complete || !create || _keyIsUnique)
        {
            work.Single.Add((planned, id));
            return;
        }
        work.Done.Add((planned, RowResults.Fail(RowResults.For(planned.Record, _options), "KustomerSync.BulkPending",
            $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): the bulk job creating this record did not finish within " +
            $"{_bulk.JobTimeout.TotalMinutes:0.#} minutes and may still create it, so it was not sent again; the next run finds it by its key.", null)));
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
}
