using KustomerSync.Engine.Kustomer;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>The rate gate on a fake clock: what it lets through and what it holds, without waiting on the wall clock.</summary>
public class RateGateTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Answers_without_budget_headers_do_not_hold_later_requests()
    {
        var gate = new RateGate(_time);
        for (var i = 0; i < 50; i++)
        {
            // The probe must end with each answer: a stuck probe would hold the next request on the clock.
            var turn = gate.AcquireAsync(CancellationToken.None);
            Assert.True(turn.IsCompleted, $"request {i + 1} was held");
            (await turn).Report(null, null, null);
        }
    }

    [Fact]
    public async Task The_second_half_of_a_window_is_spread_over_the_time_left()
    {
        var gate = new RateGate(_time);
        (await gate.AcquireAsync(CancellationToken.None)).Report(limit: 10, remaining: 9, resetSeconds: 2);

        var turns = Enumerable.Range(0, 9).Select(_ => gate.AcquireAsync(CancellationToken.None)).ToList();

        // Four go at once (while more than half the budget is left), then the fifth's slot is now; the last four wait.
        Assert.All(turns.Take(5), t => Assert.True(t.IsCompleted));
        Assert.All(turns.Skip(5), t => Assert.False(t.IsCompleted));
        _time.Advance(TimeSpan.FromSeconds(2.1));
        await Task.WhenAll(turns).WaitAsync(Safety);
        Assert.Equal(0, gate.Remaining);
    }

    [Fact]
    public async Task After_a_429_nobody_sends_until_the_window_resets()
    {
        var gate = new RateGate(_time);
        (await gate.AcquireAsync(CancellationToken.None)).ReportExhausted(resetSeconds: 0.5);

        var next = gate.AcquireAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await next.WaitAsync(Safety);
    }

    [Fact]
    public async Task A_late_answer_from_the_previous_window_does_not_shrink_the_new_one()
    {
        var gate = new RateGate(_time);
        (await gate.AcquireAsync(CancellationToken.None)).Report(limit: 100, remaining: 99, resetSeconds: 0.2);
        var late = await gate.AcquireAsync(CancellationToken.None); // sent in the old window
        _time.Advance(TimeSpan.FromMilliseconds(400));

        var probe = await gate.AcquireAsync(CancellationToken.None); // the window is over: this request probes the new one
        late.Report(limit: 100, remaining: 1, resetSeconds: 0);      // answered late
        probe.Report(limit: 100, remaining: 99, resetSeconds: 5);

        Assert.Equal(99, gate.Remaining);
    }

    [Fact]
    public async Task Without_a_reset_figure_a_jump_up_in_what_is_left_is_a_new_window()
    {
        var gate = new RateGate(_time);
        (await gate.AcquireAsync(CancellationToken.None)).Report(limit: 100, remaining: 30, resetSeconds: null);
        (await gate.AcquireAsync(CancellationToken.None)).Report(limit: 100, remaining: 29, resetSeconds: null);
        Assert.Equal(29, gate.Remaining);

        // Kustomer may leave x-ratelimit-reset out (§10): the window turned over when "remaining" rose.
        _time.Advance(TimeSpan.FromSeconds(20));
        (await gate.AcquireAsync(CancellationToken.None)).Report(limit: 100, remaining: 98, resetSeconds: null);
        Assert.Equal(98, gate.Remaining);
    }

    [Fact]
    public async Task A_turn_cancelled_while_it_waits_for_its_slot_gives_its_unit_back()
    {
        var gate = new RateGate(_time);
        (await gate.AcquireAsync(CancellationToken.None)).Report(limit: 10, remaining: 4, resetSeconds: 8);
        await gate.AcquireAsync(CancellationToken.None); // paced, but its slot is now

        using var cancel = new CancellationTokenSource();
        var held = gate.AcquireAsync(cancel.Token);
        Assert.False(held.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);

        Assert.Equal(3, gate.Remaining);
    }

    [Fact]
    public async Task A_budget_of_its_own_is_counted_over_its_own_windows_and_ignores_reported_figures()
    {
        var gate = RateGate.ForOwnBudget("test://" + Guid.NewGuid().ToString("N"), limit: 2, TimeSpan.FromMinutes(1), _time);

        (await gate.AcquireAsync(CancellationToken.None).WaitAsync(Safety)).Report(limit: 1000, remaining: 999, resetSeconds: 30);
        await gate.AcquireAsync(CancellationToken.None).WaitAsync(Safety);
        var third = gate.AcquireAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(third.IsCompleted);
        Assert.Equal(0, gate.Remaining);
        _time.Advance(TimeSpan.FromSeconds(2));
        await third.WaitAsync(Safety);
        Assert.Equal(1, gate.Remaining);
    }

    [Fact]
    public async Task A_budget_of_its_own_shows_its_whole_limit_again_once_its_window_is_over_before_any_request_asks()
    {
        // A caller that looks at what is left before it asks (a search skipped while none is left) must see the next
        // window, or it would never ask again.
        var gate = RateGate.ForOwnBudget("test://" + Guid.NewGuid().ToString("N"), limit: 2, TimeSpan.FromMinutes(1), _time);
        // As the client uses its search gate: a turn per search, disposed once the answer came.
        (await gate.AcquireAsync(CancellationToken.None).WaitAsync(Safety)).Dispose();
        var second = gate.AcquireAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(30));
        (await second.WaitAsync(Safety)).Dispose();
        Assert.Equal(0, gate.Remaining);

        _time.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(2, gate.Remaining);
        await gate.AcquireAsync(CancellationToken.None).WaitAsync(Safety);
        Assert.Equal(1, gate.Remaining);
    }

    [Fact]
    public async Task A_429_on_a_budget_of_its_own_holds_a_whole_window()
    {
        var gate = RateGate.ForOwnBudget("test://" + Guid.NewGuid().ToString("N"), limit: 100, TimeSpan.FromMinutes(1), _time);
        var turn = await gate.AcquireAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(50));
        turn.ReportExhausted(resetSeconds: null);

        var next = gate.AcquireAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(31));
        await next.WaitAsync(Safety);
    }

    /// <summary>
    /// An org budget of fixed windows as Kustomer may count it, on the test's clock: "remaining" on every answer, the
    /// reset only on a 429 (§10). A window lasts <c>length(n)</c> for the n-th; it starts at the first request after the
    /// last one ended, or, with <c>grid</c>, on a fixed grid that began before the first request.
    /// </summary>
    private sealed class FixedWindows(TimeProvider time, int limit, Func<int, TimeSpan> length, TimeSpan? grid = null)
    {
        private DateTimeOffset _ends = DateTimeOffset.MinValue;
        private int _used;

        /// <summary>Per window: when it started and how many requests reached it.</summary>
        public List<(DateTimeOffset Started, int Requests)> Windows { get; } = new();
        public int Refused { get; private set; }

        public (int Remaining, double? ResetSeconds) Handle()
        {
            var now = time.GetUtcNow();
            if (now >= _ends)
            {
                var started = grid is { } offset && Windows.Count == 0 ? now - offset : Windows.Count == 0 || grid is null ? now : _ends;
                while (started + length(Windows.Count) <= now) started += length(Windows.Count);
                _ends = started + length(Windows.Count);
                Windows.Add((started, 0));
                _used = 0;
            }
            Windows[^1] = (Windows[^1].Started, Windows[^1].Requests + 1);
            if (_used >= limit)
            {
                Refused++;
                return (0, (_ends - now).TotalSeconds);
            }
            _used++;
            return (limit - _used, null);
        }
    }

    /// <summary>
    /// The fake clock, counting the timers set on it and not yet gone off: a gate's wait resumes off the thread that
    /// moves the clock, so the sender waits, after each step, until every request still waiting waits on a timer again.
    /// </summary>
    private sealed class CountingClock : TimeProvider
    {
        private int _live;

        public FakeTimeProvider Fake { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        public int Live => Volatile.Read(ref _live);

        public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();
        public override long GetTimestamp() => Fake.GetTimestamp();
        public override long TimestampFrequency => Fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _live);
            var gone = 0;
            void Gone() { if (Interlocked.Exchange(ref gone, 1) == 0) Interlocked.Decrement(ref _live); }
            var timer = Fake.CreateTimer(s => { Gone(); callback(s); }, state, dueTime, period);
            return new Counted(timer, Gone);
        }

        private sealed class Counted(ITimer timer, Action gone) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => timer.Change(dueTime, period);
            public void Dispose() { gone(); timer.Dispose(); }
            public ValueTask DisposeAsync() { gone(); return timer.DisposeAsync(); }
        }
    }

    /// <summary>
    /// Sends <paramref name="requests"/> through the gate, <paramref name="concurrency"/> at a time, each answered
    /// <paramref name="latency"/> after it reached the server, moving the fake clock on in small steps.
    /// </summary>
    private static async Task SendAsync(CountingClock clock, RateGate gate, FixedWindows server, int requests, int concurrency, TimeSpan latency)
    {
        var step = TimeSpan.FromMilliseconds(10);
        var end = clock.GetUtcNow().AddHours(1);
        var waiting = new List<Task<RateGate.Turn>>();
        var inFlight = new List<(DateTimeOffset Due, RateGate.Turn Turn, int Remaining, double? Reset)>();
        var sent = 0;
        while (sent < requests || inFlight.Count > 0)
        {
            Assert.True(clock.GetUtcNow() < end, $"{sent} of {requests} requests sent in an hour on the fake clock");
            foreach (var answer in inFlight.Where(f => f.Due <= clock.GetUtcNow()).ToList())
            {
                inFlight.Remove(answer);
                if (answer.Reset is { } reset) answer.Turn.ReportExhausted(reset);
                else answer.Turn.Report(100, answer.Remaining, null);
            }
            while (waiting.Count + inFlight.Count < concurrency && sent + waiting.Count < requests) waiting.Add(gate.AcquireAsync(CancellationToken.None));
            foreach (var done in waiting.Where(t => t.IsCompleted).ToList())
            {
                waiting.Remove(done);
                sent++;
                var (remaining, resetSeconds) = server.Handle();
                inFlight.Add((clock.GetUtcNow() + latency, await done, remaining, resetSeconds));
            }
            clock.Fake.Advance(step);
            while (waiting.Count(t => !t.IsCompleted) != clock.Live) await Task.Yield();
        }
    }

    [Fact]
    public async Task Windows_of_a_few_seconds_with_no_reset_figure_are_used_to_the_share_once_their_length_is_seen()
    {
        var clock = new CountingClock();
        var gate = new RateGate(clock);
        using var share = gate.Hold(0.75);
        var server = new FixedWindows(clock, limit: 100, _ => TimeSpan.FromSeconds(6));

        await SendAsync(clock, gate, server, requests: 75 * 20, concurrency: 8, TimeSpan.FromMilliseconds(50));

        // Steady state, once two refills have shown the length (the third window) and one more window has gone by.
        AssertShareKept(server, fromWindow: 4);
    }

    [Fact]
    public async Task Requests_paced_over_an_assumed_minute_go_when_a_refill_shows_the_window_turned()
    {
        var clock = new CountingClock();
        var gate = new RateGate(clock);
        using var share = gate.Hold(0.75);
        // Windows that start with the first request, as the emulator's do: the first one began with the gate's first request.
        var server = new FixedWindows(clock, limit: 100, _ => TimeSpan.FromSeconds(6));

        await SendAsync(clock, gate, server, requests: 75 * 8, concurrency: 8, TimeSpan.FromMilliseconds(50));

        // The first two windows run on the minute's assumption (two refills show the length). From the third on the workers
        // do not sit out the next windows on slots spread over the minute assumed for the second.
        AssertShareKept(server, fromWindow: 2);
    }

    /// <summary>No 429, no 6-second window over the share of 75, and from <paramref name="fromWindow"/> to the last full window at least 95 % of it.</summary>
    private static void AssertShareKept(FixedWindows server, int fromWindow)
    {
        Assert.Equal(0, server.Refused);
        Assert.All(server.Windows, w => Assert.True(w.Requests <= 75, $"{w.Requests} requests in the window of {w.Started:HH:mm:ss.fff}"));
        var counted = server.Windows.Skip(fromWindow).SkipLast(1).ToList();
        var rate = counted.Sum(w => w.Requests) / (server.Windows[^1].Started - counted[0].Started).TotalSeconds;
        Assert.True(rate >= 0.95 * 75 / 6, $"{rate:N2} requests/s, {rate / (75.0 / 6):P1} of the share's 12.5/s; per window: {string.Join(", ", server.Windows.Select(w => $"{(w.Started - server.Windows[0].Started).TotalSeconds:N2}:{w.Requests}"))}");
    }

    public static TheoryData<string> WrongGuesses => new() { "longer", "shorter", "grid" };

    [Theory]
    [MemberData(nameof(WrongGuesses))]
    public async Task A_learned_window_that_proves_wrong_never_lets_the_share_be_overrun(string change)
    {
        var clock = new CountingClock();
        var gate = new RateGate(clock);
        using var share = gate.Hold(0.75);
        var server = change switch
        {
            // Kustomer's window grows after the gate learned it: every guess is early until it learns again.
            "longer" => new FixedWindows(clock, limit: 100, n => TimeSpan.FromSeconds(n < 5 ? 6 : 9)),
            "shorter" => new FixedWindows(clock, limit: 100, n => TimeSpan.FromSeconds(n < 5 ? 9 : 6)),
            // Windows on a grid that began before the first request: the first one the gate sees is cut short.
            _ => new FixedWindows(clock, limit: 100, _ => TimeSpan.FromSeconds(6), grid: TimeSpan.FromSeconds(4.5)),
        };

        await SendAsync(clock, gate, server, requests: 75 * 16, concurrency: 8, TimeSpan.FromMilliseconds(50));

        Assert.Equal(0, server.Refused);
        Assert.All(server.Windows, w => Assert.True(w.Requests <= 75, $"{w.Requests} requests in the window of {w.Started:HH:mm:ss.fff}; per window: {string.Join(", ", server.Windows.Select(x => x.Requests))}"));
        if (change == "grid")
        {
            // A refill seen late must not keep the guess short: once one guess proved early, later ones hold.
            var stalls = server.Windows.Zip(server.Windows.Skip(1), (w, next) => next.Started - w.Started).Count(gap => gap > TimeSpan.FromSeconds(12));
            Assert.True(stalls <= 1, $"{stalls} waits of a minute; per window: {string.Join(", ", server.Windows.Select(w => $"{(w.Started - server.Windows[0].Started).TotalSeconds:N2}:{w.Requests}"))}");
        }
    }
}
