using System.Net.Http.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// The bulk path against the emulator: batches sized by count and bytes, duplicates turned into updates, whole-batch
/// rejections split, records no bulk request takes sent through the single-record endpoints, company links kept.
/// </summary>
public class BulkRunTests
{
    private static IEnumerable<(string[], object?[])> Customers(int count, Func<int, string>? tags = null) =>
        Enumerable.Range(1, count).Select(i => (new[] { "externalId", "name", "email", "tags" },
            new object?[] { $"b-{i}", $"Bulk {i}", $"b{i}@example.com", tags?.Invoke(i) ?? "synced" }));

    private static UpsertOptions CustomerOptions() => new(SyncTarget.Customer, SyncKey.Parse("ExternalId", SyncTarget.Customer));

    [Fact]
    public async Task Creates_in_batches_of_a_hundred_then_updates_existing_records_in_bulk()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 10 });
        using var client = Client(server, EmulatorServer.BulkKey);

        var (created, results) = await RunAsync(client, CustomerOptions(), Customers(250));
        Assert.True(created.UsedBulk);
        Assert.Equal(250, created.Created);
        Assert.Equal(250, results.Count);
        Assert.True(created.Requests < 40, $"{created.Requests} requests for 250 rows: the bulk path should need a few per 100 rows");
        Assert.Equal(250, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());

        // Without state the client does not know the ids: the creates come back "duplicate detected" and become updates.
        var (again, _) = await RunAsync(client, CustomerOptions(), Customers(250));
        Assert.Equal(250, again.Updated);
        Assert.Equal(250, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_batch_rejected_whole_is_split_until_the_bad_row_stands_alone()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0 });
        using var client = Client(server, EmulatorServer.BulkKey);

        // Kustomer's tag pattern forbids '!': the client passes it through, the API rejects the whole request.
        var (summary, results) = await RunAsync(client, CustomerOptions(), Customers(100, i => i == 37 ? "bad!tag" : "ok"));

        Assert.Equal(99, summary.Created);
        var failed = Assert.Single(results, r => r.Status == UpsertStatus.Failed);
        Assert.Equal("b-37", failed.Key);
        Assert.Equal("KustomerSync.Rejected", failed.ErrorId);
        Assert.Equal(99, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Server_errors_on_bulk_submissions_neither_lose_nor_duplicate_rows()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0, Fault5xxRate = 0.2, Seed = 7 });
        using var client = Client(server, EmulatorServer.BulkKey);

        var (summary, results) = await RunAsync(client, CustomerOptions(), Customers(300));

        // A row may still fail when every retry meets a fault; it must then be reported, never lost or doubled.
        Assert.Equal(300, summary.Total);
        Assert.Equal(300, summary.Created + summary.Failed);
        Assert.True(summary.Created >= 290, $"only {summary.Created} of 300 created");
        Assert.Equal(300, results.Select(r => r.Row).Distinct().Count());
        var items = (JsonArray)(await GetAsync(server, "_emulator/state"))["customers"]!["items"]!;
        Assert.Equal(summary.Created, items.Count);
        Assert.Equal(items.Count, items.Select(c => c!["attributes"]!["externalId"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task Keys_without_a_bulk_role_take_the_single_record_path()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);

        var (summary, _) = await RunAsync(client, CustomerOptions(), Customers(30));

        Assert.False(summary.UsedBulk);
        Assert.Equal(30, summary.Created);
        var stats = JsonNode.Parse(await new HttpClient { BaseAddress = server.BaseUri }.GetStringAsync("_emulator/stats"))!.ToJsonString();
        Assert.DoesNotContain("/bulk", stats);
    }

    [Fact]
    public async Task Companies_by_a_custom_attribute_are_looked_up_before_bulk_creates()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0, SearchRateLimit = 0 });
        using var client = Client(server, EmulatorServer.BulkKey);
        var options = new UpsertOptions(SyncTarget.Company, SyncKey.Parse("accountIdStr", SyncTarget.Company));
        var rows = Enumerable.Range(1, 60).Select(i => (new[] { "accountIdStr", "name" }, new object?[] { $"A-{i}", $"Company number {i}" }));

        var (first, _) = await RunAsync(client, options, rows);
        var (second, _) = await RunAsync(client, options, rows);

        Assert.Equal(60, first.Created);
        Assert.Equal(60, second.Updated);
        Assert.Equal(60, (await GetAsync(server, "_emulator/state"))["companies"]!["count"]!.GetValue<int>());
    }

    private static async Task<long> CountAsync(EmulatorServer server, string group, string name) =>
        (await GetAsync(server, "_emulator/stats"))[group]?[name]?.GetValue<long>() ?? 0;

    private static async Task PostAsync(EmulatorServer server, string path, JsonNode body)
    {
        using var http = server.CreateClient(EmulatorServer.AdminKey);
        (await http.PostAsJsonAsync(path, body)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Batches_are_sized_by_bytes_so_no_bulk_request_meets_the_body_limit()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0 });
        using var client = Client(server, EmulatorServer.BulkKey);
        var notes = new string('n', 1000);
        var rows = Enumerable.Range(1, 100).Select(i => (new[] { "externalId", "name", "notesTxt" }, new object?[] { $"big-{i}", $"Big {i}", notes }));

        // 100 items of about 1.1 KB make a body over Kustomer's 100 KB: two requests of at most 90 KB, no 413 to split on.
        var (summary, _) = await RunAsync(client, CustomerOptions(), rows);

        Assert.Equal(100, summary.Created);
        Assert.Equal(0, await CountAsync(server, "byStatus", "413"));
        Assert.Equal(2, await CountAsync(server, "byRoute", "POST /v1/customers/bulk"));
    }

    [Fact]
    public async Task A_record_too_big_for_any_bulk_request_goes_through_the_single_endpoint()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0 });
        using var client = Client(server, EmulatorServer.BulkKey);
        var target = SyncTarget.Parse("kobject.order");
        var options = new UpsertOptions(target, SyncKey.Parse("ExternalId", target));
        string Data(int kilobytes) => new JsonObject { ["blob"] = new string('d', kilobytes * 1024) }.ToJsonString();
        var rows = Enumerable.Range(1, 30).Select(i => (new[] { "externalId", "title", "data" },
            new object?[] { $"order-{i}", $"Order {i}", i == 1 ? Data(95) : i == 2 ? Data(120) : Data(1) }));

        var (summary, results) = await RunAsync(client, options, rows);

        // 95 KB is over the bulk batch limit but within the single endpoint's; 120 KB is over both and fails on its own.
        Assert.Equal(29, summary.Created);
        var tooBig = Assert.Single(results, r => r.Status == UpsertStatus.Failed);
        Assert.Equal("order-2", tooBig.Key);
        Assert.Equal("KustomerSync.PayloadTooLarge", tooBig.ErrorId);
        Assert.Contains("order-2", tooBig.Message);
        Assert.Equal(2, await CountAsync(server, "byRoute", "POST /v1/klasses/{name}"));
        Assert.Equal(29, (await GetAsync(server, "_emulator/state"))["kobjects"]!["order"]!["count"]!.GetValue<int>());
        Assert.Equal(29, results.Where(r => r.Status == UpsertStatus.Created).Select(r => r.KustomerId).Distinct().Count());
    }

    [Fact]
    public async Task A_record_a_bulk_endpoint_still_rejects_alone_is_sent_to_the_single_endpoint()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0 });
        using var client = Client(server, EmulatorServer.BulkKey);
        using var run = await UpsertRun.StartAsync(client, CustomerOptions(), Array.Empty<MappingRule>(), skipNull: false, CancellationToken.None);
        // The 100-row request and its halves down to row 1 alone (100, 50, 25, 12, 6, 3, 1) are refused as a bulk request.
        await PostAsync(server, "_emulator/faults", new JsonObject { ["failNext"] = 7, ["status"] = 400 });

        foreach (var (names, values) in Customers(100)) run.Submit(names, values, null);
        run.Complete();
        var results = new List<UpsertResult>();
        while (!run.IsDrained)
        {
            run.WaitForResult(TimeSpan.FromMilliseconds(100));
            while (run.TryTake(out var r)) results.Add(r);
        }
        var summary = run.Finish(cancelled: false);

        Assert.Equal(100, summary.Created);
        Assert.Equal(UpsertStatus.Created, results.Single(r => r.Key == "b-1").Status);
        Assert.Equal(1, await CountAsync(server, "byRoute", "POST /v1/customers"));
        Assert.Equal(100, (await CustomersAsync(server)).Count);
    }

    [Fact]
    public async Task Bulk_customer_updates_keep_the_company_links_the_mapping_does_not_name()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0, SearchRateLimit = 0, UnlinkCompanyOnOmit = true });
        using var client = Client(server, EmulatorServer.BulkKey);
        using (var admin = server.CreateClient(EmulatorServer.AdminKey))
        {
            var company = JsonNode.Parse(await (await admin.PostAsJsonAsync("v1/companies", new JsonObject { ["name"] = "Analytical Engines" })).Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
            for (var i = 1; i <= 40; i++)
                (await admin.PostAsJsonAsync("v1/customers", new JsonObject { ["externalId"] = $"b-{i}", ["name"] = $"Old {i}", ["company"] = i % 2 == 0 ? company : null })).EnsureSuccessStatusCode();
        }

        var (summary, _) = await RunAsync(client, CustomerOptions(), Customers(40));

        Assert.Equal(40, summary.Updated);
        var customers = await CustomersAsync(server);
        Assert.Equal(20, customers.Count(c => c!["relationships"]?["company"] is not null));
        Assert.All(customers, c => Assert.Equal(int.Parse(c!["attributes"]!["externalId"]!.GetValue<string>().Substring(2)) % 2 == 0, c["relationships"]?["company"] is not null));
    }
}
