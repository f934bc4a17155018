namespace KustomerSync.Emulator.Tests;

public class BulkMoreTests
{
    [Fact]
    public async Task Delete_bulk_by_ids_removes_customers_and_needs_ids()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var a = await c.CreateCustomer("""{"externalId":"d-1"}""");
        var b = await c.CreateCustomer("""{"externalId":"d-2"}""");
        (await c.Delete("v1/customers/bulk")).Expect(400);
        (await c.Delete("v1/customers/bulk?ids=not-an-id")).Expect(400);
        var id = (await c.Delete($"v1/customers/bulk?ids={a},{b}")).Expect(201).Id;
        var batch = await Api.WaitForBulk(c, id);
        Assert.Equal(2, batch["successCount"]!.GetValue<int>());
        (await c.Get($"v1/customers/{a}")).Expect(404);
        (await c.Get("v1/customers/externalId=d-2")).Expect(404);
    }

    [Fact]
    public async Task Company_bulk_update_and_kobject_bulk_update()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var co = await c.CreateCompany("""{"name":"Acme Inc","custom":{"industryStr":"retail"}}""");
        var job = (await c.Put("v1/companies/bulk", $$"""[{"id":"{{co}}","custom":{"activeBool":true} }]""")).Expect(201).Id;
        Assert.Equal(1, (await Api.WaitForBulk(c, job))["successCount"]!.GetValue<int>());
        var got = (await c.Get($"v1/companies/{co}")).Expect(200).Attributes["custom"]!;
        Assert.Equal("retail", got["industryStr"]!.GetValue<string>());
        Assert.True(got["activeBool"]!.GetValue<bool>());

        var ko = (await c.Post("v1/klasses/order", """{"title":"O-1","custom":{"totalNum":1}}""")).Expect(201).Id;
        (await c.Put("v1/klasses/order/bulk", $$"""[{"id":"{{ko}}","customer":"0123456789abcdef01234567"}]""")).Expect(400);
        var kjob = (await c.Put("v1/klasses/order/bulk", $$"""[{"id":"{{ko}}","custom":{"totalNum":2} }]""")).Expect(201).Id;
        var kb = await Api.WaitForBulk(c, kjob);
        Assert.Equal(ko, kb["objectIds"]![0]!.GetValue<string>());
        var updated = (await c.Get($"v1/klasses/order/{ko}")).Expect(200);
        Assert.Equal(2, updated.Attributes["custom"]!["totalNum"]!.GetValue<int>());
        Assert.Equal(2, updated.Attributes["rev"]!.GetValue<int>());
    }

    [Fact]
    public async Task Bulk_item_with_a_missing_company_reference_fails_alone()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var id = (await c.Post("v1/customers/bulk", """[{"_clientRef":"a","company":"0123456789abcdef01234567"},{"_clientRef":"b","externalId":"fine"}]""")).Expect(201).Id;
        var batch = await Api.WaitForBulk(c, id);
        Assert.Equal("error", batch["results"]![0]!["status"]!.GetValue<string>());
        Assert.Contains("does not refer to an existing company", batch["results"]![0]!["error"]!.GetValue<string>());
        Assert.Equal("created", batch["results"]![1]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reset_drops_queued_bulk_jobs()
    {
        await using var server = await Api.Start(o => o.BulkDelayMs = 400);
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var id = (await c.Post("v1/customers/bulk", """[{"externalId":"never"}]""")).Expect(201).Id;
        (await c.Post("_emulator/reset", "{}")).Expect(200);
        await c.AdvanceClock(3600);
        (await c.Get($"v1/bulk/{id}")).Expect(404);
        (await c.Get("_emulator/state")).Expect(200);
        (await c.Get("v1/customers/externalId=never")).Expect(404);
    }

    [Fact]
    public async Task State_applies_jobs_that_the_clock_says_are_due()
    {
        await using var server = await Api.Start(o => o.BulkDelayMs = 600_000);
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        (await c.Post("v1/customers/bulk", """[{"externalId":"s-1"},{"externalId":"s-2"}]""")).Expect(201);
        Assert.Equal(0, (await c.Get("_emulator/state?items=false")).Body!["customers"]!["count"]!.GetValue<int>());
        server.AdvanceClock(TimeSpan.FromMinutes(10));
        Assert.Equal(2, (await c.Get("_emulator/state?items=false")).Body!["customers"]!["count"]!.GetValue<int>());
    }

    private static string Items(int n, Func<int, string> item) => "[" + string.Join(",", Enumerable.Range(0, n).Select(item)) + "]";

    [Fact]
    public async Task Undocumented_client_refs_are_ignored_by_default_so_batches_carry_no_results()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var co = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var companyJob = (await c.Put("v1/companies/bulk", $$"""[{"_clientRef":"c1","id":"{{co}}","name":"Acme 2"}]""")).Expect(201).Id;
        var cb = await Api.WaitForBulk(c, companyJob);
        Assert.Null(cb["results"]);
        Assert.Equal(1, cb["successCount"]!.GetValue<int>());
        Assert.Equal("Acme 2", (await c.Get($"v1/companies/{co}")).Expect(200).Attributes["name"]!.GetValue<string>());
        var kjob = (await c.Post("v1/klasses/order/bulk", """[{"_clientRef":"k1","title":"O-1"},{"title":"O-2"}]""")).Expect(201).Id;
        var kb = await Api.WaitForBulk(c, kjob);
        Assert.Null(kb["results"]);
        Assert.Equal(2, kb["successCount"]!.GetValue<int>());
        // Where it is documented it still works.
        var documented = (await c.Post("v1/companies/bulk", """[{"_clientRef":"n1","name":"New Co"}]""")).Expect(201).Id;
        Assert.Equal("n1", (await Api.WaitForBulk(c, documented))["results"]![0]!["_clientRef"]!.GetValue<string>());
    }

    [Fact]
    public async Task Undocumented_client_refs_can_be_rejected_or_accepted()
    {
        await using var server = await Api.Start(o => o.UndocumentedClientRef = "reject");
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var ko = (await c.Post("v1/klasses/order", """{"title":"O-1"}""")).Expect(201).Id;
        var rejected = (await c.Put("v1/klasses/order/bulk", $$"""[{"id":"{{ko}}","title":"x"},{"_clientRef":"k2","id":"{{ko}}","title":"y"}]""")).Expect(400);
        Assert.Equal("/1/_clientRef", rejected.ErrorPointer);
        (await c.Post("v1/klasses/order/bulk", """[{"_clientRef":"k1","title":"O-2"}]""")).Expect(400);
        (await c.Post("v1/customers/bulk", """[{"_clientRef":"ok"}]""")).Expect(201);

        (await c.Put("_emulator/options", """{"undocumentedClientRef":"accept"}""")).Expect(200);
        var job = (await c.Put("v1/klasses/order/bulk", $$"""[{"_clientRef":"k1","id":"{{ko}}","title":"z"}]""")).Expect(201).Id;
        Assert.Equal("updated", (await Api.WaitForBulk(c, job))["results"]![0]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Jobs_are_split_into_batches_and_the_data_envelope_pages_them()
    {
        await using var server = await Api.Start(o => { o.BatchesEnvelope = "data"; o.BulkBatchItems = 10; o.BatchesPageSize = 3; });
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var id = (await c.Post("v1/customers/bulk", Items(45, i => $$"""{"_clientRef":"r{{i}}","externalId":"e-{{i}}"}"""))).Expect(201).Id;
        var merged = await Api.WaitForBulk(c, id);
        Assert.Equal(45, merged["successCount"]!.GetValue<int>());
        Assert.Equal(45, merged["results"]!.AsArray().Count);
        Assert.Equal(5, (await c.Get($"v1/bulk/{id}")).Expect(200).Attributes["batches"]!["total"]!.GetValue<int>());
        var page1 = (await c.Get($"v1/bulk/{id}/batches")).Expect(200).Body!;
        Assert.Equal(3, page1["data"]!.AsArray().Count);
        Assert.Equal("bulk_batch", page1["data"]![0]!["type"]!.GetValue<string>());
        Assert.Equal($"/v1/bulk/{id}/batches?page=2&pageSize=3", page1["links"]!["next"]!.GetValue<string>());
        var page2 = (await c.Get(page1["links"]!["next"]!.GetValue<string>())).Expect(200).Body!;
        Assert.Equal(2, page2["data"]!.AsArray().Count);
        Assert.Null(page2["links"]!["next"]);
        Assert.Equal(5, page2["data"]![1]!["attributes"]!["successCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_default_batches_envelope_is_a_bare_array_of_batches_of_25()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var id = (await c.Post("v1/customers/bulk", Items(60, i => $$"""{"externalId":"e-{{i}}"}"""))).Expect(201).Id;
        await Api.WaitForBulk(c, id);
        var body = (await c.Get($"v1/bulk/{id}/batches")).Expect(200).Body!.AsArray();
        Assert.Equal([25, 25, 10], body.Select(b => b!["successCount"]!.GetValue<int>()).ToArray());
        Assert.Equal("complete", body[0]!["status"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{24}$", body[0]!["id"]!.GetValue<string>());
        Assert.Null(body[0]!["results"]);
    }

    [Fact]
    public async Task Bulk_bodies_over_the_limit_get_413_with_an_errors_body()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var note = new string('x', 1000);
        var big = Items(100, i => $$"""{"externalId":"big-{{i}}","custom":{"notesTxt":"{{note}}"} }""");
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(big) > 102_400);
        var r = (await c.Post("v1/customers/bulk", big)).Expect(413);
        Assert.Equal("payload_too_large", r.Error["code"]!.GetValue<string>());
        (await c.Put("v1/companies/bulk", big)).Expect(413);
        var fits = Items(90, i => $$"""{"externalId":"big-{{i}}","custom":{"notesTxt":"{{note}}"} }""");
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(fits) < 102_400);
        (await c.Post("v1/customers/bulk", fits)).Expect(201);
    }
}
