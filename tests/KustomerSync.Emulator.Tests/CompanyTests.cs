namespace KustomerSync.Emulator.Tests;

public class CompanyTests
{
    [Fact]
    public async Task Create_and_get_a_company()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/companies", """{"name":"Acme Inc","externalId":"co-1","domains":[{"domain":"acme.example"}],"custom":{"industryStr":"retail","employeeBandStr":"11-50"}}""")).Expect(201);
        Assert.Equal("company", r.Data["type"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{24}$", r.Id);
        Assert.Equal(1, r.Attributes["rev"]!.GetValue<int>());
        var got = (await c.Get($"v1/companies/{r.Id}")).Expect(200);
        Assert.Equal("retail", got.Attributes["custom"]!["industryStr"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"externalId":"no-name"}""", "/name")]
    [InlineData("""{"name":"Ab"}""", "/name")]
    [InlineData("""{"name":null}""", "/name")]
    [InlineData("""{"name":"Acme","employees":3}""", "/employees")]
    [InlineData("""{"name":"Acme","domains":[{"domain":"not a domain"}]}""", "/domains/0/domain")]
    [InlineData("""{"name":"Acme","custom":{"tierStr":"gold"}}""", "/custom/tierStr")]
    [InlineData("""{"name":"Acme","custom":{"employeeBandStr":"huge"}}""", "/custom/employeeBandStr")]
    [InlineData("""{"name":"Acme","deleted":true}""", "/deleted")]
    public async Task Invalid_company_bodies_are_400(string body, string pointer)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/companies", body)).Expect(400);
        Assert.Equal(pointer, r.ErrorPointer);
    }

    [Fact]
    public async Task Query_by_externalId_returns_a_list_filter_matches_names_and_both_are_ignored_together()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        await c.CreateCompany("""{"name":"Acme Inc","externalId":"co-1"}""");
        await c.CreateCompany("""{"name":"Globex Corp","externalId":"co-2"}""");
        await c.CreateCompany("""{"name":"Acme Labs","externalId":"co-3"}""");
        var byExt = (await c.Get("v1/companies?externalId=co-2")).Expect(200).Body!;
        Assert.Equal("co-2", byExt["data"]!.AsArray().Single()!["attributes"]!["externalId"]!.GetValue<string>());
        Assert.Equal("/v1/companies?externalId=co-2&page=1&pageSize=100", byExt["links"]!["self"]!.GetValue<string>());
        Assert.Empty((await c.Get("v1/companies?externalId=none")).Expect(200).Body!["data"]!.AsArray());
        Assert.Equal(2, (await c.Get("v1/companies?filter=acme")).Expect(200).Body!["data"]!.AsArray().Count);
        Assert.Equal(3, (await c.Get("v1/companies?externalId=co-2&filter=Globex")).Expect(200).Body!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task ExternalId_is_unique_per_org()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        await c.CreateCompany("""{"name":"Acme Inc","externalId":"co-1"}""");
        var dup = (await c.Post("v1/companies", """{"name":"Other Co","externalId":"co-1"}""")).Expect(400);
        Assert.Equal("duplicate detected", dup.Error["title"]!.GetValue<string>());
        Assert.Null(dup.Error["meta"]);
        var other = await c.CreateCompany("""{"name":"Other Co"}""");
        (await c.Put($"v1/companies/{other}", """{"externalId":"co-1"}""")).Expect(400);
    }

    [Fact]
    public async Task Put_merges_and_deleted_true_removes_the_company()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCompany("""{"name":"Acme Inc","externalId":"co-1","custom":{"industryStr":"retail","activeBool":true}}""");
        var r = (await c.Put($"v1/companies/{id}", """{"custom":{"industryStr":"tech"},"externalId":null}""")).Expect(200);
        Assert.Equal("Acme Inc", r.Attributes["name"]!.GetValue<string>());
        Assert.True(r.Attributes["custom"]!["activeBool"]!.GetValue<bool>());
        Assert.Equal("tech", r.Attributes["custom"]!["industryStr"]!.GetValue<string>());
        Assert.Null(r.Attributes["externalId"]);
        Assert.Equal(2, r.Attributes["rev"]!.GetValue<int>());
        (await c.Put($"v1/companies/{id}", """{"name":"Xy"}""")).Expect(400);
        var del = (await c.Put($"v1/companies/{id}", """{"deleted":true}""")).Expect(200);
        Assert.True(del.Attributes["deleted"]!.GetValue<bool>());
        (await c.Get($"v1/companies/{id}")).Expect(404);
        Assert.Empty((await c.Get("v1/companies")).Expect(200).Body!["data"]!.AsArray());
    }

    [Theory]
    [InlineData("createdAt")]
    [InlineData("importedAt")]
    public async Task Company_updates_reject_create_only_fields_naming_them(string field)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var body = $$"""{"name":"Acme Inc","{{field}}":"2020-01-01T00:00:00Z"}""";
        var id = await c.CreateCompany(body); // create takes them
        var r = (await c.Put($"v1/companies/{id}", body)).Expect(400);
        Assert.Equal("/" + field, r.ErrorPointer);
        Assert.Contains(field, r.Error["detail"]!.GetValue<string>());
        Assert.Equal(1, (await c.Get($"v1/companies/{id}")).Expect(200).Attributes["rev"]!.GetValue<int>());

        var other = await c.CreateCompany("""{"name":"Other Co"}""");
        var bulk = (await c.Put("v1/companies/bulk", $$"""[{"id":"{{other}}","name":"Fine Co"},{"id":"{{id}}","{{field}}":"2020-01-01T00:00:00Z"}]""")).Expect(400);
        Assert.Equal($"/1/{field}", bulk.ErrorPointer);
        Assert.Equal(0, (await c.Get("_emulator/state?items=false")).Body!["bulkJobs"]!["count"]!.GetValue<int>()); // the whole request
        (await c.Put($"v1/companies/bulk?ids={other}", body)).Expect(400);
    }

    [Fact]
    public async Task Company_bulk_update_items_take_no_whatsapps_or_rev()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var id = await c.CreateCompany("""{"name":"Acme Inc"}""");
        Assert.Equal("/0/rev", (await c.Put("v1/companies/bulk", $$"""[{"id":"{{id}}","rev":1}]""")).Expect(400).ErrorPointer);
        Assert.Equal("/0/whatsapps", (await c.Put("v1/companies/bulk", $$"""[{"id":"{{id}}","whatsapps":[]}]""")).Expect(400).ErrorPointer);
        (await c.Put($"v1/companies/{id}", """{"rev":1,"whatsapps":[]}""")).Expect(200);
    }

    [Fact]
    public async Task There_is_no_patch_or_delete_for_companies()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var patch = await c.Patch($"v1/companies/{id}", """{"name":"Acme 2"}""");
        Assert.Equal(405, patch.Code);
        Assert.Equal("method_not_allowed", patch.Error["code"]!.GetValue<string>());
        var delete = await c.Delete($"v1/companies/{id}");
        Assert.Equal(405, delete.Code);
        (await c.Get($"v1/companies/{id}")).Expect(200);
    }
}
