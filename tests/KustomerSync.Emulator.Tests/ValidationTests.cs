namespace KustomerSync.Emulator.Tests;

public class ValidationTests
{
    public static TheoryData<string, string> InvalidCustomers => new()
    {
        { """{"nmae":"typo"}""", "/nmae" },
        { """{"data":{"type":"customer","attributes":{"name":"x"}}}""", "/data" },
        { """{"name":123}""", "/name" },
        { $$"""{"name":"{{new string('a', 257)}}"}""", "/name" },
        { """{"externalId":""}""", "/externalId" },
        { $$"""{"externalId":"{{new string('x', 257)}}"}""", "/externalId" },
        { """{"gender":"x"}""", "/gender" },
        { """{"locale":"this-is-way-too-long"}""", "/locale" },
        { """{"avatarUrl":"not a url"}""", "/avatarUrl" },
        { """{"signedUpAt":"2026-01-02"}""", "/signedUpAt" },
        { """{"signedUpAt":"2026-01-02T03:04:05"}""", "/signedUpAt" },
        { """{"company":"acme"}""", "/company" },
        { """{"emails":{"email":"a@b.c"}}""", "/emails" },
        { """{"emails":null}""", "/emails" },
        { """{"emails":[{"email":"not-an-email"}]}""", "/emails/0/email" },
        { """{"emails":[{"email":"a@b.c","type":"mobile"}]}""", "/emails/0/type" },
        { """{"emails":[{"email":"a@b.c","primary":true}]}""", "/emails/0/primary" },
        { """{"emails":[{"type":"work"}]}""", "/emails/0/email" },
        { """{"emails":[{"email":"a@b.c"},{"email":"A@B.C"}]}""", "/emails/1" },
        { """{"phones":[{"phone":"call me"}]}""", "/phones/0/phone" },
        { """{"phones":[{"phone":"+15555550100","type":"cell"}]}""", "/phones/0/type" },
        { """{"socials":[{"type":"myspace","username":"x"}]}""", "/socials/0/type" },
        { """{"urls":[{"url":"example.com"}]}""", "/urls/0/url" },
        { """{"locations":[{"countryCode":"USA"}]}""", "/locations/0/countryCode" },
        { """{"sentiment":{"polarity":2,"confidence":0.5}}""", "/sentiment/polarity" },
        { """{"sentiment":{"polarity":1}}""", "/sentiment/confidence" },
        { """{"tags":["ok","has#hash"]}""", "/tags/1" },
        { """{"tags":[""]}""", "/tags/0" },
        { """{"custom":{"tier":"gold"}}""", "/custom/tier" },
        { """{"custom":{"tierArr":"gold"}}""", "/custom/tierArr" },
        { """{"custom":{"unknownStr":"x"}}""", "/custom/unknownStr" },
        { """{"custom":{"lifetimeValueNum":"12"}}""", "/custom/lifetimeValueNum" },
        { """{"custom":{"optInBool":"true"}}""", "/custom/optInBool" },
        { """{"custom":{"lastOrderAt":"yesterday"}}""", "/custom/lastOrderAt" },
        { """{"custom":{"lastOrderAt":1700000000}}""", "/custom/lastOrderAt" },
        { """{"custom":{"websiteUrl":"www.example.com"}}""", "/custom/websiteUrl" },
        { """{"custom":{"tierStr":42}}""", "/custom/tierStr" },
        { "{\"custom\":{\"notesTxt\":\"" + new string('n', 1025) + "\"}}", "/custom/notesTxt" },
        { """{"custom":{"planStr":"gold"}}""", "/custom/planStr" },
        { """{"custom":{"accountManagerId":"bob"}}""", "/custom/accountManagerId" },
        { """{"custom":[]}""", "/custom" },
        { """{"rev":"1"}""", "/rev" },
    };

    [Theory]
    [MemberData(nameof(InvalidCustomers))]
    public async Task Invalid_customer_bodies_are_400_with_a_pointer_to_the_field(string body, string pointer)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers", body)).Expect(400);
        Assert.Equal(400, r.Error["status"]!.GetValue<int>());
        Assert.Equal("bad_request", r.Error["code"]!.GetValue<string>());
        Assert.Equal(pointer, r.ErrorPointer);
        Assert.False(string.IsNullOrEmpty(r.Error["detail"]!.GetValue<string>()));
        Assert.Equal(0, (await c.Get("_emulator/state?items=false")).Body!["customers"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Unknown_field_message_names_the_field()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers", """{"firstName":"Ada"}""")).Expect(400);
        Assert.StartsWith("firstName is not a known customer field", r.Error["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Array_limits_ten_items_and_twenty_tags()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        string Emails(int n) => string.Join(",", Enumerable.Range(0, n).Select(i => $$"""{"email":"e{{i}}@x.io"}"""));
        (await c.Post("v1/customers", $$"""{"emails":[{{Emails(10)}}]}""")).Expect(201);
        (await c.Post("v1/customers", $$"""{"emails":[{{Emails(11)}}]}""")).Expect(400);
        string Tags(int n) => string.Join(",", Enumerable.Range(0, n).Select(i => $"\"tag-{i}\""));
        (await c.Post("v1/customers", $$"""{"tags":[{{Tags(20)}}]}""")).Expect(201);
        (await c.Post("v1/customers", $$"""{"tags":[{{Tags(21)}}]}""")).Expect(400);
    }

    [Fact]
    public async Task Custom_values_that_fit_their_suffix_and_null_are_accepted()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers", $$"""
            {"custom":{"tierStr":"{{new string('s', 1024)}}","lifetimeValueNum":-3.5,"optInBool":false,"lastOrderAt":"2026-01-02T03:04:05.123+02:00",
             "websiteUrl":"https://example.com/a?b=c","notesTxt":"line1\nline2","planStr":"pro","accountManagerId":"0123456789abcdef01234567",
             "regionTree":"EMEA.UK","crmAccountIdStr":null}
            }
            """)).Expect(201);
        var custom = r.Attributes["custom"]!.AsObject();
        Assert.Equal("emea.uk", custom["regionTree"]!.GetValue<string>());
        Assert.False(custom.ContainsKey("crmAccountIdStr"));
        Assert.Equal(-3.5, custom["lifetimeValueNum"]!.GetValue<double>());
    }

    [Fact]
    public async Task Custom_over_100_keys_is_400()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var keys = string.Join(",", Enumerable.Range(0, 101).Select(i => $"\"k{i}Str\":\"v\""));
        var r = (await c.Post("v1/customers", "{\"custom\":{" + keys + "}}")).Expect(400);
        Assert.Contains("at most 100", r.Error["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"name":"a","name":"b"}""")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("")]
    public async Task Malformed_bodies_are_400(string body)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/customers", body)).Expect(400);
        Assert.Equal(400, r.Error["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Non_json_content_type_is_415()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await Api.Send(c, HttpMethod.Post, "v1/customers", """{"name":"x"}""", "text/plain")).Expect(415);
        Assert.Equal("unsupported_media_type", r.Error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bodies_over_100_KB_are_413()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var big = "{\"name\":\"x\",\"custom\":{\"notesTxt\":\"" + new string('a', 101 * 1024) + "\"}}";
        var r = (await c.Post("v1/customers", big)).Expect(413);
        Assert.Equal(413, r.Error["status"]!.GetValue<int>());
        var justUnder = "{\"locations\":[{\"name\":\"" + new string('a', 200) + "\"}]}";
        (await c.Post("v1/customers", justUnder)).Expect(201);
    }

    [Fact]
    public async Task Metadata_put_defines_a_new_attribute_which_then_validates()
    {
        await using var server = await Api.Start();
        using var admin = server.CreateClient(EmulatorServer.AdminKey);
        (await admin.Post("v1/customers", """{"custom":{"favoriteColorStr":"blue"}}""")).Expect(400);
        var m = (await admin.Put("v1/metadata/customer", """{"properties":{"favoriteColorStr":{"displayName":"Favorite Color"}}}""")).Expect(200);
        Assert.Equal("string", m.Attributes["properties"]!["favoriteColorStr"]!["type"]!.GetValue<string>());
        Assert.NotNull(m.Attributes["properties"]!["tierStr"]); // partial PUT keeps the others
        (await admin.Post("v1/customers", """{"custom":{"favoriteColorStr":"blue"}}""")).Expect(201);
        (await admin.Put("v1/metadata/customer", """{"properties":{"favoriteColor":{}}}""")).Expect(400);
        (await admin.Put("v1/metadata/customer", """{"properties":{"xNum":{"type":"string"}}}""")).Expect(400);
        (await admin.Put("v1/metadata/customer", """{"propertees":{}}""")).Expect(400);
        (await admin.Put("v1/metadata/kobject.nope", """{"properties":{}}""")).Expect(404);
    }

    [Fact]
    public async Task Metadata_get_returns_seeded_customer_company_and_klass_attributes()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var cust = (await c.Get("v1/metadata/customer")).Expect(200);
        Assert.Equal("metadata", cust.Data["type"]!.GetValue<string>());
        Assert.Equal("customer", cust.Id);
        var props = cust.Attributes["properties"]!.AsObject();
        foreach (var name in new[] { "tierStr", "lifetimeValueNum", "optInBool", "lastOrderAt", "websiteUrl", "notesTxt", "crmAccountIdStr" })
            Assert.True(props.ContainsKey(name), name);
        Assert.Equal("number", props["lifetimeValueNum"]!["type"]!.GetValue<string>());
        var company = (await c.Get("v1/metadata/company")).Expect(200).Attributes["properties"]!.AsObject();
        foreach (var name in new[] { "industryStr", "employeeBandStr", "accountIdStr" }) Assert.True(company.ContainsKey(name), name);
        var order = (await c.Get("v1/metadata/kobject.order")).Expect(200).Attributes["properties"]!.AsObject();
        foreach (var name in new[] { "orderNumberStr", "totalNum", "placedAt", "paidBool" }) Assert.True(order.ContainsKey(name), name);
        (await c.Get("v1/metadata/kobject.nope")).Expect(404);
    }

    [Fact]
    public async Task Metadata_file_option_replaces_the_default_seed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"meta-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"customer":{"properties":{"shoeSizeNum":{}}},"klasses":{"ticket":{"properties":{"severityStr":{}}}}}""");
        try
        {
            await using var server = await Api.Start(o => o.MetadataPath = path);
            using var c = server.CreateClient();
            (await c.Post("v1/customers", """{"custom":{"shoeSizeNum":42}}""")).Expect(201);
            (await c.Post("v1/customers", """{"custom":{"tierStr":"gold"}}""")).Expect(400);
            (await c.Post("v1/klasses/ticket", """{"title":"T-1","custom":{"severityStr":"high"}}""")).Expect(201);
            (await c.Post("v1/klasses/order", """{"title":"x"}""")).Expect(404);
        }
        finally { File.Delete(path); }
    }
}
