using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.RateLimiting;

/// <summary>The org-wide budget and the separate search budget (§10), sized by the live options.</summary>
public sealed class RateLimiter(LiveOptions options)
{
    private readonly FixedWindowCounter _org = new();
    private readonly FixedWindowCounter _search = new();

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

    public FixedWindowCounter.Decision? AcquireSearch()
    {
        var o = options.Current;
        return o.SearchRateLimit > 0 ? _search.TryAcquire(o.SearchRateLimit, o.RateWindowSeconds) : null;
    }

    public void Reset()
    {
        _org.Reset();
        _search.Reset();
    }
}
