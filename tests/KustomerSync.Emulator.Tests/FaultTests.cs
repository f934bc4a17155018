using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Emulator.Tests;

public class FaultTests
{
    [Fact]
    public async Task FailNext_fails_exactly_the_next_n_requests_with_the_given_status()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var armed = (await c.Post("_emulator/faults", """{"failNext":3,"status":503}""")).Expect(200);
        Assert.Equal(3, armed.Body!["pendingFailNext"]!.GetValue<int>());
        for (var i = 0; i < 3; i++)
        {
            var r = (await c.Post("v1/customers", $$"""{"externalId":"f-{{i}}"}""")).Expect(503);
            Assert.Equal(503, r.Error["status"]!.GetValue<int>());
        }
        (await c.Post("v1/customers", """{"externalId":"f-ok"}""")).Expect(201);
        var state = (await c.Get("_emulator/state?items=false")).Body!;
        Assert.Equal(1, state["customers"]!["count"]!.GetValue<int>()); // failed before processing: nothing stored
        Assert.Equal(3, (await c.Get("_emulator/stats")).Body!["faults"]!["failNext"]!.GetValue<int>());
    }

    [Fact]
    public async Task Faults_do_not_touch_health_or_inspection()
    {
        await using var server = await Api.Start(o => o.Fault5xxRate = 1);
        using var c = server.CreateClient();
        (await c.Get("health")).Expect(200);
        (await c.Get("_emulator/stats")).Expect(200);
        Assert.True((await c.Get("v1/auth/tokens/current")).Code >= 500);
    }

    [Fact]
    public async Task Fault_rate_is_deterministic_for_a_seed()
    {
        async Task<string> Pattern()
        {
            await using var server = await Api.Start(o => { o.Fault5xxRate = 0.5; o.Seed = 1234; });
            using var c = server.CreateClient();
            var codes = new List<int>();
            for (var i = 0; i < 30; i++) codes.Add((await c.Get("v1/auth/tokens/current")).Code);
            return string.Join(",", codes);
        }
        var a = await Pattern();
        var b = await Pattern();
        Assert.Equal(a, b);
        Assert.Contains("200", a);
        Assert.Matches("50[0234]", a);
    }

    [Fact]
    public async Task Lost_creates_are_committed_then_answered_with_5xx()
    {
        await using var server = await Api.Start(o => { o.FaultLostCreateRate = 1; o.Seed = 7; });
        using var c = server.CreateClient();
        var r = await c.Post("v1/customers", """{"externalId":"lost-1"}""");
        Assert.InRange(r.Code, 500, 504);
        Assert.Equal(200, (await c.Get("v1/customers/externalId=lost-1")).Code); // it exists
        Assert.Equal(400, (await c.Post("v1/customers", """{"externalId":"lost-1"}""")).Code); // blind re-post: duplicate
        var co = await c.Post("v1/companies", """{"name":"Lost Co","externalId":"lc-1"}""");
        Assert.InRange(co.Code, 500, 504);
        Assert.Single((await c.Get("v1/companies?externalId=lc-1")).Expect(200).Body!["data"]!.AsArray());
        var ko = await c.Post("v1/klasses/order", """{"title":"Lost","externalId":"lo-1"}""");
        Assert.InRange(ko.Code, 500, 504);
        (await c.Get("v1/klasses/order/externalId=lo-1")).Expect(200);
        (await c.Patch($"v1/customers/{(await c.Get("v1/customers/externalId=lost-1")).Id}", """{"name":"updates are not lost"}""")).Expect(200);
        Assert.Equal(3, (await c.Get("_emulator/stats")).Body!["faults"]!["lostCreates"]!.GetValue<int>());
    }

    [Fact]
    public async Task Latency_is_added_to_v1_requests_only()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-06-01T00:00:00Z"));
        await using var server = await Api.Start(o => { o.LatencyMs = 300; o.TimeProvider = time; });
        using var c = server.CreateClient();
        var start = time.GetUtcNow();
        var pending = c.Get("v1/auth/tokens/current");
        (await c.Get("health")).Expect(200); // answered while the clock stands still
        Assert.False(pending.IsCompleted);
        // The v1 answer needs the clock to move 300 ms past the request; a health round trip per step lets the server run.
        for (var i = 0; i < 100 && !pending.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            (await c.Get("health")).Expect(200);
        }
        (await pending).Expect(200);
        Assert.True(time.GetUtcNow() - start >= TimeSpan.FromMilliseconds(300), $"answered after {(time.GetUtcNow() - start).TotalMilliseconds} ms of emulator time");
    }
}
