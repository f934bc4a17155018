using System.Net;

namespace KustomerSync.Emulator.Tests;

public class CustomerTests
{
    private const string Ada = """
        { "name": "Ada Lovelace", "externalId": "crm-42",
          "emails": [ { "type": "work", "email": "Ada@Example.com" } ],
          "phones": [ { "type": "mobile", "phone": "+1 (555) 555-0100" } ],
          "tags": [], "custom": { "tierStr": "gold", "lifetimeValueNum": 1840.5, "optInBool": true, "lastOrderAt": "2026-01-02T03:04:05Z" } }
        """;

    [Fact]
    public async Task Create_returns_201_with_the_envelope_ids_timestamps_and_mirrors()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers", Ada)).Expect(201);
        Assert.Equal("customer", r.Data["type"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{24}$", r.Id);
        Assert.Equal($"/v1/customers/{r.Id}", r.Data["links"]!["self"]!.GetValue<string>());
        var a = r.Attributes;
        Assert.Equal("Ada Lovelace", a["name"]!.GetValue<string>());
        Assert.Equal(1, a["rev"]!.GetValue<int>());
        foreach (var t in new[] { "createdAt", "updatedAt", "modifiedAt" })
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", a[t]!.GetValue<string>());
        var ext = a["externalIds"]!.AsArray().Single()!;
        Assert.Equal("crm-42", ext["externalId"]!.GetValue<string>());
        Assert.Null(ext["id"]);
        var email = a["emails"]!.AsArray().Single()!;
        Assert.Equal("Ada@Example.com", email["email"]!.GetValue<string>());
        Assert.False(email["verified"]!.GetValue<bool>());
        Assert.True(email.AsObject().ContainsKey("id"));
        Assert.Null(email["id"]);
        Assert.Equal(1840.5, a["custom"]!["lifetimeValueNum"]!.GetValue<double>());
        Assert.Equal("org", r.Data["relationships"]!["org"]!["data"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lookups_by_id_externalId_email_case_insensitive_and_phone()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer(Ada);
        Assert.Equal(id, (await c.Get($"v1/customers/{id}")).Expect(200).Id);
        Assert.Equal(id, (await c.Get("v1/customers/externalId=crm-42")).Expect(200).Id);
        Assert.Equal(id, (await c.Get("v1/customers/email=ada@example.com")).Expect(200).Id);
        Assert.Equal(id, (await c.Get("v1/customers/email=ADA%40EXAMPLE.COM")).Expect(200).Id);
        Assert.Equal(id, (await c.Get("v1/customers/phone=%2B15555550100")).Expect(200).Id);
        (await c.Get("v1/customers/externalId=CRM-42")).Expect(404); // externalIds are case-sensitive
        var missing = (await c.Get("v1/customers/email=nobody@example.com")).Expect(404);
        Assert.Equal("not_found", missing.Error["code"]!.GetValue<string>());
        (await c.Get("v1/customers/0123456789abcdef01234567")).Expect(404);
    }

    [Fact]
    public async Task Patch_merges_custom_key_by_key_replaces_arrays_and_bumps_rev()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer(Ada);
        var r = (await c.Patch($"v1/customers/{id}", """{"custom":{"tierStr":"platinum","optInBool":null},"emails":[{"email":"ada@new.example"}]}""")).Expect(200);
        var custom = r.Attributes["custom"]!.AsObject();
        Assert.Equal("platinum", custom["tierStr"]!.GetValue<string>());
        Assert.Equal(1840.5, custom["lifetimeValueNum"]!.GetValue<double>());
        Assert.False(custom.ContainsKey("optInBool"));
        Assert.Equal("ada@new.example", r.Attributes["emails"]!.AsArray().Single()!["email"]!.GetValue<string>());
        Assert.Equal("Ada Lovelace", r.Attributes["name"]!.GetValue<string>());
        Assert.Equal(2, r.Attributes["rev"]!.GetValue<int>());
        (await c.Get("v1/customers/email=ada@example.com")).Expect(404); // old email released
        Assert.Equal(id, (await c.Get("v1/customers/email=ada@new.example")).Expect(200).Id);
    }

    [Fact]
    public async Task Put_replace_false_merges_and_replace_true_replaces_the_document()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer(Ada);
        var merged = (await c.Put($"v1/customers/{id}?replace=false", """{"custom":{"tierStr":"silver"}}""")).Expect(200);
        Assert.Equal("crm-42", merged.Attributes["externalId"]!.GetValue<string>());
        Assert.Equal(1840.5, merged.Attributes["custom"]!["lifetimeValueNum"]!.GetValue<double>());
        Assert.Equal(2, merged.Attributes["rev"]!.GetValue<int>());
        var plain = (await c.Put($"v1/customers/{id}", """{"name":"Ada L."}""")).Expect(200);
        Assert.Equal("crm-42", plain.Attributes["externalId"]!.GetValue<string>());
        var replaced = (await c.Put($"v1/customers/{id}?replace=true", """{"name":"Only Name","custom":{"tierStr":"bronze"}}""")).Expect(200);
        Assert.Null(replaced.Attributes["externalId"]);
        Assert.Empty(replaced.Attributes["emails"]!.AsArray());
        Assert.Single(replaced.Attributes["custom"]!.AsObject());
        Assert.Equal(4, replaced.Attributes["rev"]!.GetValue<int>());
        (await c.Get("v1/customers/externalId=crm-42")).Expect(404);
        (await c.Put($"v1/customers/{id}?replace=maybe", "{}")).Expect(400);
    }

    [Fact]
    public async Task Rev_in_an_update_must_match_else_409()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer(Ada);
        (await c.Patch($"v1/customers/{id}", """{"rev":1,"name":"x"}""")).Expect(200);
        var stale = (await c.Patch($"v1/customers/{id}", """{"rev":1,"name":"y"}""")).Expect(409);
        Assert.Equal("conflict", stale.Error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_is_204_then_404_and_frees_identifiers()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer(Ada);
        var r = (await c.Delete($"v1/customers/{id}")).Expect(204);
        Assert.Equal("", r.Raw);
        (await c.Get($"v1/customers/{id}")).Expect(404);
        (await c.Delete($"v1/customers/{id}")).Expect(404);
        await c.CreateCustomer(Ada);
    }

    [Theory]
    [InlineData("""{"externalId":"crm-42"}""", "/externalId")]
    [InlineData("""{"emails":[{"email":"ADA@example.COM"}]}""", "/emails/0/email")]
    [InlineData("""{"phones":[{"phone":"+15555550100"}]}""", "/phones/0/phone")]
    [InlineData("""{"externalIds":[{"externalId":"crm-42"}]}""", "/externalIds/0/externalId")]
    public async Task Duplicate_identifiers_are_400_duplicate_detected_without_an_existing_id_by_default(string body, string pointer)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        await c.CreateCustomer(Ada);
        var r = (await c.Post("v1/customers", body)).Expect(400);
        Assert.Equal(400, r.Error["status"]!.GetValue<int>());
        Assert.Equal("bad_request", r.Error["code"]!.GetValue<string>());
        Assert.Equal("duplicate detected", r.Error["title"]!.GetValue<string>());
        Assert.StartsWith("duplicate", r.Error["detail"]!.GetValue<string>());
        Assert.Contains("already belongs to another customer", r.Error["detail"]!.GetValue<string>());
        Assert.Null(r.Error["meta"]);
        Assert.Equal(pointer, r.ErrorPointer);
    }

    [Fact]
    public async Task Duplicate_status_409_and_existing_id_are_settings()
    {
        await using var server = await Api.Start(o => { o.DuplicateStatus = 409; o.DuplicateExistingId = true; });
        using var c = server.CreateClient();
        var id = await c.CreateCustomer(Ada);
        var r = (await c.Post("v1/customers", """{"externalId":"crm-42"}""")).Expect(409);
        Assert.Equal("conflict", r.Error["code"]!.GetValue<string>());
        Assert.Contains("duplicate", r.Error["title"]!.GetValue<string>());
        Assert.Equal(id, r.Error["meta"]!["existingId"]!.GetValue<string>());
        var other = await c.CreateCustomer("{}");
        (await c.Patch($"v1/customers/{other}", """{"externalId":"crm-42"}""")).Expect(409);
        (await c.Put("_emulator/options", """{"duplicateStatus":400,"duplicateExistingId":false}""")).Expect(200);
        var now400 = (await c.Patch($"v1/customers/{other}", """{"externalId":"crm-42"}""")).Expect(400);
        Assert.Null(now400.Error["meta"]);
    }

    [Fact]
    public async Task Shared_lists_are_not_unique_and_updates_cannot_steal_identifiers()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        await c.CreateCustomer(Ada);
        await c.CreateCustomer("""{"sharedEmails":[{"email":"ada@example.com"}],"sharedPhones":[{"phone":"+15555550100"}]}""");
        var other = await c.CreateCustomer("""{"externalId":"crm-43"}""");
        var stolen = (await c.Patch($"v1/customers/{other}", """{"emails":[{"email":"ada@example.com"}]}""")).Expect(400);
        Assert.Equal("duplicate detected", stolen.Error["title"]!.GetValue<string>());
        (await c.Patch($"v1/customers/{other}", """{"externalId":"crm-43"}""")).Expect(200); // own value is fine
    }

    [Fact]
    public async Task Concurrent_creates_with_the_same_email_create_exactly_one_customer()
    {
        await using var server = await Api.Start(o => o.RateLimit = 0);
        using var c = server.CreateClient();
        var tasks = Enumerable.Range(0, 40).Select(i =>
            c.Post("v1/customers", $$"""{"externalId":"race-{{i}}","emails":[{"email":"race@example.com"}]}"""));
        var results = await Task.WhenAll(tasks);
        Assert.Equal(1, results.Count(r => r.Code == 201));
        Assert.Equal(39, results.Count(r => r.Code == 400 && r.Error["title"]!.GetValue<string>() == "duplicate detected"));
        var state = (await c.Get("_emulator/state?items=false")).Body!;
        Assert.Equal(1, state["customers"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task List_pages_with_meta_and_relative_links_and_null_next_on_the_last_page()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        for (var i = 0; i < 5; i++) await c.CreateCustomer($$"""{"externalId":"p-{{i}}"}""");
        var p1 = (await c.Get("v1/customers?page=1&pageSize=2")).Expect(200).Body!;
        Assert.Equal(5, p1["meta"]!["total"]!.GetValue<int>());
        Assert.Equal(3, p1["meta"]!["totalPages"]!.GetValue<int>());
        Assert.Equal(2, p1["data"]!.AsArray().Count);
        Assert.Equal("/v1/customers?page=2&pageSize=2", p1["links"]!["next"]!.GetValue<string>());
        Assert.Null(p1["links"]!["prev"]);
        var p3 = (await c.Get("v1/customers?page=3&pageSize=2")).Expect(200).Body!;
        Assert.Single(p3["data"]!.AsArray());
        Assert.Null(p3["links"]!["next"]);
        Assert.Equal("p-4", p3["data"]![0]!["attributes"]!["externalId"]!.GetValue<string>());
        (await c.Get("v1/customers?pageSize=101")).Expect(400);
        (await c.Get("v1/customers?page=0")).Expect(400);
        var dflt = (await c.Get("v1/customers")).Expect(200).Body!;
        Assert.Equal(30, dflt["meta"]!["pageSize"]!.GetValue<int>());
    }

    [Fact]
    public async Task Company_link_must_exist_and_shows_in_relationships()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var missing = (await c.Post("v1/customers", """{"company":"0123456789abcdef01234567"}""")).Expect(400);
        Assert.Equal("/company", missing.ErrorPointer);
        var company = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var r = (await c.Post("v1/customers", $$"""{"company":"{{company}}"}""")).Expect(201);
        Assert.Equal(company, r.Data["relationships"]!["company"]!["data"]!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("PATCH", "")]
    [InlineData("PUT", "")]
    [InlineData("PUT", "?replace=false")]
    [InlineData("PUT", "?replace=true")]
    public async Task An_update_without_company_unlinks_it_and_one_that_carries_it_keeps_it(string method, string query)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var company = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var id = await c.CreateCustomer($$"""{"company":"{{company}}","externalId":"u-1"}""");
        var kept = (await Api.Send(c, new HttpMethod(method), $"v1/customers/{id}{query}", $$"""{"name":"x","company":"{{company}}"}""")).Expect(200);
        Assert.Equal(company, kept.Data["relationships"]!["company"]!["data"]!["id"]!.GetValue<string>());
        var unlinked = (await Api.Send(c, new HttpMethod(method), $"v1/customers/{id}{query}", """{"name":"y"}""")).Expect(200);
        Assert.Null(unlinked.Data["relationships"]!["company"]);
        Assert.Null((await c.Get($"v1/customers/{id}")).Expect(200).Data["relationships"]!["company"]);
    }

    [Fact]
    public async Task Unlink_company_on_omit_can_be_turned_off()
    {
        await using var server = await Api.Start(o => o.UnlinkCompanyOnOmit = false);
        using var c = server.CreateClient();
        var company = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var id = await c.CreateCustomer($$"""{"company":"{{company}}"}""");
        var patched = (await c.Patch($"v1/customers/{id}", """{"name":"x"}""")).Expect(200);
        Assert.NotNull(patched.Data["relationships"]!["company"]);
    }

    [Fact]
    public async Task Bulk_update_items_without_company_unlink_it_unless_turned_off()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var company = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var a = await c.CreateCustomer($$"""{"company":"{{company}}"}""");
        var b = await c.CreateCustomer($$"""{"company":"{{company}}"}""");
        var d = await c.CreateCustomer($$"""{"company":"{{company}}"}""");
        var job = (await c.Put("v1/customers/bulk", $$"""[{"id":"{{a}}","name":"no company"},{"id":"{{b}}","name":"carried","company":"{{company}}"}]""")).Expect(201).Id;
        await Api.WaitForBulk(c, job);
        Assert.Null((await c.Get($"v1/customers/{a}")).Expect(200).Data["relationships"]!["company"]);
        Assert.NotNull((await c.Get($"v1/customers/{b}")).Expect(200).Data["relationships"]!["company"]);
        var ids = (await c.Put($"v1/customers/bulk?ids={b}", """{"name":"ids mode"}""")).Expect(201).Id;
        await Api.WaitForBulk(c, ids);
        Assert.Null((await c.Get($"v1/customers/{b}")).Expect(200).Data["relationships"]!["company"]);

        (await c.Put("_emulator/options", """{"unlinkCompanyOnBulkOmit":false}""")).Expect(200);
        var off = (await c.Put("v1/customers/bulk", $$"""[{"id":"{{d}}","name":"no company"}]""")).Expect(201).Id;
        await Api.WaitForBulk(c, off);
        Assert.NotNull((await c.Get($"v1/customers/{d}")).Expect(200).Data["relationships"]!["company"]);
    }

    [Fact]
    public async Task Delete_needs_a_delete_role()
    {
        var path = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "keys": [ { "key": "writer", "roles": ["org.user.customer.write", "org.user.customer.read"] } ] }""");
        try
        {
            await using var server = await Api.Start(o => o.KeysPath = path);
            using var w = server.CreateClient("writer");
            var id = await w.CreateCustomer("{}");
            Assert.Equal(HttpStatusCode.Forbidden, (await w.Delete($"v1/customers/{id}")).Status);
        }
        finally { File.Delete(path); }
    }
}
