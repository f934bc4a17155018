using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// A fake clock that moves only when the code under test waits on it: each timer it creates is reported, and
/// <see cref="RunAsync{T}"/> advances the clock to that timer's due time. Waits then take no real time, and the times
/// at which requests go out are exact.
/// </summary>
internal sealed class BulkClock : TimeProvider
{
    private readonly FakeTimeProvider _fake = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();
    private Task<TimeSpan>? _next;

    public BulkClock() => Silent = new SilentView(_fake);

    public DateTimeOffset Start { get; } = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The same time for the emulator, whose timers do not move the clock: its bulk jobs catch up with the clock when
    /// they are read, so only the client's waits decide how far it moves.
    /// </summary>
    public TimeProvider Silent { get; }

    public TimeSpan Elapsed => _fake.GetUtcNow() - Start;

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();
    public override long GetTimestamp() => _fake.GetTimestamp();
    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = _fake.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Moves the clock on by itself (for what the emulator does after the client stopped waiting).</summary>
    public void Advance(TimeSpan by) => _fake.Advance(by);

    /// <summary>Runs <paramref name="work"/> to its end, moving the clock on to each wait it starts.</summary>
    public async Task<T> RunAsync<T>(Task<T> work, Func<Task>? beforeEachStep = null)
    {
        while (true)
        {
            // One read waits at a time, across calls: a read left waiting by an earlier run would take the next timer.
            _next ??= _timers.Reader.ReadAsync().AsTask();
            if (await Task.WhenAny(work, _next).ConfigureAwait(false) == work) return await work.ConfigureAwait(false);
            var due = await _next.ConfigureAwait(false);
            _next = null;
            if (beforeEachStep is not null) await beforeEachStep().ConfigureAwait(false);
            _fake.Advance(due);
        }
    }
}

internal sealed class SilentView(FakeTimeProvider fake) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => fake.GetUtcNow();
    public override long GetTimestamp() => fake.GetTimestamp();
    public override long TimestampFrequency => fake.TimestampFrequency;
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => fake.CreateTimer(callback, state, dueTime, period);
}

/// <summary>An idle clock that moves only when the test moves it, and tells when something waits on it.</summary>
internal sealed class WatchedIdleClock : TimeProvider
{
    private readonly FakeTimeProvider _held = new();
    private readonly object _lock = new();
    private int _pending;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_lock)
        {
            _pending++;
            Monitor.PulseAll(_lock);
        }
        return new Pending(this, _held.CreateTimer(callback, state, dueTime, period));
    }

    public override DateTimeOffset GetUtcNow() => _held.GetUtcNow();

    public void Advance(TimeSpan by) => _held.Advance(by);

    /// <summary>Blocks until a wait on this clock is pending; false when none came within <paramref name="limit"/>.</summary>
    public bool AwaitAWait(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        lock (_lock)
        {
            while (_pending == 0)
                if (deadline <= DateTime.UtcNow || !Monitor.Wait(_lock, deadline - DateTime.UtcNow)) return false;
            return true;
        }
    }

    private sealed class Pending(WatchedIdleClock clock, ITimer timer) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => timer.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                lock (clock._lock) clock._pending--;
            timer.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}

/// <summary>Notes when (on the given clock) each request to Kustomer went out.</summary>
internal sealed class RequestLog : DelegatingHandler
{
    private readonly TimeProvider _clock;

    public RequestLog(TimeProvider clock) : base(new SocketsHttpHandler()) => _clock = clock;

    public ConcurrentQueue<(DateTimeOffset At, string Method, string Path)> Sent { get; } = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Sent.Enqueue((_clock.GetUtcNow(), request.Method.Method, request.RequestUri!.PathAndQuery));
        return base.SendAsync(request, cancellationToken);
    }
}
