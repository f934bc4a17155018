using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Tests;

public class BulkTests
{
    [Fact]
    public async Task Job_goes_queued_running_complete_with_client_ref_results()
    {
        await using var server = await Api.Start(o => o.BulkDelayMs = 60_000);
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        await c.CreateCustomer("""{"externalId":"taken","emails":[{"email":"taken@example.com"}]}""");
        var submit = (await c.Post("v1/customers/bulk", """
            [ {"_clientRef":"crm-001","externalId":"b-1","name":"One"},
              {"_clientRef":"crm-002","externalId":"b-2","emails":[{"email":"TAKEN@example.com"}]},
              {"_clientRef":"crm-003","externalId":"b-3"} ]
            """)).Expect(201);
        Assert.Equal("bulk", submit.Data["type"]!.GetValue<string>());
        Assert.Equal("queued", submit.Attributes["status"]!.GetValue<string>());
        Assert.Equal($"/v1/bulk/{submit.Id}", submit.Data["links"]!["self"]!.GetValue<string>());

        async Task<JsonObject> Status() => (await c.Get($"v1/bulk/{submit.Id}")).Expect(200).Attributes;
        Assert.Equal("queued", (await Status())["status"]!.GetValue<string>());
        Assert.Equal("queued", (await Api.Batches(c, submit.Id)).Single()["status"]!.GetValue<string>());
        await c.AdvanceClock(31);
        Assert.Equal("running", (await Status())["status"]!.GetValue<string>());
        Assert.Equal("scheduled", (await Api.Batches(c, submit.Id)).Single()["status"]!.GetValue<string>());
        (await c.Get("v1/customers/externalId=b-1")).Expect(404); // nothing applied yet
        await c.AdvanceClock(30);
        var final = await Status();
        Assert.Equal("complete", final["status"]!.GetValue<string>());
        Assert.Equal(1, final["batches"]!["complete"]!.GetValue<int>());
        Assert.Equal(1, final["batches"]!["total"]!.GetValue<int>());

        var batch = (await Api.Batches(c, submit.Id)).Single();
        Assert.Equal(2, batch["successCount"]!.GetValue<int>());
        Assert.Equal(1, batch["failureCount"]!.GetValue<int>());
        Assert.Equal(2, batch["objectIds"]!.AsArray().Count);
        var results = batch["results"]!.AsArray();
        Assert.Equal("crm-001", results[0]!["_clientRef"]!.GetValue<string>());
        Assert.Equal("created", results[0]!["status"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{24}$", results[0]!["objectId"]!.GetValue<string>());
        Assert.Equal("error", results[1]!["status"]!.GetValue<string>());
        Assert.Equal("duplicate detected", results[1]!["error"]!.GetValue<string>());
        Assert.Equal(results[0]!["objectId"]!.GetValue<string>(), (await c.Get("v1/customers/externalId=b-1")).Expect(200).Id);
        (await c.Get("v1/customers/externalId=b-2")).Expect(404);
    }

    [Fact]
    public async Task Results_are_only_present_when_client_refs_are_used()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var id = (await c.Post("v1/customers/bulk", """[{"externalId":"x-1"},{"externalId":"x-1"}]""")).Expect(201).Id;
        var batch = await Api.WaitForBulk(c, id);
        Assert.Null(batch["results"]);
        Assert.Equal(1, batch["successCount"]!.GetValue<int>());
        Assert.Equal("duplicate detected", batch["errors"]![0]!["error"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"externalId":"not-an-array"}""")]
    [InlineData("[]")]
    [InlineData("""[{"_clientRef":"a","externalId":"1"},{"externalId":"2"}]""")]
    [InlineData("""[{"_clientRef":"a","externalId":"1"},{"_clientRef":"a","externalId":"2"}]""")]
    [InlineData("""[{"_clientRef":"","externalId":"1"}]""")]
    [InlineData("""[{"_clientRef":7,"externalId":"1"}]""")]
    [InlineData("""[{"externalId":"1"},{"nmae":"typo"}]""")]
    [InlineData("""[{"custom":{"lifetimeValueNum":"12"}}]""")]
    [InlineData("""[{"data":{"type":"customer","attributes":{}}}]""")]
    public async Task Bad_bulk_requests_are_400_and_create_nothing(string body)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers/bulk", body)).Expect(400);
        Assert.Equal("bad_request", r.Error["code"]!.GetValue<string>());
        var state = (await c.Get("_emulator/state?items=false")).Body!;
        Assert.Equal(0, state["bulkJobs"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Bad_item_error_points_at_the_item()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers/bulk", """[{"externalId":"ok"},{"custom":{"lifetimeValueNum":"12"}}]""")).Expect(400);
        Assert.Equal("/1/custom/lifetimeValueNum", r.ErrorPointer);
    }

    [Fact]
    public async Task Client_ref_of_256_chars_is_400_and_255_is_fine()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        (await c.Post("v1/customers/bulk", $$"""[{"_clientRef":"{{new string('r', 256)}}"}]""")).Expect(400);
        (await c.Post("v1/customers/bulk", $$"""[{"_clientRef":"{{new string('r', 255)}}"}]""")).Expect(201);
    }

    [Fact]
    public async Task More_than_100_items_is_400_and_100_is_fine()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        string Items(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => $$"""{"externalId":"n-{{i}}"}""")) + "]";
        (await c.Post("v1/customers/bulk", Items(101))).Expect(400);
        (await c.Post("v1/customers/bulk", Items(100))).Expect(201);
    }

    [Fact]
    public async Task Put_bulk_needs_ids_and_reports_updated()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var a = await c.CreateCustomer("""{"externalId":"u-1","custom":{"tierStr":"gold","optInBool":true}}""");
        var b = await c.CreateCustomer("""{"externalId":"u-2"}""");
        (await c.Put("v1/customers/bulk", """[{"externalId":"no-id"}]""")).Expect(400);
        var id = (await c.Put("v1/customers/bulk", $$"""
            [{"_clientRef":"r1","id":"{{a}}","custom":{"tierStr":"silver"} },
             {"_clientRef":"r2","id":"{{b}}","externalId":"u-1"},
             {"_clientRef":"r3","id":"0123456789abcdef01234567","name":"ghost"}]
            """)).Expect(201).Id;
        var batch = await Api.WaitForBulk(c, id);
        var results = batch["results"]!.AsArray();
        Assert.Equal("updated", results[0]!["status"]!.GetValue<string>());
        Assert.Equal(a, results[0]!["objectId"]!.GetValue<string>());
        Assert.Equal("duplicate detected", results[1]!["error"]!.GetValue<string>());
        Assert.Equal("error", results[2]!["status"]!.GetValue<string>());
        Assert.Contains("not found", results[2]!["error"]!.GetValue<string>());
        var got = (await c.Get($"v1/customers/{a}")).Expect(200);
        Assert.Equal("silver", got.Attributes["custom"]!["tierStr"]!.GetValue<string>());
        Assert.True(got.Attributes["custom"]!["optInBool"]!.GetValue<bool>());
        Assert.Equal(2, got.Attributes["rev"]!.GetValue<int>());
    }

    [Fact]
    public async Task Put_bulk_ids_mode_applies_one_body_to_every_id()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var a = await c.CreateCustomer("{}");
        var b = await c.CreateCustomer("{}");
        var id = (await c.Put($"v1/customers/bulk?ids={a},{b}", """{"custom":{"tierStr":"vip"}}""")).Expect(201).Id;
        var batch = await Api.WaitForBulk(c, id);
        Assert.Equal(2, batch["successCount"]!.GetValue<int>());
        Assert.Equal("vip", (await c.Get($"v1/customers/{b}")).Expect(200).Attributes["custom"]!["tierStr"]!.GetValue<string>());
        (await c.Put($"v1/customers/bulk?ids={a}", """{"_clientRef":"x"}""")).Expect(400);
    }

    [Fact]
    public async Task Company_and_kobject_bulk()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var co = (await c.Post("v1/companies/bulk", """[{"_clientRef":"c1","name":"Acme Inc","externalId":"co-1"},{"_clientRef":"c2","name":"Globex","externalId":"co-1"}]""")).Expect(201).Id;
        var cb = await Api.WaitForBulk(c, co);
        Assert.Equal("created", cb["results"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("duplicate detected", cb["results"]![1]!["error"]!.GetValue<string>());
        (await c.Post("v1/companies/bulk", """[{"externalId":"nameless"}]""")).Expect(400);

        var ko = (await c.Post("v1/klasses/order/bulk", """[{"title":"O-1","externalId":"o-1","custom":{"totalNum":5}},{"title":"O-2","externalId":"o-2"}]""")).Expect(201).Id;
        var kb = await Api.WaitForBulk(c, ko);
        Assert.Equal(2, kb["successCount"]!.GetValue<int>());
        (await c.Get("v1/klasses/order/externalId=o-2")).Expect(200);
        (await c.Post("v1/klasses/order/bulk", """[{"externalId":"untitled"}]""")).Expect(400);
        (await c.Post("v1/klasses/nope/bulk", """[{"title":"x"}]""")).Expect(404);
    }

    [Fact]
    public async Task Unknown_bulk_id_is_404()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        (await c.Get("v1/bulk/0123456789abcdef01234567")).Expect(404);
    }
}
