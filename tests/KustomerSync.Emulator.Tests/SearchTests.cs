using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Tests;

public class SearchTests
{
    private static async Task<EmulatorServer> Seeded()
    {
        var server = await Api.Start(o => o.SearchRateLimit = 0);
        using var c = server.CreateClient();
        await c.CreateCustomer("""{"name":"Ada","externalId":"crm-1","emails":[{"email":"ada@example.com"}],"custom":{"crmAccountIdStr":"A-1009","lifetimeValueNum":100,"optInBool":true,"lastOrderAt":"2026-01-02T03:04:05Z"}}""");
        await c.CreateCustomer("""{"name":"Bob","externalId":"crm-2","phones":[{"phone":"+1 555 0101"}],"custom":{"crmAccountIdStr":"A-2000","lifetimeValueNum":250,"optInBool":false,"lastOrderAt":"2026-03-01T00:00:00Z"}}""");
        await c.CreateCustomer("""{"name":"Cy","externalId":"crm-3","custom":{"lifetimeValueNum":900}}""");
        await c.CreateCompany("""{"name":"Acme Inc","externalId":"co-1","custom":{"accountIdStr":"ACC-1"}}""");
        (await c.Post("v1/klasses/order", """{"title":"O-1","externalId":"o-1","custom":{"totalNum":10,"placedAt":"2026-01-02T10:00:00Z"}}""")).Expect(201);
        (await c.Post("v1/klasses/order", """{"title":"O-2","externalId":"o-2","custom":{"totalNum":99}}""")).Expect(201);
        return server;
    }

    private static List<string> Names(ApiResponse r, string attr = "name") =>
        r.Body!["data"]!.AsArray().Select(d => d!["attributes"]![attr]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Finds_a_customer_by_custom_attribute_equals()
    {
        await using var server = await Seeded();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers/search?pageSize=100", """
            { "queryContext": "customer", "and": [ { "customer_custom_crmAccountIdStr": { "equals": "A-1009" } } ], "sort": [ { "customer_updated_at": "asc" } ] }
            """)).Expect(200);
        Assert.Equal(["Ada"], Names(r));
        Assert.Equal(1, r.Body!["meta"]!["total"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"queryContext":"customer","and":{"customer_email":{"equals":"ADA@example.com"}}}""", "Ada")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_externalId":{"equals":"crm-2"}}]}""", "Bob")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_phone":{"equals":"+15550101"}}]}""", "Bob")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_lifetimeValueNum":{"gte":200,"lte":300}}]}""", "Bob")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_optInBool":{"equals":true}}]}""", "Ada")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_lastOrderAt":{"gte":"2026-02-01"}}]}""", "Bob")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_lastOrderAt":{"equals":"2026-01-02"}}]}""", "Ada")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_externalId":{"in":["crm-1","crm-3"]}}],"sort":[{"customer_name":"desc"}]}""", "Cy,Ada")]
    [InlineData("""{"queryContext":"customer","or":[{"customer_name":{"equals":"Ada"}},{"customer_name":{"equals":"Cy"}}]}""", "Ada,Cy")]
    [InlineData("""{"queryContext":"customer","not":[{"customer_name":{"equals":"Ada"}}]}""", "Bob,Cy")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_lifetimeValueNum":{"gte":0}}],"sort":[{"customer_custom_lifetimeValueNum":"desc"}]}""", "Cy,Bob,Ada")]
    public async Task Operators_and_attributes(string body, string expected)
    {
        await using var server = await Seeded();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers/search", body)).Expect(200);
        Assert.Equal(expected, string.Join(",", Names(r)));
    }

    [Fact]
    public async Task Company_and_kobject_contexts()
    {
        await using var server = await Seeded();
        using var c = server.CreateClient();
        var co = (await c.Post("v1/customers/search", """{"queryContext":"company","and":[{"company_custom_accountIdStr":{"equals":"ACC-1"}}]}""")).Expect(200);
        Assert.Equal("company", co.Body!["data"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(["Acme Inc"], Names(co));
        var ko = (await c.Post("v1/customers/search", """{"queryContext":"kobject_order","and":[{"kobject_custom_order_totalNum":{"gte":50}}]}""")).Expect(200);
        Assert.Equal(["O-2"], Names(ko, "title"));
        Assert.Equal("kobject.order", ko.Body!["data"]![0]!["type"]!.GetValue<string>());
        var byExt = (await c.Post("v1/customers/search", """{"queryContext":"kobject_order","and":[{"kobject_externalId":{"equals":"o-1"}}]}""")).Expect(200);
        Assert.Equal(["O-1"], Names(byExt, "title"));
    }

    [Theory]
    [InlineData("""{"and":[]}""", "/queryContext")]
    [InlineData("""{"queryContext":"customer","filter":{}}""", "/filter")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_nopeStr":{"equals":"x"}}]}""", "/and/0/customer_custom_nopeStr")]
    [InlineData("""{"queryContext":"customer","and":[{"company_name":{"equals":"x"}}]}""", "/and/0/company_name")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_name":{"contains":"x"}}]}""", "/and/0/customer_name/contains")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_lifetimeValueNum":{"equals":"100"}}]}""", "/and/0/customer_custom_lifetimeValueNum/equals")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_lastOrderAt":{"gte":"last week"}}]}""", "/and/0/customer_custom_lastOrderAt/gte")]
    [InlineData("""{"queryContext":"kobject_nope"}""", "/queryContext")]
    [InlineData("""{"queryContext":"customer","sort":[{"customer_name":"up"}]}""", "/sort/0/customer_name")]
    public async Task Bad_queries_are_400(string body, string pointer)
    {
        await using var server = await Seeded();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers/search", body)).Expect(400);
        Assert.Equal(pointer, r.ErrorPointer);
    }

    [Fact]
    public async Task More_than_20_criteria_is_400()
    {
        await using var server = await Seeded();
        using var c = server.CreateClient();
        var criteria = string.Join(",", Enumerable.Range(0, 21).Select(i => $$"""{"customer_name":{"equals":"n{{i}}"} }"""));
        (await c.Post("v1/customers/search", $$"""{"queryContext":"customer","or":[{{criteria}}]}""")).Expect(400);
    }

    [Fact]
    public async Task Page_size_over_500_and_page_over_100_are_400_and_paging_links_work()
    {
        await using var server = await Seeded();
        using var c = server.CreateClient();
        const string all = """{"queryContext":"customer"}""";
        Assert.Equal("pageSize", (await c.Post("v1/customers/search?pageSize=501", all)).Expect(400).Error["source"]!["parameter"]!.GetValue<string>());
        (await c.Post("v1/customers/search?pageSize=500", all)).Expect(200);
        (await c.Post("v1/customers/search?page=101&pageSize=1", all)).Expect(400);
        var p1 = (await c.Post("v1/customers/search?page=1&pageSize=2", all)).Expect(200).Body!;
        Assert.Equal(3, p1["meta"]!["total"]!.GetValue<int>());
        Assert.Equal(2, p1["meta"]!["totalPages"]!.GetValue<int>());
        Assert.Equal("/v1/customers/search?page=2&pageSize=2", p1["links"]!["next"]!.GetValue<string>());
        var p2 = (await c.Post("v1/customers/search?page=2&pageSize=2", all)).Expect(200).Body!;
        Assert.Null(p2["links"]!["next"]);
    }

    [Fact]
    public async Task IdsOnly_returns_type_and_id_only()
    {
        await using var server = await Seeded();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers/search?idsOnly=true", """{"queryContext":"customer"}""")).Expect(200);
        var first = r.Body!["data"]![0]!.AsObject();
        Assert.Equal(["type", "id"], first.Select(kv => kv.Key).ToArray());
    }
}

public class SearchDeletedTests
{
    [Fact]
    public async Task Deleted_companies_only_with_includeDeleted_and_klass_status_filter()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCompany("""{"name":"Gone Co","externalId":"gone"}""");
        (await c.Put($"v1/companies/{id}", """{"deleted":true}""")).Expect(200);
        const string q = """{"queryContext":"company","and":[{"company_externalId":{"equals":"gone"}}]""";
        Assert.Empty((await c.Post("v1/customers/search", q + "}")).Expect(200).Body!["data"]!.AsArray());
        Assert.Single((await c.Post("v1/customers/search", q + ""","includeDeleted":true}""")).Expect(200).Body!["data"]!.AsArray());
        await c.CreateCompany("""{"name":"New Co","externalId":"gone"}"""); // externalId freed by the delete
        Assert.Equal(2, (await c.Get("v1/klasses?status=enabled")).Expect(200).Body!["data"]!.AsArray().Count);
        Assert.Empty((await c.Get("v1/klasses?status=disabled")).Expect(200).Body!["data"]!.AsArray());
        (await c.Get("v1/klasses?status=bogus")).Expect(400);
    }
}
