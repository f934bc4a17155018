using System.Text.Json.Nodes;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// Finds records by a custom attribute through POST /v1/customers/search. Kustomer gives no path lookup for custom
/// attributes and machine users may search only about 100 times a minute, so lookups that arrive together are
/// gathered (up to 20, the criteria limit, or for 20 ms) and sent as one search with an "or" of equals criteria.
/// </summary>
public sealed class SearchLookup
{
    private const int MaxCriteria = 20;
    private static readonly TimeSpan GatherWindow = TimeSpan.FromMilliseconds(20);
    private readonly KustomerClient _client;
    private readonly SyncTarget _target;
    private readonly string _attribute;
    private readonly object _sync = new();
    private List<(string Key, TaskCompletionSource<IReadOnlyList<string>> Answer)> _pending = new();

    public SearchLookup(KustomerClient client, SyncTarget target, string attribute)
    {
        _client = client;
        _target = target;
        _attribute = attribute;
    }

    /// <summary>The ids of the records whose attribute equals <paramref name="key"/> (normally none or one).</summary>
    public Task<IReadOnlyList<string>> FindAsync(string key, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        List<(string, TaskCompletionSource<IReadOnlyList<string>>)>? full = null;
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

    private List<(string, TaskCompletionSource<IReadOnlyList<string>>)> Take()
    {
        var batch = _pending;
        _pending = new List<(string, TaskCompletionSource<IReadOnlyList<string>>)>();
        return batch;
    }

    private async Task GatherThenSearchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(GatherWindow, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        List<(string, TaskCompletionSource<IReadOnlyList<string>>)> batch;
        lock (_sync) batch = Take();
        if (batch.Count > 0) await SearchAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    private async Task SearchAsync(List<(string Key, TaskCompletionSource<IReadOnlyList<string>> Answer)> batch, CancellationToken cancellationToken)
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
            var found = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            for (var page = 1; ; page++)
            {
                var result = await _client.SendAsync(HttpMethod.Post, $"customers/search?page={page}&pageSize=500", body, RequestKind.Search, cancellationToken).ConfigureAwait(false);
                foreach (var record in result.DataList.OfType<JsonObject>())
                {
                    var value = record["attributes"]?["custom"]?[_attribute]?.ToString();
                    var id = record["id"]?.ToString();
                    if (value is null || id is null) continue;
                    if (!found.TryGetValue(value, out var ids)) found[value] = ids = new List<string>();
                    ids.Add(id);
                }
                if (result.Body?["links"]?["next"] is null || result.DataList.Count == 0) break;
            }
            foreach (var (key, answer) in batch)
                answer.TrySetResult(found.TryGetValue(key, out var ids) ? ids : Array.Empty<string>());
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
