using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// The client's reading of Kustomer's budgets and refusals, against scripted answers on a fake clock: nothing here waits
/// on the wall clock (a request the client should not hold is awaited with a safety timeout only).
/// </summary>
public class KustomerClientTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    private KustomerClient Client(ScriptedHandler handler, Action<KustomerClientOptions>? configure = null)
    {
        var options = new KustomerClientOptions { Time = _time };
        configure?.Invoke(options);
        return new KustomerClient(new Uri("http://127.0.0.1:9/"), SecretText.Protect("test-key"), options, handler);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("soon", null)]
    [InlineData("30", 30.0)]
    [InlineData("0", 0.0)]
    [InlineData("-5", 0.0)]
    [InlineData("900", 120.0)]
    [InlineData("1796126445", 45.0)]        // epoch seconds: 45 s after the fake now
    [InlineData("1796126445000", 45.0)]     // epoch milliseconds
    [InlineData("1796126300", 0.0)]         // an epoch already past
    [InlineData("1796136400", 120.0)]       // an epoch hours away is clamped
    [InlineData("1e300", 120.0)]
    public void The_reset_header_is_read_in_any_unit_and_clamped(string? header, double? expected)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1796126400);
        Assert.Equal(expected, KustomerClient.ResetSeconds(header, now));
    }

    [Fact]
    public async Task Search_answers_do_not_lower_the_org_budget()
    {
        var handler = new ScriptedHandler(r => r.RequestUri!.AbsolutePath.Contains("search")
            ? Answer(200, """{"data":[]}""", limit: 100, remaining: 3, reset: "40")
            : Answer(200, """{"data":{"id":"x"}}""", limit: 1000, remaining: 900, reset: "40"));
        using var client = Client(handler);

        await client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);
        await client.SendAsync(HttpMethod.Post, "customers/search", new JsonObject(), RequestKind.Search, CancellationToken.None);

        // The search spent one org unit; its figures (which budget they describe is undocumented) are not taken in.
        Assert.Equal(899, client.Gate.Remaining);
    }

    [Fact]
    public async Task Searches_are_paced_on_a_budget_of_their_own()
    {
        var handler = new ScriptedHandler(_ => Answer(200, """{"data":[]}"""));
        using var client = Client(handler, o => o.SearchLimit = 2);

        var searches = Enumerable.Range(0, 3)
            .Select(_ => client.SendAsync(HttpMethod.Post, "customers/search", new JsonObject(), RequestKind.Search, CancellationToken.None)).ToList();
        await Task.WhenAll(searches.Take(2)).WaitAsync(Safety);

        Assert.False(searches[2].IsCompleted);
        Assert.Equal(2, handler.Count("search"));
        _time.Advance(TimeSpan.FromSeconds(61));
        await searches[2].WaitAsync(Safety);
        Assert.Equal(3, handler.Count("search"));
    }

    [Fact]
    public async Task A_429_while_the_org_budget_has_room_backs_off_that_request_alone()
    {
        var creates = 0;
        var handler = new ScriptedHandler(r => r.Method == HttpMethod.Post && Interlocked.Increment(ref creates) == 1
            ? Answer(429, """{"errors":[{"status":429,"code":"rate_limited","title":"Too Many Requests"}]}""", limit: 1000, remaining: 700, reset: "50")
            : Answer(r.Method == HttpMethod.Post ? 201 : 200, """{"data":{"id":"5f1b2c3d4e5f6a7b8c9d0e1f"}}""", limit: 1000, remaining: 690, reset: "50"));
        using var client = Client(handler);

        var create = client.SendAsync(HttpMethod.Post, "klasses/order", new JsonObject { ["title"] = "t" }, RequestKind.Create, CancellationToken.None);
        await handler.WaitForAsync(() => handler.Count("klasses") == 1).WaitAsync(Safety);

        // Another customer's request goes at once: the org gate is not held for a per-customer limit.
        await client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None).WaitAsync(Safety);
        Assert.True(client.Gate.Remaining > 0);
        Assert.False(create.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await create.WaitAsync(Safety);
        Assert.Equal(2, handler.Count("klasses"));
        Assert.Equal(1, client.RateLimited);
    }

    [Fact]
    public async Task A_429_with_the_org_budget_spent_holds_every_request_until_the_reset()
    {
        var first = 0;
        var handler = new ScriptedHandler(_ => Interlocked.Increment(ref first) == 1
            ? Answer(429, """{"errors":[{"status":429}]}""", limit: 1000, remaining: 0, reset: "30")
            : Answer(200, """{"data":{"id":"x"}}""", limit: 1000, remaining: 999, reset: "60"));
        using var client = Client(handler);

        var held = client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);
        await handler.WaitForAsync(() => handler.Count("customers") == 1).WaitAsync(Safety);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(held.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));
        await held.WaitAsync(Safety);
    }

    [Fact]
    public async Task A_wait_for_the_rate_window_is_told_before_it_starts_once_for_all_the_requests_it_holds()
    {
        var calls = 0;
        var handler = new ScriptedHandler(_ => Interlocked.Increment(ref calls) == 1
            ? Answer(200, """{"data":{"id":"x"}}""", limit: 1000, remaining: 0, reset: "23")
            : Answer(200, """{"data":{"id":"x"}}""", limit: 1000, remaining: 999, reset: "60"));
        using var client = Client(handler);
        var log = new CapturedLog();
        client.Log = log;
        await client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);

        var held = Enumerable.Range(0, 3).Select(_ => client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None)).ToList();

        // Said while the requests wait, with the figures, once for the three of them; progress can tell the wait too.
        Assert.Equal(new[] { "Waiting for Kustomer's rate window: 0 of 1,000 requests left, resets in 23 s." }, log.VerboseLines);
        Assert.True(client.WaitingForRateWindow);
        Assert.All(held, t => Assert.False(t.IsCompleted));

        _time.Advance(TimeSpan.FromSeconds(24));
        await Task.WhenAny(held).WaitAsync(Safety); // the probe of the new window
        _time.Advance(TimeSpan.FromSeconds(1));      // the others look again
        await Task.WhenAll(held).WaitAsync(Safety);
        Assert.False(client.WaitingForRateWindow);
        Assert.Single(log.VerboseLines);
    }

    [Fact]
    public async Task Pacing_in_a_window_is_told_once_and_is_not_a_wait_for_the_window()
    {
        var calls = 0;
        var handler = new ScriptedHandler(_ => Answer(200, """{"data":{"id":"x"}}""", limit: 10, remaining: 5 - Interlocked.Increment(ref calls), reset: "2"));
        using var client = Client(handler);
        var log = new CapturedLog();
        client.Log = log;
        await client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);

        // 4 of 10 left: the next request goes at once, the two after it are spread over the 2 s left.
        var paced = Enumerable.Range(0, 3).Select(_ => client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None)).ToList();

        Assert.Equal(new[] { "Pacing requests over Kustomer's rate window: 3 of 10 requests left, resets in 2 s." }, log.VerboseLines);
        Assert.False(client.WaitingForRateWindow);
        _time.Advance(TimeSpan.FromSeconds(2.1));
        await Task.WhenAll(paced).WaitAsync(Safety);
        Assert.Single(log.VerboseLines);
    }

    [Fact]
    public async Task A_probe_cancelled_while_it_waits_for_its_answer_does_not_hold_later_requests()
    {
        var customers = 0;
        var handler = new ScriptedHandler(async (_, cancellationToken) =>
        {
            if (Interlocked.Increment(ref customers) == 2) await Task.Delay(Timeout.Infinite, cancellationToken);
            return Answer(200, """{"data":{"id":"x"}}""", limit: 100, remaining: 99, reset: "1");
        });
        using var client = Client(handler);
        await client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));

        // The window is over: this request probes the new one, and Ctrl+C (or a completion's budget) ends it unanswered.
        using var cancel = new CancellationTokenSource();
        var probe = client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, cancel.Token);
        await handler.WaitForAsync(() => handler.Count("customers") == 2).WaitAsync(Safety);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe);

        // The next request to the org goes without the clock moving: the cancelled probe gave its turn back.
        await client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None).WaitAsync(Safety);
        Assert.Equal(99, client.Gate.Remaining);
    }

    [Fact]
    public async Task A_paced_request_cancelled_before_its_answer_gives_its_unit_back()
    {
        var customers = 0;
        var handler = new ScriptedHandler(async (_, cancellationToken) =>
        {
            if (Interlocked.Increment(ref customers) == 2) await Task.Delay(Timeout.Infinite, cancellationToken);
            return Answer(200, """{"data":{"id":"x"}}""", limit: 100, remaining: 10, reset: "60");
        });
        using var client = Client(handler);
        await client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        var read = client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, cancel.Token);
        await handler.WaitForAsync(() => handler.Count("customers") == 2).WaitAsync(Safety);
        Assert.Equal(9, client.Gate.Remaining);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);

        // Gates live as long as the process: a unit kept by every cancelled request would shrink the org's budget for good.
        Assert.Equal(10, client.Gate.Remaining);
    }

    [Fact]
    public async Task Retries_after_a_server_error_wait_on_the_injected_clock()
    {
        var calls = 0;
        var handler = new ScriptedHandler(_ => Interlocked.Increment(ref calls) == 1 ? Answer(503, "") : Answer(200, """{"data":{"id":"x"}}"""));
        using var client = Client(handler, o => { o.BaseBackoff = TimeSpan.FromSeconds(10); o.MaxBackoff = TimeSpan.FromSeconds(10); });

        var read = client.SendAsync(HttpMethod.Get, "customers/x", null, RequestKind.Idempotent, CancellationToken.None);
        await handler.WaitForAsync(() => handler.Count("customers") == 1).WaitAsync(Safety);
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(read.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(5.2));
        Assert.Equal("x", (await read.WaitAsync(Safety)).DataId);
    }

    [Fact]
    public async Task A_401_naming_a_role_from_a_good_key_is_a_missing_role()
    {
        var handler = new ScriptedHandler(r => r.RequestUri!.AbsolutePath.EndsWith("auth/tokens/current")
            ? Answer(200, """{"data":{"type":"token","id":"t","attributes":{"roles":["org.permission.customer"]}}}""")
            : Answer(401, """{"errors":[{"status":401,"title":"Unauthorized","detail":"missing role: org.admin.metadata.read"}]}"""));
        using var client = Client(handler);

        var error = await Assert.ThrowsAsync<KustomerApiException>(() =>
            client.SendAsync(HttpMethod.Get, "metadata/customer", null, RequestKind.Idempotent, CancellationToken.None));
        Assert.Equal("KustomerSync.MissingRole", error.ErrorId);

        // The paths that make do without metadata or the klass list treat it like a 403.
        var schema = await SchemaCatalog.LoadAsync(client, KustomerObject.Customer, CancellationToken.None);
        Assert.False(schema.CustomAttributesKnown);
        var klasses = await Assert.ThrowsAsync<KustomerException>(() => KlassCatalog.ListAsync(client, null, CancellationToken.None));
        Assert.Equal("KustomerSync.MissingRole", klasses.ErrorId);
        Assert.Contains("401", klasses.Message);
        Assert.Equal(1, handler.Count("auth/tokens/current"));
    }

    [Fact]
    public async Task A_401_from_a_key_that_is_refused_everywhere_stays_an_authentication_failure()
    {
        var handler = new ScriptedHandler(_ => Answer(401, """{"errors":[{"status":401,"detail":"Invalid auth token or missing role"}]}"""));
        using var client = Client(handler);

        var error = await Assert.ThrowsAsync<KustomerApiException>(() =>
            client.SendAsync(HttpMethod.Get, "metadata/customer", null, RequestKind.Idempotent, CancellationToken.None));
        Assert.Equal("KustomerSync.AuthenticationFailed", error.ErrorId);
        var load = await Assert.ThrowsAsync<KustomerApiException>(() => SchemaCatalog.LoadAsync(client, KustomerObject.Customer, CancellationToken.None));
        Assert.Equal("KustomerSync.AuthenticationFailed", load.ErrorId);
    }

    internal static HttpResponseMessage Answer(int status, string body, int? limit = null, int? remaining = null, string? reset = null)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (limit is not null) response.Headers.Add("x-ratelimit-limit", limit.Value.ToString());
        if (remaining is not null) response.Headers.Add("x-ratelimit-remaining", remaining.Value.ToString());
        if (reset is not null) response.Headers.Add("x-ratelimit-reset", reset);
        return response;
    }
}

/// <summary>Answers requests from a script, and records their paths.</summary>
internal sealed class ScriptedHandler : HttpMessageHandler
{
    private readonly Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _answer;
    private readonly ConcurrentQueue<string> _paths = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> answer)
        : this((request, _) => Task.FromResult(answer(request)))
    {
    }

    /// <summary>A script that may hold an answer (until the request is cancelled, say); the request counts as arrived at once.</summary>
    public ScriptedHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer)
    {
        _answer = answer;
    }

    public int Count(string pathPart) => _paths.Count(p => p.Contains(pathPart, StringComparison.Ordinal));

    /// <summary>Waits until a request has made <paramref name="condition"/> true.</summary>
    public async Task WaitForAsync(Func<bool> condition)
    {
        while (!condition()) await _arrived.WaitAsync();
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = _answer(request, cancellationToken);
        _paths.Enqueue(request.RequestUri!.AbsolutePath);
        _arrived.Release();
        return response;
    }
}

/// <summary>The engine's narration, kept for assertions (thread-safe).</summary>
internal sealed class CapturedLog : KustomerSync.Engine.Diagnostics.IEngineLog
{
    private readonly ConcurrentQueue<string> _verbose = new();
    private readonly ConcurrentQueue<string> _debug = new();

    public bool VerboseEnabled => true;
    public bool DebugEnabled => false;
    public string[] VerboseLines => _verbose.ToArray();
    public string[] DebugLines => _debug.ToArray();
    public void Verbose(string message) => _verbose.Enqueue(message);
    public void Debug(string message) => _debug.Enqueue(message);
}
