using System.Collections.Concurrent;
using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// The org-wide budget, and the search budget of each API key (machine user), apart from it (§8, §10);
/// both sized by the live options and timed by the emulator clock.
/// </summary>
public sealed class RateLimiter(LiveOptions options, TimeProvider clock)
{
    private readonly FixedWindowCounter _org = new(clock);
    private readonly KeyedWindows _search = new(clock);

    public bool Enabled => options.Current.RateLimit > 0;

    public FixedWindowCounter.Decision AcquireOrg()
    {
        var o = options.Current;
        return _org.TryAcquire(o.RateLimit, o.RateWindowSeconds);
    }

    public FixedWindowCounter.Decision PeekOrg()
    {
        var o = options.Current;
        return _org.Peek(o.RateLimit, o.RateWindowSeconds);
    }

    /// <summary>One unit of the key's search budget, or null when search limiting is off.</summary>
    public FixedWindowCounter.Decision? AcquireSearch(string keyUserId)
    {
        var o = options.Current;
        return o.SearchRateLimit > 0 ? _search.TryAcquire(keyUserId, o.SearchRateLimit, o.RateWindowSeconds) : null;
    }

    public void Reset()
    {
        _org.Reset();
        _search.Clear();
    }
}

/// <summary>Fixed windows by key (per key, per customer, per record). Expired windows are dropped when many pile up.</summary>
public sealed class KeyedWindows(TimeProvider clock)
{
    private const int PruneAbove = 50_000;
    private readonly ConcurrentDictionary<string, FixedWindowCounter> _windows = new(StringComparer.Ordinal);

    public FixedWindowCounter.Decision TryAcquire(string key, int limit, int windowSeconds)
    {
        if (_windows.Count > PruneAbove) Prune(limit, windowSeconds);
        return _windows.GetOrAdd(key, _ => new FixedWindowCounter(clock)).TryAcquire(limit, windowSeconds);
    }

    public void Clear() => _windows.Clear();

    private void Prune(int limit, int windowSeconds)
    {
        foreach (var (key, counter) in _windows)
            if (counter.Peek(limit, windowSeconds).Remaining == limit) _windows.TryRemove(key, out _);
    }
}
