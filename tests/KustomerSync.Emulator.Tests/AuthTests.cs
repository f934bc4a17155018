namespace KustomerSync.Emulator.Tests;

public class AuthTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Missing_or_unknown_key_is_401_with_errors_body_and_rate_headers(string? key)
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(key);
        var r = (await c.Get("v1/customers/externalId=x")).Expect(401);
        Assert.Equal(401, r.Error["status"]!.GetValue<int>());
        Assert.Equal("unauthorized", r.Error["code"]!.GetValue<string>());
        Assert.Equal("1000", r.Header("x-ratelimit-limit"));
    }

    [Fact]
    public async Task Non_bearer_scheme_is_401()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(null);
        c.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Basic emulator-key");
        (await c.Get("v1/auth/tokens/current")).Expect(401);
    }

    [Fact]
    public async Task Tokens_current_returns_the_token_record_with_the_eight_census_roles()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var r = (await c.Get("v1/auth/tokens/current")).Expect(200);
        Assert.Equal("token", r.Data["type"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{24}$", r.Id);
        var roles = r.Attributes["roles"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray();
        Assert.Equal(
            new[] { "org.admin.klass.read", "org.user.kobject.read", "org.admin.metadata.read", "org.admin.search.read",
                    "org.user.customer.write", "org.user.kobject.write", "org.permission.customer", "org.permission.company" }.Order(),
            roles.Order());
        Assert.Equal("-key", r.Attributes["lastTokenChars"]!.GetValue<string>());
        Assert.NotNull(r.Attributes["lastAccessedAt"]);
        Assert.NotNull(r.Attributes["createdAt"]);
        Assert.Equal("org", r.Data["relationships"]!["org"]!["data"]!["type"]!.GetValue<string>());
        Assert.Equal("user", r.Data["relationships"]!["user"]!["data"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bulk_key_adds_org_permission_bulk()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient(EmulatorServer.BulkKey);
        var roles = (await c.Get("v1/auth/tokens/current")).Expect(200).Attributes["roles"]!.AsArray().Select(x => x!.GetValue<string>()).ToList();
        Assert.Equal(9, roles.Count);
        Assert.Contains("org.permission.bulk", roles);
    }

    [Fact]
    public async Task Census_key_can_submit_bulk_but_not_poll_it_and_bulk_key_can()
    {
        await using var server = await Api.Start();
        using var census = server.CreateClient();
        using var bulk = server.CreateClient(EmulatorServer.BulkKey);
        var id = (await census.Post("v1/customers/bulk", """[{"externalId":"b-1"}]""")).Expect(201).Id;
        var denied = (await census.Get($"v1/bulk/{id}")).Expect(403);
        Assert.Equal("forbidden", denied.Error["code"]!.GetValue<string>());
        Assert.Contains("org.permission.bulk.read", denied.Error["detail"]!.GetValue<string>());
        (await census.Get($"v1/bulk/{id}/batches")).Expect(403);
        (await bulk.Get($"v1/bulk/{id}")).Expect(200);
        (await bulk.Get($"v1/bulk/{id}/batches")).Expect(200);
    }

    [Fact]
    public async Task A_missing_role_is_403_by_default_and_401_by_setting_with_a_body_naming_the_role()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var forbidden = (await c.Put("v1/metadata/customer", """{"properties":{"newStr":{}}}""")).Expect(403);
        Assert.Contains("role", forbidden.Error["detail"]!.GetValue<string>());
        (await c.Put("_emulator/options", """{"missingRoleStatus":401}""")).Expect(200);
        var unauthorized = (await c.Put("v1/metadata/customer", """{"properties":{"newStr":{}}}""")).Expect(401);
        Assert.Equal("unauthorized", unauthorized.Error["code"]!.GetValue<string>());
        var detail = unauthorized.Error["detail"]!.GetValue<string>();
        Assert.Contains("Missing role", detail);
        Assert.Contains("permission", detail);
        Assert.Contains("org.admin.metadata.write", detail);
        (await c.Get("v1/auth/tokens/current")).Expect(200); // the key itself is good
        (await c.Put("_emulator/options", """{"missingRoleStatus":402}""")).Expect(400);
    }

    [Fact]
    public async Task Census_key_lacks_metadata_write_and_klass_create()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        (await c.Put("v1/metadata/customer", """{"properties":{"newStr":{}}}""")).Expect(403);
        (await c.Post("v1/klasses", """{"name":"ticket"}""")).Expect(403);
        (await c.Get("v1/metadata/customer")).Expect(200);
        (await c.Get("v1/klasses")).Expect(200);
    }

    [Fact]
    public async Task Umbrella_customer_permission_covers_read_and_delete()
    {
        await using var server = await Api.Start();
        using var c = server.CreateClient();
        var id = await c.CreateCustomer("""{"externalId":"u-1"}""");
        (await c.Get($"v1/customers/{id}")).Expect(200);
        (await c.Delete($"v1/customers/{id}")).Expect(204);
    }

    [Fact]
    public async Task Keys_file_defines_keys_roles_expiry_and_pod()
    {
        var path = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            { "keys": [
              { "key": "reader", "name": "read only", "roles": ["org.user.customer.read"] },
              { "key": "old", "roles": ["org.permission.customer"], "expired": true },
              { "key": "eu", "roles": ["org.permission.customer"], "pod": "prod2" },
              { "key": "kobj-order", "roles": ["org.permission.kobject.kobject_order.create"] }
            ] }
            """);
        try
        {
            await using var server = await Api.Start(o => o.KeysPath = path);
            using var admin = server.CreateClient(EmulatorServer.AdminKey);
            var id = await admin.CreateCustomer("""{"externalId":"k-1"}""");
            using var reader = server.CreateClient("reader");
            (await reader.Get($"v1/customers/{id}")).Expect(200);
            (await reader.Patch($"v1/customers/{id}", """{"name":"x"}""")).Expect(403);
            using var old = server.CreateClient("old");
            Assert.Contains("Expired token", (await old.Get($"v1/customers/{id}")).Expect(401).Error["detail"]!.GetValue<string>());
            using var eu = server.CreateClient("eu");
            Assert.Contains("pod prod2", (await eu.Get($"v1/customers/{id}")).Expect(401).Error["detail"]!.GetValue<string>());
            using var perKlass = server.CreateClient("kobj-order");
            (await perKlass.Post("v1/klasses/order", """{"title":"t"}""")).Expect(201);
            (await perKlass.Post("v1/klasses/subscription", """{"title":"t"}""")).Expect(403);
            (await server.CreateClient().Get("v1/auth/tokens/current")).Expect(200); // built-ins kept
        }
        finally { File.Delete(path); }
    }
}
