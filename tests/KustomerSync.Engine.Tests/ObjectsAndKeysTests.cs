using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>Companies, KObjects, custom-attribute keys and references to other records, end to end on the emulator.</summary>
public class ObjectsAndKeysTests
{
    private static UpsertOptions Options(string obj, string key)
    {
        var target = KustomerObject.Parse(obj);
        return new UpsertOptions(target, RecordKey.Parse(key, target));
    }

    [Fact]
    public async Task Customers_name_their_company_by_its_external_id()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var (companies, companyResults) = await RunAsync(client, Options("Company", "ExternalId"), new[]
        {
            (new[] { "externalId", "name", "industryStr" }, new object?[] { "co-1", "Analytical Engines", "computing" }),
        });
        Assert.Equal(1, companies.Created);

        string[] names = { "externalId", "name", "companyExternalId" };
        var (customers, results) = await RunAsync(client, Options("Customer", "ExternalId"), new[]
        {
            (names, new object?[] { "cu-1", "Ada", "co-1" }),
            (names, new object?[] { "cu-2", "Charles", "co-1" }),
            (names, new object?[] { "cu-3", "Nobody", "co-404" }),
        });

        Assert.Equal(2, customers.Created);
        var missing = results.Single(r => r.Status == UpsertStatus.Failed);
        Assert.Equal("KustomerSync.ReferenceNotFound", missing.ErrorId);
        Assert.Equal("companyExternalId", missing.Field);
        Assert.Contains("co-404", missing.Message);
        var ada = await GetAsync(server, "v1/customers/externalId=cu-1");
        Assert.Equal(companyResults.Single().KustomerId, ada["data"]!["relationships"]!["company"]!["data"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task KObjects_are_upserted_by_external_id_and_attached_to_their_customer()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        await RunAsync(client, Options("Customer", "Email"), new[] { (new[] { "email", "name" }, new object?[] { "ada@example.com", "Ada" }) });

        string[] names = { "externalId", "title", "customerEmail", "totalNum", "placedAt", "paidBool" };
        var rows = new[]
        {
            (names, new object?[] { "order-1", "Order #1", "ADA@example.com", 64.67m, new DateTime(2026, 1, 2, 10, 0, 0, DateTimeKind.Utc), true }),
            (names, new object?[] { "order-2", "Order #2", "ada@example.com", 10m, "2026-01-03T09:00:00Z", "no" }),
        };
        var (created, results) = await RunAsync(client, Options("kobject.order", "ExternalId"), rows);
        var (again, _) = await RunAsync(client, Options("kobject.order", "ExternalId"), rows);
        rows[1].Item2[1] = "Order #2 (paid)";
        var (updated, _) = await RunAsync(client, Options("kobject.order", "ExternalId"), rows);

        Assert.Equal(2, created.Created);
        // Kustomer gives the date back with milliseconds and the number in its own form: still the same values.
        Assert.Equal(2, again.Unchanged);
        Assert.Equal(1, updated.Updated);
        Assert.Equal(1, updated.Unchanged);
        var order = await GetAsync(server, "v1/klasses/order/externalId=order-1");
        Assert.Equal("kobject.order", order["data"]!["type"]!.GetValue<string>());
        Assert.Equal(64.67m, order["data"]!["attributes"]!["custom"]!["totalNum"]!.GetValue<decimal>());
        Assert.Equal("2026-01-02T10:00:00.000Z", order["data"]!["attributes"]!["custom"]!["placedAt"]!.GetValue<string>());
        Assert.Equal(results[0].KustomerId, order["data"]!["id"]!.GetValue<string>());
        var customerId = (await GetAsync(server, "v1/customers/email=ada@example.com"))["data"]!["id"]!.GetValue<string>();
        Assert.Contains(customerId, order["data"]!.ToJsonString());
    }

    [Fact]
    public async Task Custom_attribute_keys_are_found_through_batched_searches()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, SearchRateLimit = 0 });
        using var client = Client(server);
        var options = Options("Customer", "crmAccountIdStr");
        var rows = Enumerable.Range(1, 40).Select(i => (new[] { "crmAccountIdStr", "name" }, new object?[] { $"A-{i:000}", $"Account {i}" })).ToList();

        var (first, _) = await RunAsync(client, options, rows);
        var (second, results) = await RunAsync(client, options, rows.Select(r => (r.Item1, new object?[] { r.Item2[0], "Renamed " + r.Item2[1] })).ToList());

        Assert.Equal(40, first.Created);
        Assert.Equal(40, second.Updated);
        var stats = await GetAsync(server, "_emulator/stats");
        var searches = ((JsonObject)stats["byRoute"]!).Where(r => r.Key.Contains("search")).Sum(r => r.Value!.GetValue<long>());
        Assert.True(searches < 80 / 2, $"{searches} searches for 80 lookups: lookups should share search requests");
        Assert.Equal(40, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());
        Assert.All(results, r => Assert.Equal(UpsertStatus.Updated, r.Status));
    }

    [Fact]
    public async Task Search_hits_that_do_not_show_the_custom_key_are_never_read_as_misses_so_no_record_is_made_twice()
    {
        // Hits as the OAS search example shows them: no custom attributes, so a hit cannot say which key it matched.
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, SearchRateLimit = 0, SearchHits = "summary" });
        using var client = Client(server);
        string[] names = { "externalId", "name", "crmAccountIdStr" };
        await RunAsync(client, Options("Customer", "ExternalId"), Enumerable.Range(1, 40).Select(i => (names, new object?[] { $"x-{i}", $"Account {i}", $"A-{i:000}" })));
        var rows = Enumerable.Range(1, 45).Select(i => (new[] { "crmAccountIdStr", "name" }, new object?[] { $"A-{i:000}", $"Renamed {i}" })).ToList();

        var (summary, results) = await RunAsync(client, Options("Customer", "crmAccountIdStr"), rows);

        // A key searched alone owns its hits; keys searched together whose hits cannot be told apart fail, loudly, and
        // only a key whose search found nothing at all is created.
        Assert.Equal(45, summary.Total);
        Assert.All(results, r => Assert.True(r.Status is UpsertStatus.Updated or UpsertStatus.Created || r.ErrorId == "KustomerSync.UnexpectedResponse", $"{r.Key}: {r.Status} {r.ErrorId} {r.Message}"));
        Assert.All(results.Where(r => r.Status == UpsertStatus.Created), r => Assert.True(int.Parse(r.Key!.Substring(2)) > 40, $"{r.Key} was created again"));
        var customers = (JsonArray)(await GetAsync(server, "_emulator/state"))["customers"]!["items"]!;
        Assert.Equal(40 + summary.Created, customers.Count);
        var keys = customers.Select(c => c!["attributes"]!["custom"]?["crmAccountIdStr"]?.GetValue<string>()).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public async Task A_custom_key_held_by_two_records_fails_as_ambiguous()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, SearchRateLimit = 0 });
        using var client = Client(server);
        string[] names = { "externalId", "name", "crmAccountIdStr" };
        await RunAsync(client, Options("Customer", "ExternalId"), new[]
        {
            (names, new object?[] { "x-1", "One", "SAME" }),
            (names, new object?[] { "x-2", "Two", "SAME" }),
        });

        var (summary, results) = await RunAsync(client, Options("Customer", "crmAccountIdStr"), new[] { (new[] { "crmAccountIdStr", "name" }, new object?[] { "SAME", "Which?" }) });

        Assert.Equal(1, summary.Failed);
        Assert.Equal("KustomerSync.AmbiguousKey", results.Single().ErrorId);
    }

    [Fact]
    public async Task Behaviours_decide_what_happens_to_missing_and_existing_records()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        string[] names = { "externalId", "name" };
        await RunAsync(client, Options("Company", "ExternalId"), new[] { (names, new object?[] { "old", "Existing Co" }) });
        var rows = new[] { (names, new object?[] { "old", "Existing Co Renamed" }), (names, new object?[] { "new", "New Co" }) };

        var updateOnly = Options("Company", "ExternalId");
        updateOnly.Behavior = SyncBehavior.UpdateOnly;
        var (u, ur) = await RunAsync(client, updateOnly, rows);
        Assert.Equal(1, u.Updated);
        Assert.Equal("KustomerSync.RecordNotFound", ur.Single(r => r.Status == UpsertStatus.Failed).ErrorId);

        var createOnly = Options("Company", "ExternalId");
        createOnly.Behavior = SyncBehavior.CreateOnly;
        var (c, _) = await RunAsync(client, createOnly, rows);
        Assert.Equal(1, c.Created);
        Assert.Equal(1, c.Unchanged);
        var names2 = ((JsonArray)(await GetAsync(server, "_emulator/state"))["companies"]!["items"]!).Select(i => i!["attributes"]!["name"]!.GetValue<string>()).OrderBy(n => n);
        Assert.Equal(new[] { "Existing Co Renamed", "New Co" }, names2);
    }
}
