using System.Text.Json.Nodes;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// Finds records by a custom attribute through POST /v1/customers/search. Kustomer gives no path lookup for custom
/// attributes and machine users may search only about 100 times a minute, so lookups that arrive together are
/// gathered (up to 20, the criteria limit, or for 20 ms) and sent as one search with an "or" of equals criteria.
/// <para>Search sees only records updated in the last two years (§8), so a miss is not proof of absence;
/// <see cref="MayMissDormantRecordsAsync"/> says whether the org has older records search cannot see.</para>
/// </summary>
public sealed class SearchLookup
{
    private const int MaxCriteria = 20;
    private static readonly TimeSpan GatherWindow = TimeSpan.FromMilliseconds(20);
    private readonly KustomerClient _client;
    private readonly KustomerObject _target;
    private readonly string _attribute;
    private readonly object _sync = new();
    private List<(string Key, TaskCompletionSource<IReadOnlyList<FoundRecord>> Answer)> _pending = new();
    private Task<bool>? _dormant;

    public SearchLookup(KustomerClient client, KustomerObject target, string attribute)
    {
        _client = client;
        _target = target;
        _attribute = attribute;
    }

    /// <summary>The records whose attribute equals <paramref name="key"/> (normally none or one).</summary>
    public Task<IReadOnlyList<FoundRecord>> FindAsync(string key, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<IReadOnlyList<FoundRecord>>(TaskCreationOptions.RunContinuationsAsynchronously);
        List<(string, TaskCompletionSource<IReadOnlyList<FoundRecord>>)>? full = null;
        bool first;
        lock (_sync)
        {
            first = _pending.Count == 0;
            _pending.Add((key, answer));
            if (_pending.Count >= MaxCriteria) full = Take();
        }
        if (full is not null) _ = SearchAsync(full, cancellationToken);
        else if (first) _ = GatherThenSearchAsync(cancellationToken);
        return answer.Task;
    }

    /// <summary>
    /// True when the org may hold records of this object that search cannot see: asked once, through
    /// POST /v1/customers/archive/search (which sees only records older than two years and cannot filter by custom
    /// attributes), whether any record was last updated before the cutoff. A refused archive search counts as "may".
    /// </summary>
    public Task<bool> MayMissDormantRecordsAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_dormant is null || _dormant.IsFaulted || _dormant.IsCanceled) _dormant = ProbeArchiveAsync(cancellationToken);
            return _dormant;
        }
    }

    private async Task<bool> ProbeArchiveAsync(CancellationToken cancellationToken)
    {
        // A day's margin: records about to leave search's reach during the run count as out of it already.
        var cutoff = _client.Time.GetUtcNow().UtcDateTime.AddYears(-2).AddDays(1);
        var body = new JsonObject
        {
            ["queryContext"] = _target.SearchContext,
            ["and"] = new JsonArray(new JsonObject
            {
                [_target.SearchContext + "_updated_at"] = new JsonObject { ["lte"] = cutoff.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture) },
            }),
        };
        try
        {
            var result = await _client.SendAsync(HttpMethod.Post, "customers/archive/search?page=1&pageSize=1", body, RequestKind.Search, cancellationToken).ConfigureAwait(false);
            if (result.Body?["data"] is not JsonArray data)
                throw new KustomerException(ErrorIds.UnexpectedResponse, "Kustomer answered the archive search without a list of records.");
            return data.Count > 0;
        }
        catch (KustomerApiException ex) when ((int)ex.Status is >= 400 and < 500 and not 429)
        {
            return true;
        }
    }

    private List<(string, TaskCompletionSource<IReadOnlyList<FoundRecord>>)> Take()
    {
        var batch = _pending;
        _pending = new List<(string, TaskCompletionSource<IReadOnlyList<FoundRecord>>)>();
        return batch;
    }

    private async Task GatherThenSearchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Clock.Delay(_client.Time, GatherWindow, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        List<(string, TaskCompletionSource<IReadOnlyList<FoundRecord>>)> batch;
        lock (_sync) batch = Take();
        if (batch.Count > 0) await SearchAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    private async Task SearchAsync(List<(string Key, TaskCompletionSource<IReadOnlyList<FoundRecord>> Answer)> batch, CancellationToken cancellationToken)
    {
        try
        {
            var keys = batch.Select(b => b.Key).Distinct(StringComparer.Ordinal).ToList();
            var field = _target.SearchCustomPrefix + _attribute;
            var body = new JsonObject
            {
                ["queryContext"] = _target.SearchContext,
                ["or"] = new JsonArray(keys.Select(k => (JsonNode)new JsonObject { [field] = new JsonObject { ["equals"] = k } }).ToArray()),
            };
            var found = new Dictionary<string, List<FoundRecord>>(StringComparer.Ordinal);
            var unattributed = new List<FoundRecord>();
            for (var page = 1; ; page++)
            {
                var result = await _client.SendAsync(HttpMethod.Post, $"customers/search?page={page}&pageSize=500", body, RequestKind.Search, cancellationToken).ConfigureAwait(false);
                foreach (var record in result.DataList.OfType<JsonObject>())
                {
                    if (FoundRecord.FromSearchHit(record) is not { } hit) continue;
                    var value = record["attributes"]?["custom"]?[_attribute]?.ToString();
                    if (value is null)
                    {
                        unattributed.Add(hit);
                        continue;
                    }
                    if (!found.TryGetValue(value, out var hits)) found[value] = hits = new List<FoundRecord>();
                    hits.Add(hit);
                }
                if (result.Body?["links"]?["next"] is null || result.DataList.Count == 0) break;
            }
            // A hit that does not show the attribute matched one of the keys: with one key it is that key's, with several
            // it cannot be told whose, and a key it may belong to must not read as a miss (a miss may create a duplicate).
            if (keys.Count == 1 && unattributed.Count > 0)
            {
                if (!found.TryGetValue(keys[0], out var hits)) found[keys[0]] = hits = new List<FoundRecord>();
                hits.AddRange(unattributed);
                unattributed.Clear();
            }
            foreach (var (key, answer) in batch)
            {
                if (found.TryGetValue(key, out var hits)) answer.TrySetResult(hits);
                else if (unattributed.Count > 0)
                    answer.TrySetException(new KustomerException(ErrorIds.UnexpectedResponse,
                        $"Kustomer's search for {_target.DisplayName} records by {_attribute} answered with {unattributed.Count} record(s) that do not show " +
                        $"{_attribute}, so they cannot be matched to the keys searched together; '{key}' may be one of them and was not written."));
                else answer.TrySetResult(Array.Empty<FoundRecord>());
            }
        }
        catch (Exception ex)
        {
            foreach (var (_, answer) in batch)
            {
                if (ex is OperationCanceledException) answer.TrySetCanceled();
                else answer.TrySetException(ex);
            }
        }
    }
}
