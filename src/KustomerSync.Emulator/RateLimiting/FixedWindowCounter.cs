namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// A fixed-window request budget. A window starts with the first request after the previous one
/// ended and lasts <c>windowSeconds</c>; the budget resets when it ends. Thread-safe.
/// </summary>
public sealed class FixedWindowCounter
{
    private readonly Lock _lock = new();
    private long _windowStart = long.MinValue;
    private int _used;

    public readonly record struct Decision(bool Allowed, int Limit, int Remaining, int ResetSeconds);

    /// <summary>Consumes one unit if available.</summary>
    public Decision TryAcquire(int limit, int windowSeconds) => Evaluate(limit, windowSeconds, consume: true);

    /// <summary>Reports the current state without consuming.</summary>
    public Decision Peek(int limit, int windowSeconds) => Evaluate(limit, windowSeconds, consume: false);

    private Decision Evaluate(int limit, int windowSeconds, bool consume)
    {
        var now = Environment.TickCount64;
        var windowMs = windowSeconds * 1000L;
        lock (_lock)
        {
            if (_windowStart == long.MinValue || now - _windowStart >= windowMs)
            {
                if (!consume) return new Decision(true, limit, limit, windowSeconds);
                _windowStart = now;
                _used = 0;
            }
            var resetMs = _windowStart + windowMs - now;
            var reset = (int)Math.Max(1, (resetMs + 999) / 1000);
            if (!consume) return new Decision(_used < limit, limit, Math.Max(0, limit - _used), reset);
            if (_used >= limit) return new Decision(false, limit, 0, reset);
            _used++;
            return new Decision(true, limit, limit - _used, reset);
        }
    }

    public void Reset()
    {
        lock (_lock) { _windowStart = long.MinValue; _used = 0; }
    }
}
