namespace KustomerSync.Sources.Tests.Doubles;

/// <summary>
/// A clock for tests in which every wait passes at once: a timer (Task.Delay on this provider) moves the clock on by
/// its due time and fires, so polls, back-offs and Retry-After waits cost no wall-clock time and every wait asked
/// for is recorded. Doubles that check token lifetimes read the same clock, and a test can move it on (Advance) to
/// stand for a long read.
/// </summary>
public sealed class VirtualTime : TimeProvider
{
    private readonly object _gate = new();
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    /// <summary>Every wait a timer was created for, in order.</summary>
    public List<TimeSpan> Waits { get; } = new();

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public void Advance(TimeSpan by)
    {
        lock (_gate) _now += by;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == Timeout.InfiniteTimeSpan) return new Dormant();
        lock (_gate)
        {
            Waits.Add(dueTime);
            _now += dueTime;
        }
        // Fired on the pool, after CreateTimer has returned, as a real timer would be.
        ThreadPool.QueueUserWorkItem(_ => callback(state));
        return new Dormant();
    }

    private sealed class Dormant : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;
        public void Dispose() { }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
