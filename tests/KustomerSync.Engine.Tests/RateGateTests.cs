using KustomerSync.Engine.Kustomer;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>The rate gate on a fake clock: what it lets through and what it holds, without waiting on the wall clock.</summary>
public class RateGateTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Answers_without_budget_headers_do_not_hold_later_requests()
    {
        var gate = new RateGate(_time);
        for (var i = 0; i < 50; i++)
        {
            // The probe must end with each answer: a stuck probe would hold the next request on the clock.
            Assert.True(gate.WaitTurnAsync(CancellationToken.None).IsCompleted, $"request {i + 1} was held");
            gate.Report(null, null, null);
        }
    }

    [Fact]
    public async Task The_second_half_of_a_window_is_spread_over_the_time_left()
    {
        var gate = new RateGate(_time);
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(limit: 10, remaining: 9, resetSeconds: 2);

        var turns = Enumerable.Range(0, 9).Select(_ => gate.WaitTurnAsync(CancellationToken.None)).ToList();

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
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.ReportExhausted(resetSeconds: 0.5);

        var next = gate.WaitTurnAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await next.WaitAsync(Safety);
    }

    [Fact]
    public async Task A_late_answer_from_the_previous_window_does_not_shrink_the_new_one()
    {
        var gate = new RateGate(_time);
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(limit: 100, remaining: 99, resetSeconds: 0.2);
        _time.Advance(TimeSpan.FromMilliseconds(400));

        await gate.WaitTurnAsync(CancellationToken.None); // the window is over: this request probes the new one
        gate.Report(limit: 100, remaining: 1, resetSeconds: 0);   // sent in the old window, answered late
        gate.Report(limit: 100, remaining: 99, resetSeconds: 5);  // the probe's answer

        Assert.Equal(99, gate.Remaining);
    }

    [Fact]
    public async Task Without_a_reset_figure_a_jump_up_in_what_is_left_is_a_new_window()
    {
        var gate = new RateGate(_time);
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(limit: 100, remaining: 30, resetSeconds: null);
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(limit: 100, remaining: 29, resetSeconds: null);
        Assert.Equal(29, gate.Remaining);

        // Kustomer may leave x-ratelimit-reset out (§10): the window turned over when "remaining" rose.
        _time.Advance(TimeSpan.FromSeconds(20));
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(limit: 100, remaining: 98, resetSeconds: null);
        Assert.Equal(98, gate.Remaining);
    }

    [Fact]
    public async Task A_budget_of_its_own_is_counted_over_its_own_windows_and_ignores_reported_figures()
    {
        var gate = RateGate.ForOwnBudget("test://" + Guid.NewGuid().ToString("N"), limit: 2, TimeSpan.FromMinutes(1), _time);

        await gate.WaitTurnAsync(CancellationToken.None).WaitAsync(Safety);
        gate.Report(limit: 1000, remaining: 999, resetSeconds: 30);
        await gate.WaitTurnAsync(CancellationToken.None).WaitAsync(Safety);
        var third = gate.WaitTurnAsync(CancellationToken.None);

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
        await gate.WaitTurnAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(50));
        gate.ReportExhausted(resetSeconds: null);

        var next = gate.WaitTurnAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(31));
        await next.WaitAsync(Safety);
    }
}
