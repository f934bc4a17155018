using System.Net.Http.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>The bulk path against the emulator: batches, duplicates turned into updates, whole-batch rejections split.</summary>
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
}
