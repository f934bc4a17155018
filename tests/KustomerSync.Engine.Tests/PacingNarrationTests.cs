using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// What -Verbose says when the gate holds a request: a wait caused by the sync's own share of the org's budget is told
/// as that, with what the org still has left, not as a spent window. Scripted answers on a fake clock.
/// </summary>
public class PacingNarrationTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private const string Found = """{"data":{"id":"x"}}""";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturedLog _log = new();

    private KustomerClient Client(int limit, Func<int, int> remainingAfter)
    {
        var calls = 0;
        var handler = new ScriptedHandler(_ => KustomerClientTests.Answer(200, Found, limit: limit, remaining: remainingAfter(Interlocked.Increment(ref calls)), reset: "12"));
        return new KustomerClient(new Uri("http://127.0.0.1:9/"), SecretText.Protect("test-key"), new KustomerClientOptions { Time = _time }, handler) { Log = _log };
    }

    private static Task<KustomerResponse> Get(KustomerClient client) =>
        client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);

    [Fact]
    public async Task A_wait_for_the_sync_s_spent_share_says_what_the_org_has_left_for_its_other_apps()
    {
        using var client = Client(limit: 4, remainingAfter: sent => 4 - sent);
        using var share = client.Gate.Hold(0.75);
        for (var i = 0; i < 3; i++) await Get(client);

        var held = Get(client);

        Assert.Equal(new[] { "Pacing to this sync's share: 3 of its 3 requests a rate window used (the org's limit is 4), the org has 1 left for its other apps; next request in 12 s." }, _log.VerboseLines);
        Assert.False(held.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(13));
        await held.WaitAsync(Safety);
    }

    [Fact]
    public async Task Pacing_to_the_sync_s_share_says_what_the_share_and_the_org_have_left()
    {
        using var client = Client(limit: 20, remainingAfter: sent => 20 - sent);
        using var share = client.Gate.Hold(0.5);
        // The first half of the share's 10 goes at once, the sixth on its paced slot, which is now.
        for (var i = 0; i < 6; i++) await Get(client);

        var paced = Get(client);

        Assert.Equal(new[] { "Pacing requests to this sync's share: 4 of its 10 requests a rate window left (the org's limit is 20), the org has 14 left; the window resets in 12 s." }, _log.VerboseLines);
        Assert.False(paced.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(3));
        await paced.WaitAsync(Safety);
    }

    [Fact]
    public async Task A_window_the_org_spent_is_told_as_spent_though_the_sync_s_share_has_requests_left()
    {
        // Other apps of the org took the window: the share would allow 2 more.
        using var client = Client(limit: 4, remainingAfter: _ => 0);
        using var share = client.Gate.Hold(0.75);
        await Get(client);

        var held = Get(client);

        Assert.Equal(new[] { "Waiting for Kustomer's rate window: 0 of 4 requests left, resets in 12 s." }, _log.VerboseLines);
        _time.Advance(TimeSpan.FromSeconds(13));
        await held.WaitAsync(Safety);
    }
}
