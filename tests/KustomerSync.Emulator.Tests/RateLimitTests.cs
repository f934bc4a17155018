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
        var reset = int.Parse(ok.Header("x-ratelimit-reset")!);
        Assert.InRange(reset, 1, 30);
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
        var reset = int.Parse(limited.Header("x-ratelimit-reset")!);
        Assert.InRange(reset, 1, 2);
        await Task.Delay(TimeSpan.FromSeconds(reset) + TimeSpan.FromMilliseconds(150));
        var after = (await c.Get("v1/auth/tokens/current")).Expect(200);
        Assert.Equal("2", after.Header("x-ratelimit-remaining"));

        using var inspect = server.CreateClient(null);
        Assert.Equal(1, (await inspect.Get("_emulator/stats")).Body!["rateLimited"]!.GetValue<int>());
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
        Assert.Equal("1", first.Header("x-ratelimit-search-remaining"));
        Assert.Equal("99", first.Header("x-ratelimit-remaining"));
        (await c.Post("v1/customers/search", q)).Expect(200);
        var limited = (await c.Post("v1/customers/search", q)).Expect(429);
        Assert.Contains("Search rate limit", limited.Error["detail"]!.GetValue<string>());
        (await c.Get("v1/auth/tokens/current")).Expect(200); // org budget still has room
        using var inspect = server.CreateClient(null);
        Assert.Equal(1, (await inspect.Get("_emulator/stats")).Body!["searchRateLimited"]!.GetValue<int>());
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
