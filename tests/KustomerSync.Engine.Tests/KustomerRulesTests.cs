using System.Net.Http.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// Kustomer's documented rules (kustomer-api.md, changes of 2026-12-01) that the emulator enforces, end to end: company
/// links kept, update schemas, klasses of every status, custom keys beyond search's reach, budgets, refusals.
/// </summary>
public class KustomerRulesTests
{
    private static UpsertOptions Options(string obj, string key)
    {
        var target = KustomerObject.Parse(obj);
        return new UpsertOptions(target, RecordKey.Parse(key, target));
    }

    private static async Task<string> CreateCompanyAsync(EmulatorServer server, string externalId)
    {
        using var admin = server.CreateClient(EmulatorServer.AdminKey);
        var created = await admin.PostAsJsonAsync("v1/companies", new { name = "Analytical Engines " + externalId, externalId });
        created.EnsureSuccessStatusCode();
        return JsonNode.Parse(await created.Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
    }

    private static async Task<string?> CompanyOfAsync(EmulatorServer server, string customerId)
    {
        var customer = await GetAsync(server, "v1/customers/" + customerId);
        return customer["data"]!["relationships"]?["company"]?["data"]?["id"]?.GetValue<string>();
    }

    private static async Task LinkAsync(EmulatorServer server, string customerId, string companyId)
    {
        using var admin = server.CreateClient(EmulatorServer.AdminKey);
        (await admin.PatchAsJsonAsync("v1/customers/" + customerId, new { company = companyId })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task An_update_whose_mapping_names_no_company_keeps_the_customers_company()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, UnlinkCompanyOnOmit = true });
        using var client = Client(server);
        var companyId = await CreateCompanyAsync(server, "co-1");
        string[] names = { "externalId", "name", "companyExternalId" };
        var (_, created) = await RunAsync(client, Options("Customer", "ExternalId"), new[] { (names, new object?[] { "cu-1", "Ada", "co-1" }) });

        var (summary, _) = await RunAsync(client, Options("Customer", "ExternalId"), new[] { (new[] { "externalId", "name" }, new object?[] { "cu-1", "Ada Lovelace" }) });

        Assert.Equal(1, summary.Updated);
        Assert.Equal(companyId, await CompanyOfAsync(server, created.Single().KustomerId!));
    }

    [Fact]
    public async Task An_update_by_an_id_from_the_state_store_reads_the_company_link_first_and_keeps_it()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, UnlinkCompanyOnOmit = true });
        using var client = Client(server);
        var path = Path.Combine(Path.GetTempPath(), $"rules-{Guid.NewGuid():N}.db");
        try
        {
            var store = StateStores.Sqlite(path);
            string[] names = { "externalId", "name" };
            string customerId;
            using (var state = store.Open(new SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId" }))
                customerId = (await RunAsync(client, Options("Customer", "ExternalId"), new[] { (names, new object?[] { "cu-1", "Ada" }) },
                    state: new UpsertStateBinding(state, false))).Results.Single().KustomerId!;
            // Linked in Kustomer after the first run: the sync knows nothing of it, and must not undo it.
            var companyId = await CreateCompanyAsync(server, "co-1");
            await LinkAsync(server, customerId, companyId);
            // The first run created the key without a lookup: the state store had never seen it.
            var lookupsBefore = await LookupsAsync(server);

            UpsertSummary summary;
            using (var state = store.Open(new SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId" }))
                summary = (await RunAsync(client, Options("Customer", "ExternalId"), new[] { (names, new object?[] { "cu-1", "Ada Lovelace" }) },
                    state: new UpsertStateBinding(state, false))).Summary;

            Assert.Equal(1, summary.Updated);
            Assert.Equal(companyId, await CompanyOfAsync(server, customerId));
            Assert.Equal(lookupsBefore, await LookupsAsync(server)); // the remembered id saved the lookup; one GET by id read the link
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_customer_found_by_a_custom_attribute_keeps_its_company()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, SearchRateLimit = 0, UnlinkCompanyOnOmit = true });
        using var client = Client(server);
        var companyId = await CreateCompanyAsync(server, "co-1");
        string[] names = { "externalId", "name", "crmAccountIdStr", "companyExternalId" };
        var (_, created) = await RunAsync(client, Options("Customer", "ExternalId"), new[] { (names, new object?[] { "cu-1", "Ada", "A-1", "co-1" }) });

        var (summary, _) = await RunAsync(client, Options("Customer", "crmAccountIdStr"), new[] { (new[] { "crmAccountIdStr", "name" }, new object?[] { "A-1", "Ada Lovelace" }) });

        Assert.Equal(1, summary.Updated);
        Assert.Equal(companyId, await CompanyOfAsync(server, created.Single().KustomerId!));
    }

    [Fact]
    public async Task A_mapping_that_names_the_company_changes_the_link()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, UnlinkCompanyOnOmit = true });
        using var client = Client(server);
        await CreateCompanyAsync(server, "co-1");
        var second = await CreateCompanyAsync(server, "co-2");
        string[] names = { "externalId", "name", "companyExternalId" };
        var (_, created) = await RunAsync(client, Options("Customer", "ExternalId"), new[] { (names, new object?[] { "cu-1", "Ada", "co-1" }) });

        await RunAsync(client, Options("Customer", "ExternalId"), new[] { (names, new object?[] { "cu-1", "Ada", "co-2" }) });

        Assert.Equal(second, await CompanyOfAsync(server, created.Single().KustomerId!));
    }

    [Fact]
    public async Task Company_updates_leave_out_createdAt_and_importedAt()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        string[] names = { "externalId", "name", "createdAt", "importedAt" };
        var row = (names, new object?[] { "co-1", "Analytical Engines", "2020-01-02T03:04:05Z", "2026-11-30T00:00:00Z" });

        var (created, _) = await RunAsync(client, Options("Company", "ExternalId"), new[] { row });
        var (updated, results) = await RunAsync(client, Options("Company", "ExternalId"), new[] { (names, new object?[] { "co-1", "Analytical Engines Ltd", "2020-01-02T03:04:05Z", "2026-11-30T00:00:00Z" }) });

        Assert.Equal(1, created.Created);
        Assert.True(updated.Updated == 1, results.Single().Message);
        var company = (JsonArray)(await GetAsync(server, "v1/companies?externalId=co-1"))["data"]!;
        Assert.Equal("Analytical Engines Ltd", company.Single()!["attributes"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_backfill_marks_KObjects_imported_so_the_per_customer_create_limit_does_not_apply()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, KObjectCreateLimitPerCustomer = 5 });
        using var client = Client(server);
        await RunAsync(client, Options("Customer", "Email"), new[] { (new[] { "email", "name" }, new object?[] { "ada@example.com", "Ada" }) });
        string[] names = { "externalId", "title", "customerEmail" };
        var orders = Enumerable.Range(1, 12).Select(i => (names, new object?[] { $"order-{i}", $"Order #{i}", "ada@example.com" }));
        var options = Options("kobject.order", "ExternalId");
        options.Backfill = true;

        var (summary, _) = await RunAsync(client, options, orders);

        Assert.Equal(12, summary.Created);
        Assert.Equal(0, summary.RateLimited);
        var order = await GetAsync(server, "v1/klasses/order/externalId=order-12");
        Assert.NotNull(order["data"]!["attributes"]!["importedAt"]);
    }

    [Fact]
    public async Task Klasses_of_every_status_are_found_for_their_attributes()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using (var admin = server.CreateClient(EmulatorServer.AdminKey))
            (await admin.PostAsJsonAsync("v1/klasses", new { name = "legacy", displayName = "Legacy", status = "existing_only" })).EnsureSuccessStatusCode();
        using var client = Client(server);

        // A klass without attribute metadata is checked against the klass list, which must see every status.
        var attributes = await SchemaCatalog.ListAttributesAsync(client, KustomerObject.Parse("kobject.legacy"), false, null, CancellationToken.None);
        Assert.Empty(attributes);
        var klasses = await KlassCatalog.ListAsync(client, null, CancellationToken.None);
        Assert.Equal("existing_only", klasses.Single(k => k.Name == "legacy").Status);
    }

    [Fact]
    public async Task A_custom_key_run_stays_within_the_search_budget()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 100_000, SearchRateLimit = 3, RateWindowSeconds = 2 });
        using var client = new KustomerClient(server.BaseUri, SecretText.Protect(EmulatorServer.DefaultKey), new KustomerClientOptions
        {
            BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50),
            SearchLimit = 3, SearchWindow = TimeSpan.FromSeconds(2.5),
        });
        var options = Options("Customer", "crmAccountIdStr");
        options.CreateOnSearchMiss = true;
        var rows = Enumerable.Range(1, 40).Select(i => (new[] { "crmAccountIdStr", "name" }, new object?[] { $"A-{i:000}", $"Account {i}" }));

        var (summary, _) = await RunAsync(client, options, rows);

        Assert.Equal(40, summary.Created);
        Assert.Equal(0, summary.RateLimited);
        var stats = await GetAsync(server, "_emulator/stats");
        Assert.Equal(0, stats["searchRateLimited"]!.GetValue<long>());
    }

    private static async Task MakeDormantAsync(EmulatorServer server, string type, string id)
    {
        using var http = server.CreateClient(null);
        (await http.PostAsJsonAsync("_emulator/records/times", new { type, id, ageDays = 731 })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_dormant_record_holding_a_custom_key_is_never_duplicated()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, SearchRateLimit = 0 });
        using var client = Client(server);
        var (_, seeded) = await RunAsync(client, Options("Customer", "ExternalId"),
            new[] { (new[] { "externalId", "name", "crmAccountIdStr" }, new object?[] { "cu-1", "Ada", "A-1" }) });
        await MakeDormantAsync(server, "customer", seeded.Single().KustomerId!);
        string[] names = { "crmAccountIdStr", "name" };

        var (summary, results) = await RunAsync(client, Options("Customer", "crmAccountIdStr"), new[] { (names, new object?[] { "A-1", "Ada Lovelace" }) });

        Assert.Equal(1, summary.Failed);
        var failed = results.Single();
        Assert.Equal("KustomerSync.KeyNotProvablyAbsent", failed.ErrorId);
        Assert.Equal("custom.crmAccountIdStr", failed.Field);
        Assert.Contains("two years", failed.Message);
        Assert.Equal(1, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());

        // The documented opt-in creates on a miss; UpdateOnly never creates and says what search could not see.
        var optIn = Options("Customer", "crmAccountIdStr");
        optIn.CreateOnSearchMiss = true;
        var (created, _) = await RunAsync(client, optIn, new[] { (names, new object?[] { "A-2", "Babbage" }) });
        Assert.Equal(1, created.Created);
        var updateOnly = Options("Customer", "crmAccountIdStr");
        updateOnly.Behavior = SyncBehavior.UpdateOnly;
        var (_, missing) = await RunAsync(client, updateOnly, new[] { (names, new object?[] { "A-9", "Nobody" }) });
        Assert.Equal("KustomerSync.RecordNotFound", missing.Single().ErrorId);
        Assert.Contains("last two years", missing.Single().Message);
    }

    [Fact]
    public async Task A_custom_key_the_state_store_knows_is_updated_by_id_even_when_search_cannot_see_it()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, SearchRateLimit = 0 });
        using var client = Client(server);
        var path = Path.Combine(Path.GetTempPath(), $"rules-{Guid.NewGuid():N}.db");
        try
        {
            var store = StateStores.Sqlite(path);
            var options = new SyncStateOptions("accounts") { Object = "Customer", SyncKey = "custom.crmAccountIdStr" };
            string[] names = { "crmAccountIdStr", "name" };
            string id;
            using (var state = store.Open(options))
                id = (await RunAsync(client, Options("Customer", "crmAccountIdStr"), new[] { (names, new object?[] { "A-1", "Ada" }) },
                    state: new UpsertStateBinding(state, false))).Results.Single().KustomerId!;
            await MakeDormantAsync(server, "customer", id);

            UpsertResult result;
            using (var state = store.Open(options))
                result = (await RunAsync(client, Options("Customer", "crmAccountIdStr"), new[] { (names, new object?[] { "A-1", "Ada Lovelace" }) },
                    state: new UpsertStateBinding(state, false))).Results.Single();

            Assert.Equal(UpsertStatus.Updated, result.Status);
            Assert.Equal(id, result.KustomerId);
            Assert.Equal(1, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_create_refused_as_a_duplicate_with_400_becomes_an_update()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, DuplicateStatus = 400 });
        using (var admin = server.CreateClient(EmulatorServer.AdminKey))
            (await admin.PostAsJsonAsync("v1/customers", new { externalId = "cu-1", name = "Ada" })).EnsureSuccessStatusCode();
        // The first lookup misses, as if the record had been created just after it: the create then collides.
        var hiding = new HideFirstLookup { InnerHandler = new HttpClientHandler() };
        using var client = new KustomerClient(server.BaseUri, SecretText.Protect(EmulatorServer.DefaultKey),
            new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50) }, hiding);

        var (summary, results) = await RunAsync(client, Options("Customer", "ExternalId"), new[] { (new[] { "externalId", "name" }, new object?[] { "cu-1", "Ada Lovelace" }) });

        Assert.True(hiding.Hidden);
        Assert.True(summary.Updated == 1, results.Single().Message);
        var stored = (JsonArray)(await GetAsync(server, "_emulator/state"))["customers"]!["items"]!;
        Assert.Equal("Ada Lovelace", stored.Single()!["attributes"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_401_for_a_missing_role_is_read_as_one_and_the_schema_degrades_as_for_403()
    {
        var keys = Path.Combine(Path.GetTempPath(), $"rules-keys-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(keys, """
            { "keys": [ { "key": "reader", "name": "no metadata, no writes", "roles": ["org.user.customer.read"] } ] }
            """);
        try
        {
            await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, KeysPath = keys, MissingRoleStatus = 401 });
            using var client = Client(server, "reader");

            var schema = await SchemaCatalog.LoadAsync(client, KustomerObject.Customer, CancellationToken.None);
            Assert.False(schema.CustomAttributesKnown);
            var listing = await Assert.ThrowsAsync<KustomerException>(() => SchemaCatalog.ListAttributesAsync(client, KustomerObject.Customer, false, null, CancellationToken.None));
            Assert.Equal("KustomerSync.MissingRole", listing.ErrorId);
            Assert.Contains("org.admin.metadata.read", listing.Message);

            var (summary, results) = await RunAsync(client, Options("Customer", "ExternalId"), new[] { (new[] { "externalId", "name" }, new object?[] { "cu-1", "Ada" }) });
            Assert.Equal(1, summary.Failed);
            Assert.Equal("KustomerSync.MissingRole", results.Single().ErrorId);
        }
        finally
        {
            File.Delete(keys);
        }
    }

    /// <summary>Answers the first GET …/externalId= with 404, as a lookup made just before someone else's create would.</summary>
    private sealed class HideFirstLookup : DelegatingHandler
    {
        private int _hidden;

        public bool Hidden => _hidden > 0;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Get && request.RequestUri!.AbsolutePath.Contains("externalId=") && Interlocked.Exchange(ref _hidden, 1) == 0)
                return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.NotFound) { Content = new StringContent("""{"errors":[{"status":404}]}""") });
            return base.SendAsync(request, cancellationToken);
        }
    }

    private static async Task<long> LookupsAsync(EmulatorServer server) =>
        ((JsonObject)(await GetAsync(server, "_emulator/stats"))["byRoute"]!).Where(r => r.Key.Contains("externalId=")).Sum(r => r.Value!.GetValue<long>());
}
