namespace KustomerSync.Emulator.Tests;

public class KlassTests
{
    [Fact]
    public async Task Klasses_are_listed_and_fetched_by_id()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var list = (await c.Get("v1/klasses")).Expect(200).Body!["data"]!.AsArray();
        var order = list.Single(k => k!["attributes"]!["name"]!.GetValue<string>() == "order")!;
        Assert.Equal("klass", order["type"]!.GetValue<string>());
        var id = order["id"]!.GetValue<string>();
        var byId = (await c.Get($"v1/klasses/{id}")).Expect(200);
        Assert.Equal("order", byId.Attributes["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_plain_list_shows_only_enabled_klasses_and_status_lists_the_others()
    {
        await using var server = await Api.Start();
        using var admin = server.CreateClient(EmulatorServer.AdminKey);
        (await admin.Post("v1/klasses", """{"name":"legacy","status":"disabled"}""")).Expect(201);
        (await admin.Post("v1/klasses", """{"name":"archived","status":"existing_only"}""")).Expect(201);
        var seeded = (await admin.Put("_emulator/klasses/subscription", """{"status":"existing_only"}""")).Expect(200).Body!;
        Assert.Equal("existing_only", seeded["attributes"]!["status"]!.GetValue<string>());

        static List<string> Names(ApiResponse r) => r.Body!["data"]!.AsArray().Select(k => k!["attributes"]!["name"]!.GetValue<string>()).Order().ToList();
        using var c = server.CreateClient();
        Assert.Equal(["order"], Names((await c.Get("v1/klasses")).Expect(200)));
        Assert.Equal(["order"], Names((await c.Get("v1/klasses?status=enabled")).Expect(200)));
        Assert.Equal(["legacy"], Names((await c.Get("v1/klasses?status=disabled")).Expect(200)));
        Assert.Equal(["archived", "subscription"], Names((await c.Get("v1/klasses?status=existing_only")).Expect(200)));
        Assert.Equal(1, (await c.Get("v1/klasses")).Expect(200).Body!["meta"]!["total"]!.GetValue<int>());
        // Klasses of every status are still found by name and id.
        (await c.Get("v1/klasses/legacy")).Expect(200);
        (await c.Get("v1/klasses/subscription/externalId=nope")).Expect(404);
        (await admin.Put("_emulator/klasses/subscription", """{"status":"bogus"}""")).Expect(400);
        (await admin.Put("_emulator/klasses/nope", """{"status":"enabled"}""")).Expect(404);
    }

    [Fact]
    public async Task Admin_defines_a_klass_with_metadata_and_creates_kobjects_in_it()
    {
        await using var server = await Api.Start();
        using var admin = server.CreateClient(EmulatorServer.AdminKey);
        (await admin.Post("v1/klasses", """{"name":"ecomm-order","displayName":"Ecomm Order","icon":"cart"}""")).Expect(201);
        (await admin.Post("v1/klasses", """{"name":"ecomm-order"}""")).Expect(409);
        (await admin.Post("v1/klasses", """{"name":"bad name!"}""")).Expect(400);
        (await admin.Put("v1/metadata/kobject.ecomm-order", """{"properties":{"skuStr":{}}}""")).Expect(200);
        var r = (await admin.Post("v1/klasses/ecomm-order", """{"title":"Order #1","custom":{"skuStr":"A-1"}}""")).Expect(201);
        Assert.Equal("kobject.ecomm-order", r.Data["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task KObject_create_get_by_id_and_externalId_and_list()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var customer = await c.CreateCustomer("""{"externalId":"c-1"}""");
        var r = (await c.Post("v1/klasses/order", $$"""
            {"customer":"{{customer}}","externalId":"order-4417","title":"Order #4417","description":"3 items","icon":"cart",
             "custom":{"orderNumberStr":"4417","totalNum":64.67,"placedAt":"2026-01-02T10:00:00Z","paidBool":true}
            }
            """)).Expect(201);
        Assert.Equal("kobject.order", r.Data["type"]!.GetValue<string>());
        Assert.Equal("order", r.Data["relationships"]!["klass"]!["data"]!["id"]!.GetValue<string>());
        Assert.Equal(customer, r.Data["relationships"]!["customer"]!["data"]!["id"]!.GetValue<string>());
        Assert.Equal(1, r.Attributes["rev"]!.GetValue<int>());
        Assert.Equal(r.Id, (await c.Get($"v1/klasses/order/{r.Id}")).Expect(200).Id);
        Assert.Equal(r.Id, (await c.Get("v1/klasses/order/externalId=order-4417")).Expect(200).Id);
        (await c.Get("v1/klasses/order/externalId=nope")).Expect(404);
        (await c.Get("v1/klasses/subscription/externalId=order-4417")).Expect(404);
        var list = (await c.Get("v1/klasses/order")).Expect(200).Body!;
        Assert.Equal(1, list["meta"]!["total"]!.GetValue<int>());
        (await c.Get("v1/klasses/nope/externalId=x")).Expect(404);
    }

    [Theory]
    [InlineData("""{"externalId":"no-title"}""", "/title")]
    [InlineData("""{"title":""}""", "/title")]
    [InlineData("""{"title":"t","custom":{"totalNum":"64.67"}}""", "/custom/totalNum")]
    [InlineData("""{"title":"t","custom":{"planStr":"x"}}""", "/custom/planStr")]
    [InlineData("""{"title":"t","customer":"0123456789abcdef01234567"}""", "/customer")]
    [InlineData("""{"title":"t","images":["not-a-url"]}""", "/images/0")]
    [InlineData("""{"title":"t","rev":1}""", "/rev")]
    [InlineData("""{"title":"t","klass":"order"}""", "/klass")]
    public async Task Invalid_kobject_bodies_are_400(string body, string pointer)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Post("v1/klasses/order", body)).Expect(400);
        Assert.Equal(pointer, r.ErrorPointer);
    }

    [Fact]
    public async Task Put_merges_custom_rejects_customer_field_and_bumps_rev()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var customer = await c.CreateCustomer("{}");
        var id = (await c.Post("v1/klasses/order", """{"title":"O-1","externalId":"o-1","custom":{"totalNum":10,"paidBool":false},"data":{"a":1}}""")).Expect(201).Id;
        var r = (await c.Put($"v1/klasses/order/{id}", """{"custom":{"paidBool":true},"data":{"b":2}}""")).Expect(200);
        Assert.Equal(10, r.Attributes["custom"]!["totalNum"]!.GetValue<int>());
        Assert.True(r.Attributes["custom"]!["paidBool"]!.GetValue<bool>());
        Assert.False(r.Attributes["data"]!.AsObject().ContainsKey("a"));
        Assert.Equal(2, r.Attributes["rev"]!.GetValue<int>());
        var bad = (await c.Put($"v1/klasses/order/{id}", $$"""{"customer":"{{customer}}"}""")).Expect(400);
        Assert.Equal("/customer", bad.ErrorPointer);
        (await c.Put("v1/klasses/order/0123456789abcdef01234567", """{"title":"x"}""")).Expect(404);
    }

    [Fact]
    public async Task ExternalId_is_unique_per_klass_only()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        (await c.Post("v1/klasses/order", """{"title":"A","externalId":"X-1"}""")).Expect(201);
        var dup = (await c.Post("v1/klasses/order", """{"title":"B","externalId":"X-1"}""")).Expect(400);
        Assert.Equal("duplicate detected", dup.Error["title"]!.GetValue<string>());
        (await c.Post("v1/klasses/subscription", """{"title":"C","externalId":"X-1"}""")).Expect(201);
    }

    [Fact]
    public async Task KObject_creates_per_customer_per_key_are_limited_unless_importedAt()
    {
        await using var server = await Api.Start(o => { o.KObjectCreateLimitPerCustomer = 2; o.RateWindowSeconds = 30; });
        using var c = server.CreateClient();
        var customer = await c.CreateCustomer("{}");
        var other = await c.CreateCustomer("{}");
        (await c.Post("v1/klasses/order", $$"""{"title":"o1","customer":"{{customer}}"}""")).Expect(201);
        (await c.Post($"v1/customers/{customer}/klasses/order", """{"title":"o2"}""")).Expect(201); // the same window
        var limited = (await c.Post("v1/klasses/order", $$"""{"title":"o3","customer":"{{customer}}"}""")).Expect(429);
        Assert.Equal("rate_limited", limited.Error["code"]!.GetValue<string>());
        Assert.Contains("per customer", limited.Error["detail"]!.GetValue<string>());
        Assert.True(int.Parse(limited.Header("x-ratelimit-remaining")!) > 0); // the org budget still has room
        (await c.Post($"v1/customers/{customer}/klasses/order", """{"title":"o3"}""")).Expect(429);
        (await c.Post("v1/klasses/order", $$"""{"title":"o4","customer":"{{customer}}","importedAt":"2026-01-01T00:00:00Z"}""")).Expect(201);
        (await c.Post("v1/klasses/order", $$"""{"title":"o5","customer":"{{other}}"}""")).Expect(201);
        (await c.Post("v1/klasses/order", """{"title":"no customer"}""")).Expect(201);
        using var bulkKey = server.CreateClient(EmulatorServer.BulkKey);
        (await bulkKey.Post("v1/klasses/order", $$"""{"title":"o6","customer":"{{customer}}"}""")).Expect(201); // another key's own window
        await c.AdvanceClock(30);
        (await c.Post("v1/klasses/order", $$"""{"title":"o7","customer":"{{customer}}"}""")).Expect(201);
    }

    [Fact]
    public async Task The_default_kobject_create_limit_is_120_a_minute()
    {
        await using var server = await Api.Start();
        Assert.Equal(120, server.Options.KObjectCreateLimitPerCustomer);
        Assert.Equal(60, server.Options.RateWindowSeconds);
        using var c = server.CreateClient();
        var customer = await c.CreateCustomer("{}");
        for (var i = 0; i < 120; i++) (await c.Post($"v1/customers/{customer}/klasses/order", $$"""{"title":"o{{i}}"}""")).Expect(201);
        (await c.Post($"v1/customers/{customer}/klasses/order", """{"title":"one too many"}""")).Expect(429);
    }

    [Fact]
    public async Task Kobject_bulk_creates_count_against_the_per_customer_limit()
    {
        await using var server = await Api.Start(o => o.KObjectCreateLimitPerCustomer = 1);
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var customer = await c.CreateCustomer("{}");
        var job = (await c.Post("v1/klasses/order/bulk", $$"""[{"title":"a","customer":"{{customer}}"},{"title":"b","customer":"{{customer}}"},{"title":"c","customer":"{{customer}}","importedAt":"2026-01-01T00:00:00Z"}]""")).Expect(201).Id;
        var batch = await Api.WaitForBulk(c, job);
        Assert.Equal(2, batch["successCount"]!.GetValue<int>());
        Assert.Equal(429, batch["errors"]![0]!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Customer_klass_routes_create_linked_kobjects_and_list_them()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var customer = await c.CreateCustomer("{}");
        var other = await c.CreateCustomer("{}");
        var r = (await c.Post($"v1/customers/{customer}/klasses/order", """{"title":"Linked","externalId":"l-1"}""")).Expect(201);
        Assert.Equal(customer, r.Data["relationships"]!["customer"]!["data"]!["id"]!.GetValue<string>());
        (await c.Post("v1/klasses/order", $$"""{"title":"Other's","customer":"{{other}}"}""")).Expect(201);
        var list = (await c.Get($"v1/customers/{customer}/klasses/order")).Expect(200).Body!;
        Assert.Equal([r.Id], list["data"]!.AsArray().Select(d => d!["id"]!.GetValue<string>()).ToArray());
        (await c.Post($"v1/customers/{customer}/klasses/order", $$"""{"title":"x","customer":"{{other}}"}""")).Expect(400);
        (await c.Post("v1/customers/0123456789abcdef01234567/klasses/order", """{"title":"x"}""")).Expect(404);
        (await c.Post($"v1/customers/{customer}/klasses/nope", """{"title":"x"}""")).Expect(404);
    }

    [Fact]
    public async Task Object_rate_limiting_caps_updates_of_one_record_by_one_key()
    {
        await using var server = await Api.Start(o => { o.ObjectUpdateLimit = 2; o.RateWindowSeconds = 60; });
        using var c = server.CreateClient();
        var customer = await c.CreateCustomer("{}");
        var other = await c.CreateCustomer("{}");
        var company = await c.CreateCompany("""{"name":"Acme Inc"}""");
        var kobject = (await c.Post("v1/klasses/order", """{"title":"O-1"}""")).Expect(201).Id;
        (await c.Patch($"v1/customers/{customer}", """{"name":"1"}""")).Expect(200);
        (await c.Put($"v1/customers/{customer}", """{"name":"2"}""")).Expect(200);
        var limited = (await c.Patch($"v1/customers/{customer}", """{"name":"3"}""")).Expect(429);
        Assert.Contains("Object rate limit", limited.Error["detail"]!.GetValue<string>());
        Assert.True(int.Parse(limited.Header("x-ratelimit-remaining")!) > 0);
        Assert.Equal("2", (await c.Get($"v1/customers/{customer}")).Expect(200).Attributes["name"]!.GetValue<string>());
        (await c.Patch($"v1/customers/{other}", """{"name":"1"}""")).Expect(200);
        using var admin = server.CreateClient(EmulatorServer.AdminKey);
        (await admin.Patch($"v1/customers/{customer}", """{"name":"admin"}""")).Expect(200);
        for (var i = 0; i < 2; i++)
        {
            (await c.Put($"v1/companies/{company}", $$"""{"name":"Acme {{i}}"}""")).Expect(200);
            (await c.Put($"v1/klasses/order/{kobject}", $$"""{"title":"O {{i}}"}""")).Expect(200);
        }
        (await c.Put($"v1/companies/{company}", """{"name":"Acme 3"}""")).Expect(429);
        (await c.Put($"v1/klasses/order/{kobject}", """{"title":"O 3"}""")).Expect(429);
        await c.AdvanceClock(60);
        (await c.Patch($"v1/customers/{customer}", """{"name":"4"}""")).Expect(200);
        (await c.Put("_emulator/options", """{"objectUpdateLimit":0}""")).Expect(200);
        for (var i = 0; i < 5; i++) (await c.Put($"v1/companies/{company}", """{"name":"Acme 9"}""")).Expect(200);
    }

    [Fact]
    public async Task Object_rate_limiting_is_on_by_default_at_60_a_window()
    {
        await using var server = await Api.Start();
        Assert.Equal(60, server.Options.ObjectUpdateLimit);
        using var c = server.CreateClient();
        var customer = await c.CreateCustomer("{}");
        for (var i = 0; i < 60; i++) (await c.Patch($"v1/customers/{customer}", $$"""{"name":"n{{i}}"}""")).Expect(200);
        (await c.Patch($"v1/customers/{customer}", """{"name":"too many"}""")).Expect(429);
    }

    [Fact]
    public async Task Unknown_klass_is_404()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        (await c.Post("v1/klasses/nope", """{"title":"x"}""")).Expect(404);
        (await c.Get("v1/klasses/nope")).Expect(404);
    }
}
