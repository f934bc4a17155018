namespace KustomerSync.Emulator.Time;

/// <summary>
/// The emulator's clock: an inner <see cref="TimeProvider"/> (the system clock, or a fake one in process) plus an
/// offset that <c>POST /_emulator/clock</c> moves forward. Rate windows, the search window, per-customer and
/// per-object windows, bulk latency and record timestamps all read it, so tests skip time instead of sleeping.
/// Timers run on the inner provider; code that waits on them also re-checks the clock when it is read (bulk jobs).
/// </summary>
public sealed class EmulatorClock(TimeProvider inner) : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>Moves the clock forward; it never goes back.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override long GetTimestamp() =>
        inner.GetTimestamp() + (long)(Offset.Ticks * (double)inner.TimestampFrequency / TimeSpan.TicksPerSecond);

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
