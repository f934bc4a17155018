using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Diagnostics;

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
        _keyIsUnique = RecordGateway.KeyIsUnique(options.Target, options.Key);
        _createFirst = _keyIsUnique && options.Behavior != SyncBehavior.UpdateOnly;
    }

    /// <summary>One batch's bookkeeping: rows settled, and rows for the single-record path.</summary>
    private sealed class Work
    {
        public readonly List<(PlannedRecord, UpsertResult)> Done = new();
        public readonly List<(PlannedRecord Planned, string? KnownId)> Single = new();
    }

    private sealed record Item(PlannedRecord Planned, string? Id, JsonObject Body);

    public async Task<IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)>> ExecuteAsync(IReadOnlyList<PlannedRecord> batch, CancellationToken cancellationToken)
    {
        var work = new Work();
        batch = await ResolveReferencesAsync(batch, work.Done, cancellationToken).ConfigureAwait(false);
        var updates = new List<(PlannedRecord Planned, FoundRecord Current)>();
        var creates = new List<PlannedRecord>();

        foreach (var planned in batch)
        {
            if (planned.KnownId is null) continue;
            if (_options.Behavior == SyncBehavior.CreateOnly) work.Done.Add((planned, Exists(planned, planned.KnownId)));
            else updates.Add((planned, FoundRecord.ById(planned.KnownId)));
        }
        var unknown = batch.Where(p => p.KnownId is null).ToList();
        if (_createFirst) creates.AddRange(unknown);
        else await ResolveAsync(unknown, updates, creates, work, cancellationToken).ConfigureAwait(false);

        if (creates.Count > 0)
        {
            var duplicates = new List<PlannedRecord>();
            await SubmitAsync(create: true, creates.Select(p => (p, (FoundRecord?)null)).ToList(), work, duplicates, cancellationToken).ConfigureAwait(false);
            // Created meanwhile or before: the identifier is taken, so these records exist and become updates.
            await ResolveAsync(duplicates, updates, creates: null, work, cancellationToken).ConfigureAwait(false);
        }
        if (updates.Count > 0)
        {
            var ready = await WithCompanyLinksAsync(updates, work, cancellationToken).ConfigureAwait(false);
            await SubmitAsync(create: false, ready.Select(u => (u.Planned, (FoundRecord?)u.Current)).ToList(), work, duplicates: null, cancellationToken).ConfigureAwait(false);
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
    private async Task<(PlannedRecord Planned, FoundRecord? Found, KustomerException? Error)[]> LookUpAsync(IEnumerable<PlannedRecord> records, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(LookupConcurrency);
        return await Task.WhenAll(records.Select(async planned =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return (planned, await _records.FindAsync(planned.Record.Key, cancellationToken).ConfigureAwait(false), (KustomerException?)null);
            }
            catch (KustomerException ex)
            {
                return (planned, (FoundRecord?)null, ex);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
    }

    /// <summary>
    /// Found keys become updates, missing ones creates, as the behaviour allows. A miss that does not prove the key absent
    /// (search cannot see dormant records) is left to the single path, which decides and reports it for every path.
    /// </summary>
    private async Task ResolveAsync(List<PlannedRecord> records, List<(PlannedRecord, FoundRecord)> updates, List<PlannedRecord>? creates,
        Work work, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return;
        var lookups = await LookUpAsync(records, cancellationToken).ConfigureAwait(false);
        var missIsProof = false;
        try
        {
            missIsProof = lookups.Any(l => l.Found is null && l.Error is null) && await _records.MissIsProofAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerException)
        {
            // Unproven: the single path asks again and reports the failure on each row it concerns.
        }
        foreach (var (planned, found, error) in lookups)
        {
            if (error is not null) work.Done.Add((planned, Failed(planned, error)));
            else if (found is not null && _options.Behavior == SyncBehavior.CreateOnly) work.Done.Add((planned, Exists(planned, found.Id)));
            else if (found is not null) updates.Add((planned, found));
            else if (creates is null)
                work.Done.Add((planned, RowResults.Fail(RowResults.For(planned.Record, _options), ErrorIds.Conflict,
                    $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): Kustomer reported the key as taken, but no record has it.", null)));
            else if (!missIsProof && (_options.Behavior == SyncBehavior.UpdateOnly || !_options.CreateOnSearchMiss)) work.Single.Add((planned, null));
            else if (_options.Behavior == SyncBehavior.UpdateOnly)
                work.Done.Add((planned, RowResults.Fail(RowResults.For(planned.Record, _options), ErrorIds.RecordNotFound,
                    $"No {_options.Target.DisplayName} has {_options.Key.DisplayName} '{planned.Record.Key}', and the behaviour UpdateOnly does not create records.", null)));
            else creates.Add(planned);
        }
    }

    /// <summary>
    /// The updates with every customer's company link known, where the mapping names no company and the link is not
    /// known yet (an id from the state store, a search hit): one search per 20 customers, then a read by id for those
    /// the search did not show with their link. A customer that no longer exists goes to the single path, which finds or
    /// creates it afresh.
    /// </summary>
    private async Task<List<(PlannedRecord Planned, FoundRecord Current)>> WithCompanyLinksAsync(List<(PlannedRecord Planned, FoundRecord Current)> updates,
        Work work, CancellationToken cancellationToken)
    {
        bool Unknown((PlannedRecord Planned, FoundRecord Current) u) => RecordGateway.NeedsCompanyLink(_options.Target, u.Planned.Record.Payload) && !u.Current.CompanyKnown;
        var ids = updates.Where(Unknown).Select(u => u.Current.Id).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0) return updates;

        var known = new Dictionary<string, FoundRecord>(StringComparer.Ordinal);
        try
        {
            foreach (var hit in await _records.SearchByIdsAsync(ids, cancellationToken).ConfigureAwait(false))
                if (hit.CompanyKnown) known[hit.Id] = hit;
        }
        catch (KustomerException)
        {
            // Search is only the cheaper way: every customer it did not settle is read by id below.
        }
        var gone = new HashSet<string>(StringComparer.Ordinal);
        using (var gate = new SemaphoreSlim(LookupConcurrency))
        {
            var reads = ids.Where(id => !known.ContainsKey(id)).Select(async id =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    return (id, record: await _records.ReadAsync(id, cancellationToken).ConfigureAwait(false), missing: false);
                }
                catch (KustomerApiException notFound) when (notFound.Status == System.Net.HttpStatusCode.NotFound)
                {
                    return (id, record: (FoundRecord?)null, missing: true);
                }
                catch (KustomerException)
                {
                    return (id, record: (FoundRecord?)null, missing: false);
                }
                finally
                {
                    gate.Release();
                }
            });
            foreach (var (id, record, missing) in await Task.WhenAll(reads).ConfigureAwait(false))
            {
                if (record is not null) known[id] = record;
                else if (missing) gone.Add(id);
            }
        }

        var ready = new List<(PlannedRecord, FoundRecord)>(updates.Count);
        foreach (var update in updates)
        {
            if (!Unknown(update)) ready.Add(update);
            else if (known.TryGetValue(update.Current.Id, out var current)) ready.Add((update.Planned, current));
            // Gone: look the key up afresh. Unreadable: the single path reads it again and reports what went wrong.
            else work.Single.Add((update.Planned, gone.Contains(update.Current.Id) ? null : update.Current.Id));
        }
        return ready;
    }

    private JsonObject BodyFor(PlannedRecord planned, FoundRecord? current)
    {
        var payload = planned.Record.Payload;
        var body = (JsonObject)(current is null ? _records.CreateBody(payload, _options.Backfill) : RecordGateway.UpdateBody(_options.Target, payload, current)).DeepClone();
        if (current is not null) body["id"] = current.Id;
        if (_bulk.TakesClientRef(create: current is null)) body["_clientRef"] = planned.ClientRef;
        return body;
    }

    /// <summary>Sends the items in requests of at most 100 items and <see cref="BulkGateway.MaxBodyBytes"/>.</summary>
    private async Task SubmitAsync(bool create, List<(PlannedRecord Planned, FoundRecord? Current)> items, Work work, List<PlannedRecord>? duplicates,
        CancellationToken cancellationToken)
    {
        const int brackets = 2;
        var chunk = new List<Item>();
        var bytes = brackets;
        foreach (var (planned, current) in items)
        {
            var id = current?.Id;
            var body = BodyFor(planned, current);
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
        catch (KustomerOutcomeUnknownException lost)
        {
            // The job may exist and still run. Sending its creates again is safe only where Kustomer refuses a second
            // record with the key; companies and KObjects are reported instead, and the next run finds them by key.
            if (!create || _keyIsUnique) work.Single.AddRange(items.Select(i => (i.Planned, i.Id)));
            else
                work.Done.AddRange(items.Select(i => (i.Planned, RowResults.Fail(RowResults.For(i.Planned.Record, _options), lost.ErrorId,
                    $"Row {i.Planned.Record.Input.Row} (key '{i.Planned.Record.Key}'): the answer to the bulk request creating this record was lost, " +
                    "so the job may still create it; it was not sent again.", null))));
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
                work.Done.Add((planned, RowResults.Fail(result, outcome.IsDuplicate ? ErrorIds.Conflict : ErrorIds.Rejected,
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
        foreach (var (planned, found, error) in await LookUpAsync(items.Select(i => i.Planned), cancellationToken).ConfigureAwait(false))
        {
            if (found is not null && error is null && results.TimesWritten(found.Id) > 0)
            {
                var result = RowResults.For(planned.Record, _options);
                result.Attempts = 1;
                work.Done.Add((planned, RowResults.Done(result, UpsertStatus.Created, found.Id)));
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
        work.Done.Add((planned, RowResults.Fail(RowResults.For(planned.Record, _options), ErrorIds.BulkTimeout,
            $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): the bulk job creating this record had not reported it within " +
            $"{_bulk.JobTimeout.TotalMinutes:0.#} minutes and may still create it, so it was not sent again; the next run finds it by its key.", null)));
    }

    private UpsertResult Exists(PlannedRecord planned, string id)
    {
        var result = RowResults.Done(RowResults.For(planned.Record, _options), UpsertStatus.Unchanged, id);
        result.Message = "The record exists and the behaviour CreateOnly leaves existing records alone.";
        return result;
    }

    private UpsertResult Failed(PlannedRecord planned, KustomerException error) =>
        RowResults.Fail(RowResults.For(planned.Record, _options), error.ErrorId,
            $"Row {planned.Record.Input.Row} (key '{planned.Record.Key}'): {(error is KustomerApiException api ? api.Detail : error.Message)}", null);
}
