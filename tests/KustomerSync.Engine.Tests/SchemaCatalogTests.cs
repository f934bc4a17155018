using System.Net.Http.Json;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Tests;

/// <summary>Get-KustomerSchema's engine side against the emulator: attributes from metadata, klasses over pages, roles.</summary>
public class SchemaCatalogTests
{
    private static KustomerClient Client(EmulatorServer server, string key = EmulatorServer.DefaultKey) =>
        new(server.BaseUri, SecretText.Protect(key), new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50) });

    [Fact]
    public async Task Customer_attributes_carry_type_from_suffix_display_name_and_values()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);

        var attributes = await SchemaCatalog.ListAttributesAsync(client, KustomerObject.Customer, includeStandard: false, "emu", CancellationToken.None);

        Assert.All(attributes, a => Assert.True(a.IsCustom));
        Assert.All(attributes, a => Assert.Equal("custom." + a.Name, a.Path));
        Assert.All(attributes, a => Assert.Equal("Customer", a.Object));
        Assert.All(attributes, a => Assert.Equal("emu", a.Destination));
        Assert.Equal(attributes.Select(a => a.Name).OrderBy(n => n, StringComparer.OrdinalIgnoreCase), attributes.Select(a => a.Name));

        var byName = attributes.ToDictionary(a => a.Name);
        Assert.Equal(("String", "Str", "Tier", 1024), (byName["tierStr"].Type, byName["tierStr"].Suffix, byName["tierStr"].DisplayName, byName["tierStr"].MaxLength));
        Assert.Equal(new[] { "free", "pro", "enterprise" }, byName["planStr"].Enumeration);
        Assert.Equal(("Number", "Num", (int?)null), (byName["lifetimeValueNum"].Type, byName["lifetimeValueNum"].Suffix, byName["lifetimeValueNum"].MaxLength));
        Assert.Equal(("DateTime", "At"), (byName["lastOrderAt"].Type, byName["lastOrderAt"].Suffix));
        Assert.Equal(("Bool", "Bool", "Marketing Opt-In"), (byName["optInBool"].Type, byName["optInBool"].Suffix, byName["optInBool"].DisplayName));
        Assert.Equal(("Url", "Url"), (byName["websiteUrl"].Type, byName["websiteUrl"].Suffix));
        Assert.Equal(("Text", "Txt", 1024), (byName["notesTxt"].Type, byName["notesTxt"].Suffix, byName["notesTxt"].MaxLength));
        Assert.Equal(("ObjectId", "Id", "user"), (byName["accountManagerId"].Type, byName["accountManagerId"].Suffix, byName["accountManagerId"].Target));
        Assert.Equal(("Tree", "Tree"), (byName["regionTree"].Type, byName["regionTree"].Suffix));
        Assert.Equal(new[] { "emea", "emea.uk", "emea.de", "amer" }, byName["regionTree"].TreeValues);
        Assert.Empty(byName["tierStr"].Enumeration);
    }

    [Fact]
    public async Task Standard_fields_come_first_and_match_what_the_mapper_accepts()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);

        var attributes = await SchemaCatalog.ListAttributesAsync(client, KustomerObject.Company, includeStandard: true, null, CancellationToken.None);

        var standard = StandardFields.For(KustomerObject.Company);
        Assert.Equal(standard.Select(f => f.Path), attributes.Take(standard.Count).Select(a => a.Path));
        Assert.All(attributes.Take(standard.Count), a => Assert.False(a.IsCustom));
        Assert.All(attributes.Take(standard.Count), a => Assert.Null(a.Suffix));
        Assert.Equal("Email", attributes.Single(a => a.Name == "email").Type);
        Assert.Equal(256, attributes.Single(a => a.Name == "externalId").MaxLength);
        Assert.Contains(attributes.Skip(standard.Count), a => a.Name == "employeeBandStr" && a.Enumeration.Contains("1000+"));
        // Every attribute listed is a field the mapper finds under the same path.
        var schema = await SchemaCatalog.LoadAsync(client, KustomerObject.Company, CancellationToken.None);
        Assert.All(attributes, a => Assert.NotNull(schema.Find(a.Path)));
    }

    [Fact]
    public async Task Klass_attributes_and_unknown_klass()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);

        var order = await SchemaCatalog.ListAttributesAsync(client, KustomerObject.Parse("kobject.order"), false, null, CancellationToken.None);
        Assert.Contains(order, a => a.Name == "totalNum" && a.Type == "Number" && a.Object == "kobject.order" && a.DisplayName == "Total");

        var error = await Assert.ThrowsAsync<KustomerException>(() =>
            SchemaCatalog.ListAttributesAsync(client, KustomerObject.Parse("kobject.nosuchklass"), false, null, CancellationToken.None));
        Assert.Equal("KustomerSync.UnknownKlass", error.ErrorId);
        Assert.Contains("nosuchklass", error.Message);
    }

    [Fact]
    public async Task A_new_klass_without_attributes_lists_nothing_rather_than_unknown()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using (var admin = server.CreateClient(EmulatorServer.AdminKey))
            (await admin.PostAsJsonAsync("v1/klasses", new { name = "ticket", displayName = "Ticket" })).EnsureSuccessStatusCode();
        using var client = Client(server);

        var attributes = await SchemaCatalog.ListAttributesAsync(client, KustomerObject.Parse("kobject.ticket"), false, null, CancellationToken.None);
        Assert.Empty(attributes);
        var withStandard = await SchemaCatalog.ListAttributesAsync(client, KustomerObject.Parse("kobject.ticket"), true, null, CancellationToken.None);
        Assert.Contains(withStandard, a => a.Name == "title");
    }

    [Fact]
    public async Task Klasses_are_read_over_every_page()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using (var admin = server.CreateClient(EmulatorServer.AdminKey))
        {
            for (var i = 0; i < 230; i++)
            {
                var status = i % 10 == 0 ? "disabled" : i % 10 == 1 ? "existing_only" : "enabled";
                (await admin.PostAsJsonAsync("v1/klasses", new { name = $"k-{i:000}", displayName = $"Klass {i}", status })).EnsureSuccessStatusCode();
            }
        }
        using var client = Client(server);

        var klasses = await KlassCatalog.ListAsync(client, "emu", CancellationToken.None);

        Assert.Equal(232, klasses.Count); // 230 + order and subscription from the default seed
        Assert.Equal(klasses.Count, klasses.Select(k => k.Name).Distinct().Count());
        var order = klasses.Single(k => k.Name == "order");
        Assert.Equal(("Order", "enabled", "kobject.order", "emu"), (order.DisplayName, order.Status, order.Object, order.Destination));
        Assert.Matches("^[0-9a-f]{24}$", order.Id);
        Assert.NotNull(order.CreatedAt);
        Assert.Equal("disabled", klasses.Single(k => k.Name == "k-010").Status);
        Assert.Equal("existing_only", klasses.Single(k => k.Name == "k-011").Status);
        // One status per request (Kustomer lists only enabled klasses by default), pages of 100: enabled 100 + 86,
        // existing_only 23, disabled 23.
        Assert.Equal(4, client.Requests);
    }

    [Fact]
    public async Task A_key_without_the_read_roles_gets_MissingRole_naming_them()
    {
        var keys = Path.Combine(Path.GetTempPath(), $"schema-keys-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(keys, """
            { "keys": [ { "key": "writer-only", "name": "no metadata, no klass", "roles": ["org.permission.customer"] } ] }
            """);
        try
        {
            await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, KeysPath = keys });
            using var client = Client(server, "writer-only");

            var metadata = await Assert.ThrowsAsync<KustomerException>(() =>
                SchemaCatalog.ListAttributesAsync(client, KustomerObject.Customer, false, null, CancellationToken.None));
            Assert.Equal("KustomerSync.MissingRole", metadata.ErrorId);
            Assert.Contains("org.admin.metadata.read", metadata.Message);
            Assert.Contains("403", metadata.Message);

            var klasses = await Assert.ThrowsAsync<KustomerException>(() => KlassCatalog.ListAsync(client, null, CancellationToken.None));
            Assert.Equal("KustomerSync.MissingRole", klasses.ErrorId);
            Assert.Contains("org.admin.klass.read", klasses.Message);

            // The mapper's own load still works without the role: types then come from suffixes.
            var schema = await SchemaCatalog.LoadAsync(client, KustomerObject.Customer, CancellationToken.None);
            Assert.False(schema.CustomAttributesKnown);
        }
        finally
        {
            File.Delete(keys);
        }
    }
}
