using System.Diagnostics;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Tests;

public class RateGateTests
{
    private static RateGate NewGate() => RateGate.For("test://" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Answers_without_budget_headers_do_not_hold_later_requests()
    {
        var gate = NewGate();
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(null, null, null);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 50; i++)
        {
            await gate.WaitTurnAsync(CancellationToken.None);
            gate.Report(null, null, null);
        }
        // The probe must end with the first answer; a stuck probe makes each request wait up to 5 s.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"50 unpaced requests took {watch.Elapsed}");
    }

    [Fact]
    public async Task The_second_half_of_a_window_is_spread_over_the_time_left()
    {
        var gate = NewGate();
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(limit: 10, remaining: 9, resetSeconds: 2);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 9; i++) await gate.WaitTurnAsync(CancellationToken.None);
        // Four go at once (while more than half the budget is left), the last five share the rest of the window.
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(1), $"nine requests in {watch.Elapsed}: the gate did not pace");
        Assert.Equal(0, gate.Remaining);
    }

    [Fact]
    public async Task After_a_429_nobody_sends_until_the_window_resets()
    {
        var gate = NewGate();
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.ReportExhausted(resetSeconds: 0.5);

        var watch = Stopwatch.StartNew();
        await gate.WaitTurnAsync(CancellationToken.None);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(450), $"sent again after {watch.Elapsed}");
    }

    [Fact]
    public async Task A_late_answer_from_the_previous_window_does_not_shrink_the_new_one()
    {
        var gate = NewGate();
        await gate.WaitTurnAsync(CancellationToken.None);
        gate.Report(limit: 100, remaining: 99, resetSeconds: 0.2);
        await Task.Delay(400);

        await gate.WaitTurnAsync(CancellationToken.None); // the window is over: this request probes the new one
        gate.Report(limit: 100, remaining: 1, resetSeconds: 0);   // sent in the old window, answered late
        gate.Report(limit: 100, remaining: 99, resetSeconds: 5);  // the probe's answer

        Assert.Equal(99, gate.Remaining);
    }
}
