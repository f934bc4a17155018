using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Tests;

/// <summary>OAS: search sees only records updated in the last two years; the archive search and the direct lookups see the rest.</summary>
public class SearchWindowTests
{
    private const string ByAccount = """{"queryContext":"customer","and":[{"customer_custom_crmAccountIdStr":{"equals":"A-1009"}}]}""";

    private static int Total(ApiResponse r) => r.Body!["meta"]!["total"]!.GetValue<int>();

    private static async Task Backdate(HttpClient c, string type, string id, int ageDays) =>
        (await c.Post("_emulator/records/times", $$"""{"type":"{{type}}","id":"{{id}}","ageDays":{{ageDays}}}""")).Expect(200);

    [Fact]
    public async Task A_record_untouched_for_two_years_is_missed_by_search_and_found_by_lookups()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var company = await c.CreateCompany("""{"name":"Old Co","externalId":"co-old"}""");
        var id = await c.CreateCustomer($$"""{"name":"Ada","externalId":"crm-1","emails":[{"email":"ada@example.com"}],"company":"{{company}}","custom":{"crmAccountIdStr":"A-1009"} }""");
        var kobject = (await c.Post("v1/klasses/order", """{"title":"O-1","externalId":"o-old"}""")).Expect(201).Id;
        Assert.Equal(1, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));

        await Backdate(c, "customer", id, 731);
        await Backdate(c, "company", company, 731);
        await Backdate(c, "kobject.order", kobject, 731);

        Assert.Equal(0, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));
        Assert.Equal(0, Total((await c.Post("v1/customers/search", """{"queryContext":"customer","and":[{"customer_externalId":{"equals":"crm-1"}}]}""")).Expect(200)));
        Assert.Equal(0, Total((await c.Post("v1/customers/search", """{"queryContext":"company","and":[{"company_externalId":{"equals":"co-old"}}]}""")).Expect(200)));
        Assert.Equal(0, Total((await c.Post("v1/customers/search", """{"queryContext":"kobject_order","and":[{"kobject_externalId":{"equals":"o-old"}}]}""")).Expect(200)));

        Assert.Equal(id, (await c.Get($"v1/customers/{id}")).Expect(200).Id);
        Assert.Equal(id, (await c.Get("v1/customers/externalId=crm-1")).Expect(200).Id);
        Assert.Equal(id, (await c.Get("v1/customers/email=ada@example.com")).Expect(200).Id);
        Assert.Single((await c.Get("v1/companies?externalId=co-old")).Expect(200).Body!["data"]!.AsArray());
        Assert.Equal(kobject, (await c.Get("v1/klasses/order/externalId=o-old")).Expect(200).Id);
        var dormant = (await c.Get($"v1/customers/{id}")).Expect(200).Attributes["updatedAt"]!.GetValue<string>();
        Assert.True(DateTimeOffset.Parse(dormant) < DateTimeOffset.UtcNow.AddDays(-730));

        // A write makes it recent again.
        (await c.Patch($"v1/customers/{id}", $$"""{"name":"Ada L.","company":"{{company}}"}""")).Expect(200);
        Assert.Equal(1, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));
    }

    [Fact]
    public async Task Records_inside_the_window_are_found_and_the_window_can_be_turned_off()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer("""{"custom":{"crmAccountIdStr":"A-1009"}}""");
        await Backdate(c, "customer", id, 729);
        Assert.Equal(1, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));
        await Backdate(c, "customer", id, 5000);
        Assert.Equal(0, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));
        (await c.Put("_emulator/options", """{"searchWindowDays":0}""")).Expect(200);
        Assert.Equal(1, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));
    }

    [Fact]
    public async Task Advancing_the_emulator_clock_makes_every_record_dormant()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        await c.CreateCustomer("""{"custom":{"crmAccountIdStr":"A-1009"}}""");
        var before = (await c.Get("_emulator/clock")).Expect(200).Body!["now"]!.GetValue<string>();
        await c.AdvanceClock(731 * 86400);
        var after = (await c.Get("_emulator/clock")).Expect(200).Body!;
        Assert.True(DateTimeOffset.Parse(after["now"]!.GetValue<string>()) - DateTimeOffset.Parse(before) >= TimeSpan.FromDays(731));
        Assert.Equal(0, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));
        var fresh = (await c.Post("v1/customers", """{"custom":{"crmAccountIdStr":"A-1009"}}""")).Expect(201);
        Assert.Equal(after["now"]!.GetValue<string>()[..10], fresh.Attributes["createdAt"]!.GetValue<string>()[..10]);
        Assert.Equal(1, Total((await c.Post("v1/customers/search", ByAccount)).Expect(200)));
    }

    [Theory]
    [InlineData("""{"type":"customer","id":"0123456789abcdef01234567","ageDays":1}""", 404)]
    [InlineData("""{"type":"ticket","id":"0123456789abcdef01234567","ageDays":1}""", 400)]
    [InlineData("""{"type":"customer","id":"0123456789abcdef01234567"}""", 400)]
    [InlineData("""{"type":"customer","id":"0123456789abcdef01234567","updatedAt":"2999-01-01T00:00:00Z"}""", 400)]
    public async Task Record_times_route_checks_its_body(string body, int status)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer("{}");
        (await c.Post("_emulator/records/times", body.Replace("0123456789abcdef01234567", status == 404 ? "0123456789abcdef01234567" : id))).Expect(status);
    }

    [Fact]
    public async Task Record_times_sets_updatedAt_and_createdAt()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer("{}");
        var r = (await c.Post("_emulator/records/times", $$"""{"type":"customer","id":"{{id}}","updatedAt":"2022-05-01T00:00:00Z","createdAt":"2021-01-01T00:00:00Z"}""")).Expect(200).Body!;
        Assert.Equal("2022-05-01T00:00:00.000Z", r["attributes"]!["updatedAt"]!.GetValue<string>());
        Assert.Equal("2021-01-01T00:00:00.000Z", r["attributes"]!["createdAt"]!.GetValue<string>());
        Assert.Equal(1, r["attributes"]!["rev"]!.GetValue<int>());
    }
}

public class ArchiveSearchTests
{
    private static List<string> Ids(ApiResponse r) => r.Body!["data"]!.AsArray().Select(d => d!["id"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Archive_search_finds_records_of_any_age_by_the_archive_criteria()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var company = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var old = await c.CreateCustomer($$"""{"name":"Ada Lovelace","externalId":"crm-1","company":"{{company}}","custom":{"crmAccountIdStr":"A-1009"} }""");
        var recent = await c.CreateCustomer("""{"name":"Bob","externalId":"crm-2"}""");
        (await c.Post("_emulator/records/times", $$"""{"type":"customer","id":"{{old}}","updatedAt":"2020-01-01T00:00:00Z","createdAt":"2019-01-01T00:00:00Z"}""")).Expect(200);

        Assert.Equal([old], Ids((await c.Post("v1/customers/archive/search", $$"""{"queryContext":"customer","and":[{"customer_id":{"equals":"{{old}}"} }]}""")).Expect(200)));
        Assert.Equal([old], Ids((await c.Post("v1/customers/archive/search", """{"queryContext":"customer","and":[{"customer_updated_at":{"lte":"2021-01-01"}}]}""")).Expect(200)));
        Assert.Equal([old], Ids((await c.Post("v1/customers/archive/search", $$"""{"queryContext":"customer","and":[{"customer_companyId":{"equals":"{{company}}"} }]}""")).Expect(200)));
        Assert.Equal([old], Ids((await c.Post("v1/customers/archive/search", """{"queryContext":"customer","and":[{"customer_any_text_new":{"equals":"ada lovelace"}}]}""")).Expect(200)));
        Assert.Empty(Ids((await c.Post("v1/customers/archive/search", """{"queryContext":"customer","and":[{"customer_any_text_new":{"equals":"A-1009"}}]}""")).Expect(200))); // custom values are not text here
        Assert.Equal([old, recent], Ids((await c.Post("v1/customers/archive/search", """{"queryContext":"customer","and":[{"customer_deleted":{"equals":false}}],"sort":[{"customer_created_at":"asc"}]}""")).Expect(200)));
        Assert.Empty(Ids((await c.Post("v1/customers/search", """{"queryContext":"customer","and":[{"customer_externalId":{"equals":"crm-1"}}]}""")).Expect(200)));
    }

    [Fact]
    public async Task Archive_search_covers_companies_and_kobjects()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var company = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var customer = await c.CreateCustomer("{}");
        var order = (await c.Post("v1/klasses/order", $$"""{"title":"Order 7","customer":"{{customer}}"}""")).Expect(201).Id;
        (await c.Post("_emulator/records/times", $$"""{"type":"company","id":"{{company}}","ageDays":1000}""")).Expect(200);
        (await c.Post("_emulator/records/times", $$"""{"type":"kobject.order","id":"{{order}}","ageDays":1000}""")).Expect(200);
        Assert.Equal([company], Ids((await c.Post("v1/customers/archive/search", """{"queryContext":"company","and":[{"company_updated_at":{"lte":"2025-01-01"}}]}""")).Expect(200)));
        Assert.Equal([order], Ids((await c.Post("v1/customers/archive/search", $$"""{"queryContext":"kobject_order","and":[{"kobject_order_customer_id":{"equals":"{{customer}}"} }]}""")).Expect(200)));
        Assert.Equal([order], Ids((await c.Post("v1/customers/archive/search", $$"""{"queryContext":"kobject","and":[{"kobject_customer_id":{"equals":"{{customer}}"} }]}""")).Expect(200)));
        Assert.Equal([order], Ids((await c.Post("v1/customers/archive/search", """{"queryContext":"kobject_order","and":[{"kobject_any_text":{"equals":"order 7"}}]}""")).Expect(200)));
    }

    [Theory]
    [InlineData("""{"queryContext":"customer","and":[{"customer_custom_crmAccountIdStr":{"equals":"A-1009"}}]}""", "/and/0/customer_custom_crmAccountIdStr")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_externalId":{"equals":"crm-1"}}]}""", "/and/0/customer_externalId")]
    [InlineData("""{"queryContext":"customer","and":[{"customer_email":{"equals":"a@example.com"}}]}""", "/and/0/customer_email")]
    [InlineData("""{"queryContext":"company","and":[{"company_custom_accountIdStr":{"equals":"ACC-1"}}]}""", "/and/0/company_custom_accountIdStr")]
    [InlineData("""{"queryContext":"kobject_order","and":[{"kobject_custom_order_totalNum":{"equals":1}}]}""", "/and/0/kobject_custom_order_totalNum")]
    [InlineData("""{"queryContext":"customer","fields":["customer_id"]}""", "/fields")]
    [InlineData("""{"queryContext":"customer","sort":[{"customer_id":"asc"}]}""", "/sort/0/customer_id")]
    public async Task Archive_search_rejects_custom_attributes_and_other_criteria(string body, string pointer)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers/archive/search", body)).Expect(400);
        Assert.Equal(pointer, r.ErrorPointer);
    }

    [Fact]
    public async Task Archive_search_draws_on_the_search_budget()
    {
        await using var server = await Api.Start(o => o.SearchRateLimit = 1);
        using var c = server.CreateClient();
        (await c.Post("v1/customers/archive/search", """{"queryContext":"customer"}""")).Expect(200);
        (await c.Post("v1/customers/search", """{"queryContext":"customer"}""")).Expect(429);
    }
}
