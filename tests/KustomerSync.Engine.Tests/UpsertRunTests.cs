using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>Upsert runs against the real emulator, including the faults that must never lose or duplicate a row.</summary>
public class UpsertRunTests
{
    private static IEnumerable<(string[], object?[])> Customers(int count, string prefix = "c-") =>
        Enumerable.Range(1, count).Select(i => (new[] { "externalId", "name", "email", "tierStr" },
            new object?[] { $"{prefix}{i}", $"Customer {i}", $"{prefix}{i}@example.com", i % 2 == 0 ? "gold" : "silver" }));

    [Fact]
    public async Task Creates_then_updates_only_what_changed_and_counts_add_up()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer));

        var (first, results) = await RunAsync(client, options, Customers(50));
        Assert.Equal(50, first.Created);
        Assert.Equal(50, results.Count);
        Assert.All(results, r => Assert.Matches("^[0-9a-f]{24}$", r.KustomerId));

        var (second, _) = await RunAsync(client, options, Customers(50));
        Assert.Equal(50, second.Unchanged);
        var renamed = Customers(50).Select(r => (r.Item1, r.Item2.Select((v, i) => i == 1 ? "Renamed " + v : v).ToArray()));
        var (third, _) = await RunAsync(client, options, renamed);
        Assert.Equal(50, third.Updated);
        Assert.Equal(50, (await CustomersAsync(server)).Count);
    }

    [Fact]
    public async Task Lost_create_answers_and_server_errors_never_duplicate_or_lose_a_row()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions
        {
            RateLimit = 0, Fault5xxRate = 0.15, FaultLostCreateRate = 0.3, Seed = 42,
        });
        using var client = Client(server);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { ThrottleLimit = 8, MaxCreateAttempts = 8 };

        var (summary, results) = await RunAsync(client, options, Customers(200));

        // A row may still fail when every retry meets a fault; it must then be reported, never lost or doubled. A row
        // whose last create was committed but answered 5xx is reported Failed (OutcomeUnknown) yet exists once.
        Assert.Equal(200, results.Count);
        Assert.Equal(200, summary.Total);
        Assert.Equal(200, summary.Created + summary.Failed);
        Assert.True(summary.Created >= 190, $"only {summary.Created} of 200 created");
        Assert.True(summary.Retries > 0, "the faults should have caused retries");
        Assert.Equal(200, results.Select(r => r.Row).Distinct().Count());
        var stored = await CustomersAsync(server);
        var storedKeys = stored.Select(c => c!["attributes"]!["externalId"]!.GetValue<string>()).ToList();
        Assert.Equal(storedKeys.Count, storedKeys.Distinct().Count());
        Assert.All(results.Where(r => r.Status == UpsertStatus.Created), r => Assert.Contains(r.Key, storedKeys));
        Assert.True(storedKeys.Count <= 200);
    }

    [Fact]
    public async Task A_tight_rate_limit_is_paced_without_losing_rows()
    {
        // One fake clock for the emulator's windows and the client's waits: pacing is judged without the wall clock.
        var clock = new BulkClock();
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 40, RateWindowSeconds = 1, TimeProvider = clock.Silent });
        using var client = new KustomerClient(server.BaseUri, SecretText.Protect(EmulatorServer.DefaultKey),
            new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50), Time = clock });
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer));

        var (summary, results) = await clock.RunAsync(Task.Run(() => RunAsync(client, options, Customers(60, "rl-"))));

        Assert.Equal(60, summary.Created);
        Assert.Equal(60, results.Count);
        Assert.True(summary.Requests >= 120);
        Assert.True(summary.RateLimited <= 2, $"{summary.RateLimited} requests were rate limited; the gate should pace them");
    }

    [Fact]
    public async Task WhatIf_reads_but_never_writes()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var key = RecordKey.Parse("Email", KustomerObject.Customer);
        await RunAsync(client, new UpsertOptions(KustomerObject.Customer, key), Customers(3));

        var (plan, results) = await RunAsync(client, new UpsertOptions(KustomerObject.Customer, key) { WhatIf = true }, Customers(5));

        // The three that exist already hold these values: the plan would not touch them.
        Assert.Equal(3, plan.Unchanged);
        Assert.Equal(2, plan.WouldCreate);
        Assert.Equal(3, (await CustomersAsync(server)).Count);
        Assert.DoesNotContain(results, r => r.Status is UpsertStatus.Created or UpsertStatus.Updated);
    }

    [Fact]
    public async Task WhatIf_checks_that_a_record_the_state_store_remembers_still_exists()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer));
        string[] names = { "externalId", "name" };
        var path = Path.Combine(Path.GetTempPath(), $"whatif-{Guid.NewGuid():N}.db");
        try
        {
            var store = State.StateStores.Sqlite(path);
            var stateOptions = new State.SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId" };
            string gone;
            using (var state = store.Open(stateOptions))
            {
                var (_, created) = await RunAsync(client, options, new[] { (names, new object?[] { "w-1", "Ada" }), (names, new object?[] { "w-2", "Bea" }) },
                    state: new UpsertStateBinding(state, false));
                gone = created.Single(r => r.Key == "w-2").KustomerId!;
            }
            // Deleted in Kustomer after the sync: the state store still remembers its id.
            using (var http = server.CreateClient(EmulatorServer.AdminKey))
                (await http.DeleteAsync($"v1/customers/{gone}")).EnsureSuccessStatusCode();

            List<UpsertResult> planned;
            using (var state = store.Open(stateOptions))
                (_, planned) = await RunAsync(client, new UpsertOptions(options.Target, options.Key) { WhatIf = true },
                    new[] { (names, new object?[] { "w-1", "Ada Lovelace" }), (names, new object?[] { "w-2", "Bea Lovelace" }) },
                    state: new UpsertStateBinding(state, false));

            Assert.Equal(UpsertStatus.WouldUpdate, planned.Single(r => r.Key == "w-1").Status);
            Assert.Equal(UpsertStatus.WouldCreate, planned.Single(r => r.Key == "w-2").Status);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Email_keys_match_case_insensitively_and_duplicates_in_a_run_are_invalid()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("Email", KustomerObject.Customer));
        string[] names = { "email", "name" };

        var (summary, results) = await RunAsync(client, options, new[]
        {
            (names, new object?[] { "Ada@Example.com", "Ada" }),
            (names, new object?[] { "ada@example.com", "Ada again" }),
        });

        Assert.Equal(1, summary.Created);
        Assert.Equal(1, summary.Invalid);
        var duplicate = results.Single(r => r.Status == UpsertStatus.Invalid);
        Assert.Equal("KustomerSync.DuplicateKey", duplicate.ErrorId);
        Assert.Contains("row 1", duplicate.Message);

        var (again, _) = await RunAsync(client, options, new[] { (names, new object?[] { "ADA@EXAMPLE.COM", "Ada Lovelace" }) });
        Assert.Equal(1, again.Updated);
    }

    [Fact]
    public async Task A_value_held_by_another_record_fails_with_that_records_id()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer));
        string[] names = { "externalId", "email" };
        var (_, first) = await RunAsync(client, options, new[] { (names, new object?[] { "owner", "shared@example.com" }) });

        var (summary, results) = await RunAsync(client, options, new[] { (names, new object?[] { "other", "shared@example.com" }) });

        Assert.Equal(1, summary.Failed);
        var failed = results.Single();
        Assert.Equal("KustomerSync.Conflict", failed.ErrorId);
        Assert.Contains(first.Single().KustomerId!, failed.Message);
    }

    [Fact]
    public async Task A_key_without_write_roles_fails_every_row_once_with_a_clear_reason()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server, "not-a-key");
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer));

        var error = await Assert.ThrowsAsync<KustomerApiException>(() => RunAsync(client, options, Customers(3)));
        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
        Assert.Equal("KustomerSync.AuthenticationFailed", error.ErrorId);
    }
}
