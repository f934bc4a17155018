namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// A fixed-window request budget on the emulator clock. A window starts with the first request after the
/// previous one ended and lasts <c>windowSeconds</c>; the budget resets when it ends. Thread-safe.
/// </summary>
public sealed class FixedWindowCounter(TimeProvider clock)
{
    private readonly Lock _lock = new();
    private DateTimeOffset? _windowStart;
    private int _used;

    /// <summary>The outcome, and the budget after it; <see cref="ResetAt"/> is when the window ends.</summary>
    public readonly record struct Decision(bool Allowed, int Limit, int Remaining, DateTimeOffset ResetAt, DateTimeOffset Now)
    {
        /// <summary>Whole seconds until the reset, at least 1.</summary>
        public int ResetSeconds => (int)Math.Max(1, Math.Ceiling((ResetAt - Now).TotalSeconds));
    }

    /// <summary>Consumes one unit if available.</summary>
    public Decision TryAcquire(int limit, int windowSeconds) => Evaluate(limit, windowSeconds, consume: true);

    /// <summary>Reports the current state without consuming.</summary>
    public Decision Peek(int limit, int windowSeconds) => Evaluate(limit, windowSeconds, consume: false);

    private Decision Evaluate(int limit, int windowSeconds, bool consume)
    {
        var now = clock.GetUtcNow();
        var window = TimeSpan.FromSeconds(windowSeconds);
        lock (_lock)
        {
            if (_windowStart is null || now - _windowStart.Value >= window)
            {
                if (!consume) return new Decision(true, limit, limit, now + window, now);
                _windowStart = now;
                _used = 0;
            }
            var resetAt = _windowStart.Value + window;
            if (!consume) return new Decision(_used < limit, limit, Math.Max(0, limit - _used), resetAt, now);
            if (_used >= limit) return new Decision(false, limit, 0, resetAt, now);
            _used++;
            return new Decision(true, limit, limit - _used, resetAt, now);
        }
    }

    public void Reset()
    {
        lock (_lock) { _windowStart = null; _used = 0; }
    }
}
