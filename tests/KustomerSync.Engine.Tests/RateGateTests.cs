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
}
