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
        var kjob = (await c.Put("v1/klasses/order/bulk", $$"""[{"_clientRef":"k1","id":"{{ko}}","custom":{"totalNum":2} }]""")).Expect(201).Id;
        var kb = await Api.WaitForBulk(c, kjob);
        Assert.Equal("updated", kb["results"]![0]!["status"]!.GetValue<string>());
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
        await Task.Delay(600);
        (await c.Get($"v1/bulk/{id}")).Expect(404);
        (await c.Get("v1/customers/externalId=never")).Expect(404);
    }
}
