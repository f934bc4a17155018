namespace KustomerSync.Emulator.Tests;

public class InspectionTests
{
    [Fact]
    public async Task State_dumps_counts_and_records()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer("""{"externalId":"s-1"}""");
        await c.CreateCompany("""{"name":"Acme Inc"}""");
        (await c.Post("v1/klasses/order", """{"title":"O"}""")).Expect(201);
        var state = (await c.Get("_emulator/state")).Expect(200).Body!;
        Assert.Equal("emulator", state["org"]!.GetValue<string>());
        Assert.Equal(1, state["customers"]!["count"]!.GetValue<int>());
        Assert.Equal(id, state["customers"]!["items"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(1, state["companies"]!["count"]!.GetValue<int>());
        Assert.Equal(1, state["kobjects"]!["order"]!["count"]!.GetValue<int>());
        Assert.Equal(0, state["kobjects"]!["subscription"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Stats_count_requests_per_route_template_and_status()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        await c.CreateCustomer("""{"externalId":"s-1"}""");
        await c.Get("v1/customers/externalId=s-1");
        await c.Get("v1/customers/externalId=s-2");
        var stats = (await c.Get("_emulator/stats")).Expect(200).Body!;
        Assert.Equal(1, stats["byRoute"]!["POST /v1/customers"]!.GetValue<int>());
        Assert.Equal(2, stats["byRoute"]!["GET /v1/customers/externalId={externalId}"]!.GetValue<int>());
        Assert.Equal(1, stats["byStatus"]!["404"]!.GetValue<int>());
        Assert.Equal(3, stats["totalRequests"]!.GetValue<int>());
    }

    [Fact]
    public async Task Reset_clears_data_and_counters_but_keeps_options_and_metadata()
    {
        await using var server = await Api.Start(o => o.RateLimit = 77);
        using var c = server.CreateClient();
        await c.CreateCustomer("""{"externalId":"r-1"}""");
        (await c.Post("_emulator/reset", "{}")).Expect(200);
        var state = (await c.Get("_emulator/state?items=false")).Body!;
        Assert.Equal(0, state["customers"]!["count"]!.GetValue<int>());
        Assert.Equal(0, (await c.Get("_emulator/stats")).Body!["totalRequests"]!.GetValue<int>());
        var r = (await c.Post("v1/customers", """{"externalId":"r-1","custom":{"tierStr":"gold"}}""")).Expect(201);
        Assert.Equal("77", r.Header("x-ratelimit-limit"));
        Assert.Equal("76", r.Header("x-ratelimit-remaining"));
    }

    [Fact]
    public async Task Options_round_trip_and_reject_unknown_fields()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var o = (await c.Get("_emulator/options")).Expect(200).Body!;
        Assert.Equal(1000, o["rateLimit"]!.GetValue<int>());
        (await c.Put("_emulator/options", """{"latencyMs":5,"bulkDelayMs":10}""")).Expect(200);
        Assert.Equal(5, server.Options.LatencyMs);
        Assert.Equal(10, server.Options.BulkDelayMs);
        (await c.Put("_emulator/options", """{"rateLimitt":5}""")).Expect(400);
        (await c.Put("_emulator/options", """{"org":"other"}""")).Expect(400); // start-only
        (await c.Put("_emulator/options", """{"duplicateStatus":302}""")).Expect(400);
        var changed = (await c.Put("_emulator/options", """{"searchWindowDays":10,"rate-reset-format":"seconds"}""")).Expect(200).Body!;
        Assert.Equal(10, changed["searchWindowDays"]!.GetValue<int>());
        Assert.Equal("seconds", changed["rateResetFormat"]!.GetValue<string>());
        (await c.Post("_emulator/faults", """{"failNext":-1}""")).Expect(400);
    }
}
