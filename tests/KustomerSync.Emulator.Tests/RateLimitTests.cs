namespace KustomerSync.Emulator.Tests;

public class RateLimitTests
{
    [Fact]
    public async Task Every_v1_response_carries_the_headers_and_remaining_counts_down()
    {
        await using var server = await Api.Start(o => { o.RateLimit = 10; o.RateWindowSeconds = 30; });
        using var c = server.CreateClient();
        var ok = (await c.Get("v1/auth/tokens/current")).Expect(200);
        Assert.Equal("10", ok.Header("x-ratelimit-limit"));
        Assert.Equal("9", ok.Header("x-ratelimit-remaining"));
        Assert.Null(ok.Header("x-ratelimit-reset")); // default: reset only on 429s
        var notFound = (await c.Get("v1/customers/externalId=none")).Expect(404);
        Assert.Equal("8", notFound.Header("x-ratelimit-remaining"));
        var bad = (await c.Post("v1/customers", "{not json")).Expect(400);
        Assert.Equal("7", bad.Header("x-ratelimit-remaining"));
        var unrouted = (await c.Get("v1/nothing-here")).Expect(404);
        Assert.Equal("6", unrouted.Header("x-ratelimit-remaining"));
    }

    [Fact]
    public async Task Over_budget_is_429_with_errors_body_until_the_window_resets()
    {
        await using var server = await Api.Start(o => { o.RateLimit = 3; o.RateWindowSeconds = 2; });
        using var c = server.CreateClient();
        for (var i = 0; i < 3; i++) (await c.Get("v1/auth/tokens/current")).Expect(200);
        var limited = (await c.Get("v1/auth/tokens/current")).Expect(429);
        Assert.Equal(429, limited.Error["status"]!.GetValue<int>());
        Assert.Equal("rate_limited", limited.Error["code"]!.GetValue<string>());
        Assert.Equal("Too Many Requests", limited.Error["title"]!.GetValue<string>());
        Assert.Equal("0", limited.Header("x-ratelimit-remaining"));
        var resetAt = DateTimeOffset.FromUnixTimeSeconds(long.Parse(limited.Header("x-ratelimit-reset")!)); // default: epoch seconds
        var now = DateTimeOffset.Parse((await c.Get("_emulator/clock")).Body!["now"]!.GetValue<string>());
        Assert.InRange((resetAt - now).TotalSeconds, 0, 3);
        await c.AdvanceClock(1);
        (await c.Get("v1/auth/tokens/current")).Expect(429);
        await c.AdvanceClock(2);
        var after = (await c.Get("v1/auth/tokens/current")).Expect(200);
        Assert.Equal("2", after.Header("x-ratelimit-remaining"));

        using var inspect = server.CreateClient(null);
        Assert.Equal(2, (await inspect.Get("_emulator/stats")).Body!["rateLimited"]!.GetValue<int>());
    }

    [Fact]
    public async Task Budget_is_per_org_shared_by_all_keys()
    {
        await using var server = await Api.Start(o => { o.RateLimit = 2; o.RateWindowSeconds = 30; });
        using var a = server.CreateClient();
        using var b = server.CreateClient(EmulatorServer.BulkKey);
        (await a.Get("v1/auth/tokens/current")).Expect(200);
        (await b.Get("v1/auth/tokens/current")).Expect(200);
        (await a.Get("v1/auth/tokens/current")).Expect(429);
        (await b.Get("v1/auth/tokens/current")).Expect(429);
    }

    [Fact]
    public async Task A_bulk_request_of_100_items_counts_as_one_unit()
    {
        await using var server = await Api.Start(o => { o.RateLimit = 5; o.RateWindowSeconds = 30; });
        using var c = server.CreateClient();
        var items = string.Join(",", Enumerable.Range(0, 100).Select(i => $$"""{"externalId":"bulk-{{i}}"}"""));
        var r = (await c.Post("v1/customers/bulk", $"[{items}]")).Expect(201);
        Assert.Equal("4", r.Header("x-ratelimit-remaining"));
    }

    [Fact]
    public async Task Search_has_its_own_smaller_budget()
    {
        await using var server = await Api.Start(o => { o.RateLimit = 100; o.SearchRateLimit = 2; o.RateWindowSeconds = 30; });
        using var c = server.CreateClient();
        const string q = """{"queryContext":"customer"}""";
        var first = (await c.Post("v1/customers/search", q)).Expect(200);
        Assert.Null(first.Header("x-ratelimit-search-remaining")); // default: search responses carry the org headers only
        Assert.Equal("99", first.Header("x-ratelimit-remaining"));
        Assert.Equal("100", first.Header("x-ratelimit-limit"));
        (await c.Post("v1/customers/search", q)).Expect(200);
        var limited = (await c.Post("v1/customers/search", q)).Expect(429);
        Assert.Contains("Search rate limit", limited.Error["detail"]!.GetValue<string>());
        Assert.NotEqual("0", limited.Header("x-ratelimit-remaining")); // the org budget still has room
        (await c.Get("v1/auth/tokens/current")).Expect(200); // org budget still has room
        using var inspect = server.CreateClient(null);
        Assert.Equal(1, (await inspect.Get("_emulator/stats")).Body!["searchRateLimited"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_search_budget_is_100_a_window_per_api_key_by_default()
    {
        await using var server = await Api.Start(o => o.RateLimit = 10_000);
        Assert.Equal(100, server.Options.SearchRateLimit);
        using var a = server.CreateClient();
        using var b = server.CreateClient(EmulatorServer.BulkKey);
        const string q = """{"queryContext":"customer"}""";
        for (var i = 0; i < 100; i++) (await a.Post("v1/customers/search", q)).Expect(200);
        (await a.Post("v1/customers/search", q)).Expect(429);
        (await b.Post("v1/customers/search", q)).Expect(200); // another key, its own bucket
        (await a.Get("v1/customers/externalId=x")).Expect(404); // lookups are not searches
        await a.AdvanceClock(60);
        (await a.Post("v1/customers/search", q)).Expect(200);
    }

    [Theory]
    [InlineData("search", "100", "99", null)]
    [InlineData("both", "1000", "998", "99")]
    public async Task Search_rate_headers_setting_says_which_budget_search_responses_describe(string mode, string limit, string remaining, string? searchRemaining)
    {
        await using var server = await Api.Start(o => o.SearchRateHeaders = mode);
        using var c = server.CreateClient();
        (await c.Get("v1/auth/tokens/current")).Expect(200);
        var r = (await c.Post("v1/customers/search", """{"queryContext":"customer"}""")).Expect(200);
        Assert.Equal(limit, r.Header("x-ratelimit-limit"));
        Assert.Equal(remaining, r.Header("x-ratelimit-remaining"));
        Assert.Equal(searchRemaining, r.Header("x-ratelimit-search-remaining"));
    }

    [Theory]
    [InlineData("seconds")]
    [InlineData("epoch-seconds")]
    [InlineData("epoch-ms")]
    public async Task Reset_format_and_presence_on_success_are_settings(string format)
    {
        await using var server = await Api.Start(o => { o.RateLimit = 2; o.RateWindowSeconds = 30; o.RateResetFormat = format; o.RateResetOnSuccess = true; });
        using var c = server.CreateClient();
        var ok = (await c.Get("v1/auth/tokens/current")).Expect(200);
        var now = DateTimeOffset.Parse((await c.Get("_emulator/clock")).Body!["now"]!.GetValue<string>());
        var value = long.Parse(ok.Header("x-ratelimit-reset")!);
        var resetAt = format switch
        {
            "seconds" => now.AddSeconds(value),
            "epoch-seconds" => DateTimeOffset.FromUnixTimeSeconds(value),
            _ => DateTimeOffset.FromUnixTimeMilliseconds(value),
        };
        Assert.InRange((resetAt - now).TotalSeconds, 28, 31);
        if (format == "epoch-ms") Assert.True(value > 1_000_000_000_000);
        if (format == "epoch-seconds") Assert.InRange(value, 1_000_000_000, 1_000_000_000_000);
        if (format == "seconds") Assert.InRange(value, 1, 30);
    }

    [Fact]
    public async Task Rate_windows_run_on_an_injected_time_provider()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-06-01T00:00:00Z"));
        await using var server = await Api.Start(o => { o.RateLimit = 1; o.RateWindowSeconds = 60; o.TimeProvider = time; });
        using var c = server.CreateClient();
        (await c.Get("v1/auth/tokens/current")).Expect(200);
        (await c.Get("v1/auth/tokens/current")).Expect(429);
        time.Advance(TimeSpan.FromSeconds(59));
        (await c.Get("v1/auth/tokens/current")).Expect(429);
        time.Advance(TimeSpan.FromSeconds(1));
        var r = (await c.Post("v1/customers", "{}")).Expect(201);
        Assert.Equal("2026-06-01T00:01:00.000Z", r.Attributes["createdAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rate_limit_zero_turns_limiting_off()
    {
        await using var server = await Api.Start(o => o.RateLimit = 0);
        using var c = server.CreateClient();
        for (var i = 0; i < 30; i++)
        {
            var r = (await c.Get("v1/auth/tokens/current")).Expect(200);
            Assert.Null(r.Header("x-ratelimit-limit"));
        }
    }

    [Fact]
    public async Task Health_and_inspection_are_never_limited()
    {
        await using var server = await Api.Start(o => { o.RateLimit = 1; o.RateWindowSeconds = 30; });
        using var c = server.CreateClient();
        (await c.Get("v1/auth/tokens/current")).Expect(200);
        (await c.Get("v1/auth/tokens/current")).Expect(429);
        for (var i = 0; i < 5; i++)
        {
            (await c.Get("health")).Expect(200);
            (await c.Get("_emulator/stats")).Expect(200);
        }
    }

    [Fact]
    public async Task Run_time_options_change_the_limit()
    {
        await using var server = await Api.Start(o => { o.RateLimit = 1; o.RateWindowSeconds = 30; });
        using var c = server.CreateClient();
        (await c.Get("v1/auth/tokens/current")).Expect(200);
        (await c.Get("v1/auth/tokens/current")).Expect(429);
        var opts = (await c.Put("_emulator/options", """{"rateLimit":5}""")).Expect(200);
        Assert.Equal(5, opts.Body!["rateLimit"]!.GetValue<int>());
        var r = (await c.Get("v1/auth/tokens/current")).Expect(200);
        Assert.Equal("5", r.Header("x-ratelimit-limit"));
        Assert.Equal(5, server.Options.RateLimit);
    }
}
