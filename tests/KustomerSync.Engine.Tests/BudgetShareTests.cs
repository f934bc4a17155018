using System.Collections.Concurrent;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;
using Microsoft.Extensions.Time.Testing;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// A sync takes only its share of the org's budget, which the org's other apps share (§10): judged on one fake clock
/// for the emulator's windows and the client's waits, by what the emulator said was left after each answer.
/// </summary>
public class BudgetShareTests
{
    /// <summary>Requests sent before the emulator's window turned that it counts in the next one (they were on their way).</summary>
    private const int InFlightAtTurn = 4;

    private static IEnumerable<(string[], object?[])> Customers(int count, string prefix) =>
        Enumerable.Range(1, count).Select(i => (new[] { "externalId", "name" }, new object?[] { $"{prefix}{i}", $"Customer {i}" }));

    /// <summary>Notes, for each answer, when it came (on the given clock) and how much of the org's window it said was left.</summary>
    private sealed class BudgetLog(TimeProvider clock) : DelegatingHandler(new SocketsHttpHandler())
    {
        public ConcurrentQueue<(DateTimeOffset At, int Remaining)> Answers { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("x-ratelimit-remaining", out var values) && int.TryParse(values.First(), out var remaining))
                Answers.Enqueue((clock.GetUtcNow(), remaining));
            return response;
        }
    }

    private static KustomerClient Client(EmulatorServer server, BulkClock clock, BudgetLog log) =>
        new(server.BaseUri, SecretText.Protect(EmulatorServer.DefaultKey),
            new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50), Time = clock }, log);

    [Fact]
    public async Task A_run_leaves_the_rest_of_each_window_to_the_orgs_other_apps()
    {
        var clock = new BulkClock();
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 40, RateWindowSeconds = 1, TimeProvider = clock.Silent });
        var log = new BudgetLog(clock);
        using var client = Client(server, clock, log);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { BudgetShare = 0.5 };

        var (summary, results) = await clock.RunAsync(Task.Run(() => RunAsync(client, options, Customers(60, "half-"))));

        Assert.Equal(60, summary.Created);
        Assert.Equal(0, summary.RateLimited);
        // Half of 40 a window: 20 of every window stay with the org's other apps, give or take the requests in flight when
        // the emulator's window turned (on a busy machine the fake clock moves on while a request is on its way, so it
        // arrives in the next window; without the share the org would be left none).
        Assert.True(log.Answers.Min(a => a.Remaining) >= 20 - InFlightAtTurn, $"the org had only {log.Answers.Min(a => a.Remaining)} of 40 left at one point");
        Assert.Equal(40, summary.RateLimit);
        Assert.Equal(20, summary.RateBudget);
        Assert.InRange(summary.RateUsed!.Value, 10, 20);
        Assert.Equal(40 - summary.RateUsed, summary.RateLeft);
        // 120 requests at 20 a window take at least five more windows.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(5), $"{summary.Requests} requests took {clock.Elapsed.TotalSeconds:N1} s on the fake clock");
    }

    [Fact]
    public async Task A_cap_in_requests_applies_with_the_share()
    {
        var clock = new BulkClock();
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 40, RateWindowSeconds = 1, TimeProvider = clock.Silent });
        var log = new BudgetLog(clock);
        using var client = Client(server, clock, log);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { BudgetShare = 1, MaxRequestsPerMinute = 10 };

        var (summary, _) = await clock.RunAsync(Task.Run(() => RunAsync(client, options, Customers(20, "cap-"))));

        Assert.Equal(20, summary.Created);
        Assert.Equal(10, summary.RateBudget);
        // 10 of 40 a window, give or take the requests in flight at a turn (see above).
        Assert.True(log.Answers.Min(a => a.Remaining) >= 30 - InFlightAtTurn, $"the org had only {log.Answers.Min(a => a.Remaining)} of 40 left at one point");
    }

    [Fact]
    public async Task Runs_sharing_an_org_in_one_process_keep_to_the_smallest_share_while_it_runs()
    {
        var clock = new BulkClock();
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 40, RateWindowSeconds = 1, TimeProvider = clock.Silent });
        var log = new BudgetLog(clock);
        var narrowLog = new BudgetLog(clock);
        // Two clients of one org on one clock share its gate, as two runs of one PowerShell session do.
        using var wide = Client(server, clock, log);
        using var narrow = Client(server, clock, narrowLog);
        Assert.Same(wide.Gate, narrow.Gate);
        var key = RecordKey.Parse("ExternalId", KustomerObject.Customer);

        var both = Task.Run(async () =>
        {
            var first = RunAsync(wide, new UpsertOptions(KustomerObject.Customer, key) { BudgetShare = 0.8 }, Customers(80, "wide-"));
            var second = RunAsync(narrow, new UpsertOptions(KustomerObject.Customer, key) { BudgetShare = 0.25 }, Customers(20, "narrow-"));
            var narrowSummary = (await second).Summary;
            var narrowEnded = clock.GetUtcNow();
            return (Wide: (await first).Summary, Narrow: narrowSummary, NarrowEnded: narrowEnded);
        });
        var (wideSummary, narrowSummary, narrowEnded) = await clock.RunAsync(both);

        Assert.Equal(80, wideSummary.Created);
        Assert.Equal(20, narrowSummary.Created);
        Assert.Equal(0, wideSummary.RateLimited + narrowSummary.RateLimited);
        Assert.Equal(10, narrowSummary.RateBudget);
        Assert.Equal(32, wideSummary.RateBudget);
        // While the narrow run ran, the process as a whole kept to its quarter from the first window on that began after
        // the narrow run took its share (after its first two requests, which read the schema and the key's roles; the
        // wide run may have spent more of the window running then): 30 of 40 stayed with the org's other apps, give or
        // take the few requests in flight when Kustomer's window turned over before the gate saw it turn (the emulator
        // sends no reset figure on success, so the gate learns of a new window from the next answer).
        var narrowHeld = narrowLog.Answers.OrderBy(a => a.At).ElementAt(2).At;
        var whileNarrow = log.Answers.Concat(narrowLog.Answers).Where(a => a.At >= narrowHeld.AddSeconds(1) && a.At < narrowEnded).Min(a => a.Remaining);
        Assert.True(whileNarrow >= 24, $"the org had only {whileNarrow} of 40 left while the 0.25 run ran");
        // Once it was done, the other run took its own larger share.
        Assert.True(wideSummary.RateUsed > 10, $"the 0.8 run used at most {wideSummary.RateUsed} a window after the 0.25 run ended");
        Assert.InRange(wideSummary.RateUsed!.Value, 11, 32);
    }

    [Theory]
    [InlineData(true, 4)]
    [InlineData(false, 6)]
    public async Task A_share_caps_what_the_gate_lets_through_in_a_window(bool held, int through)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var gate = new RateGate(time);
        (await gate.AcquireAsync(CancellationToken.None)).Report(limit: 10, remaining: 9, resetSeconds: 2);
        using var share = held ? gate.Hold(0.5) : null;

        var turns = Enumerable.Range(0, 6).Select(_ => gate.AcquireAsync(CancellationToken.None)).ToList();
        time.Advance(TimeSpan.FromSeconds(1.9));

        // Half of ten a window, the first request included: four more go, the others wait for the next window.
        await Task.WhenAll(turns.Take(through)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(turns.Skip(through), t => Assert.False(t.IsCompleted));
        Assert.Equal(through + 1, gate.PeakUsed);
        if (share is not null) Assert.Equal(5, share.Budget);
    }
}
