using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// Limits on one customer or one record, apart from the org budget (§6, §10): KObject creates per customer per
/// key (default 120 a window; bodies with <c>importedAt</c> are exempt) and Object Rate Limiting on updates of one
/// customer, company or KObject by one key. Their 429 comes while the org budget still has room.
/// </summary>
public sealed class RecordLimits(LiveOptions options, TimeProvider clock)
{
    private readonly KeyedWindows _creates = new(clock);
    private readonly KeyedWindows _updates = new(clock);

    /// <summary>Counts a KObject create for <paramref name="customerId"/> (from the body or the path) unless the body has importedAt.</summary>
    public void KObjectCreate(string userId, string? customerId, JsonObject body)
    {
        var o = options.Current;
        if (o.KObjectCreateLimitPerCustomer == 0 || customerId is null || body.ContainsKey("importedAt")) return;
        var d = _creates.TryAcquire(userId + "|" + customerId, o.KObjectCreateLimitPerCustomer, o.RateWindowSeconds);
        if (!d.Allowed)
            throw new ApiException(429, "rate_limited", "Too Many Requests",
                $"kobject create limit of {o.KObjectCreateLimitPerCustomer} per customer per {o.RateWindowSeconds}s reached for customer {customerId}; retry in {d.ResetSeconds}s (send importedAt for imports)");
    }

    /// <summary>KObject create: the customer named by the body.</summary>
    public void KObjectCreate(string userId, JsonObject body) => KObjectCreate(userId, WriteChecks.RefId(body, "customer"), body);

    /// <summary>Object Rate Limiting: one update of record <paramref name="id"/> by the key.</summary>
    public void Update(string userId, string what, string id)
    {
        var o = options.Current;
        if (o.ObjectUpdateLimit == 0) return;
        var d = _updates.TryAcquire(userId + "|" + id, o.ObjectUpdateLimit, o.RateWindowSeconds);
        if (!d.Allowed)
            throw new ApiException(429, "rate_limited", "Too Many Requests",
                $"Object rate limit: at most {o.ObjectUpdateLimit} updates of one {what} per {o.RateWindowSeconds}s by one user; {what} {id}, retry in {d.ResetSeconds}s");
    }

    public void Reset()
    {
        _creates.Clear();
        _updates.Clear();
    }
}
