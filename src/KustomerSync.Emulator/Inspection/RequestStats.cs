using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Inspection;

/// <summary>Request counters for <c>GET /_emulator/stats</c>: per route template, per status, 429s.</summary>
public sealed class RequestStats
{
    private readonly ConcurrentDictionary<string, long> _byRoute = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, long> _byStatus = new();
    private long _total;
    private long _rateLimited;
    private long _searchRateLimited;

    public void Record(string route, int status)
    {
        Interlocked.Increment(ref _total);
        _byRoute.AddOrUpdate(route, 1, (_, n) => n + 1);
        _byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
    }

    public void RateLimited(bool search)
    {
        Interlocked.Increment(ref _rateLimited);
        if (search) Interlocked.Increment(ref _searchRateLimited);
    }

    public JsonObject ToJson()
    {
        var routes = new JsonObject();
        foreach (var (k, v) in _byRoute.OrderBy(kv => kv.Key, StringComparer.Ordinal)) routes[k] = v;
        var statuses = new JsonObject();
        foreach (var (k, v) in _byStatus.OrderBy(kv => kv.Key)) statuses[k.ToString(System.Globalization.CultureInfo.InvariantCulture)] = v;
        return new JsonObject
        {
            ["totalRequests"] = Interlocked.Read(ref _total),
            ["byRoute"] = routes,
            ["byStatus"] = statuses,
            ["rateLimited"] = Interlocked.Read(ref _rateLimited),
            ["searchRateLimited"] = Interlocked.Read(ref _searchRateLimited),
        };
    }

    public void Reset()
    {
        _byRoute.Clear();
        _byStatus.Clear();
        Interlocked.Exchange(ref _total, 0);
        Interlocked.Exchange(ref _rateLimited, 0);
        Interlocked.Exchange(ref _searchRateLimited, 0);
    }
}
