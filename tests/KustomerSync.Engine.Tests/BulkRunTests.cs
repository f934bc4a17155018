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

    private static UpsertOptions CustomerOptions() => new(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer));

    /// <summary>
    /// An emulator and a client on one fake clock: job latency and the waits between polls take no real time. Its runs hold
    /// the idle flush's clock (<see cref="EmulatorRuns.HeldIdleClock"/>), so every batch is full but the last.
    /// </summary>
    private sealed class Org : IAsyncDisposable
    {
        private Org(EmulatorServer server, KustomerClient client, BulkClock clock)
        {
            Server = server;
            Client = client;
            Clock = clock;
        }

        public EmulatorServer Server { get; }
        public KustomerClient Client { get; }
        public BulkClock Clock { get; }

        public static async Task<Org> StartAsync(EmulatorOptions options, string key = EmulatorServer.BulkKey)
        {
            var clock = new BulkClock();
            options.TimeProvider = clock.Silent;
            var server = await EmulatorServer.StartAsync(options);
            var client = new KustomerClient(server.BaseUri, SecretText.Protect(key),
                new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50), Time = clock }, new RequestLog(clock));
            return new Org(server, client, clock);
        }

        public Task<(UpsertSummary Summary, List<UpsertResult> Results)> RunAsync(UpsertOptions options, IEnumerable<(string[] Names, object?[] Values)> rows,
            UpsertStateBinding? state = null) =>
            // The run blocks a thread while it drains: off the test framework's few threads, which the clock needs too.
            Clock.RunAsync(Task.Run(() => EmulatorRuns.RunAsync(Client, options, rows, state: state)));

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Creates_in_batches_of_a_hundred_then_updates_existing_records_in_bulk()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000 });
        var server = org.Server;

        var (created, results) = await org.RunAsync(CustomerOptions(), Customers(250));
        Assert.True(created.UsedBulk);
        Assert.Equal(250, created.Created);
        Assert.Equal(250, results.Count);
        Assert.True(created.Requests < 40, $"{created.Requests} requests for 250 rows: the bulk path should need a few per 100 rows");
        Assert.Equal(250, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());

        // Without state the client does not know the ids: the creates come back "duplicate detected" and become updates.
        var (again, _) = await org.RunAsync(CustomerOptions(), Customers(250));
        Assert.Equal(250, again.Updated);
        Assert.Equal(250, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_batch_rejected_whole_is_split_until_the_bad_row_stands_alone()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000 });
        var server = org.Server;

        // Kustomer's tag pattern forbids '!': the client passes it through, the API rejects the whole request.
        var (summary, results) = await org.RunAsync(CustomerOptions(), Customers(100, i => i == 37 ? "bad!tag" : "ok"));

        Assert.Equal(99, summary.Created);
        var failed = Assert.Single(results, r => r.Status == UpsertStatus.Failed);
        Assert.Equal("b-37", failed.Key);
        Assert.Equal("KustomerSync.Rejected", failed.ErrorId);
        Assert.Equal(99, (await GetAsync(server, "_emulator/state"))["customers"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Server_errors_on_bulk_submissions_neither_lose_nor_duplicate_rows()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000, Fault5xxRate = 0.2, Seed = 7 });
        var server = org.Server;

        var (summary, results) = await org.RunAsync(CustomerOptions(), Customers(300));

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
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0 }, EmulatorServer.DefaultKey);
        var server = org.Server;

        var (summary, _) = await org.RunAsync(CustomerOptions(), Customers(30));

        Assert.False(summary.UsedBulk);
        Assert.Equal(30, summary.Created);
        var stats = JsonNode.Parse(await new HttpClient { BaseAddress = server.BaseUri }.GetStringAsync("_emulator/stats"))!.ToJsonString();
        Assert.DoesNotContain("/bulk", stats);
    }

    [Fact]
    public async Task Companies_by_a_custom_attribute_are_looked_up_before_bulk_creates()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000, SearchRateLimit = 0 });
        var server = org.Server;
        var options = new UpsertOptions(KustomerObject.Company, RecordKey.Parse("accountIdStr", KustomerObject.Company));
        var rows = Enumerable.Range(1, 60).Select(i => (new[] { "accountIdStr", "name" }, new object?[] { $"A-{i}", $"Company number {i}" }));

        var (first, _) = await org.RunAsync(options, rows);
        var (second, _) = await org.RunAsync(options, rows);

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
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000 });
        var server = org.Server;
        var notes = new string('n', 1000);
        var rows = Enumerable.Range(1, 100).Select(i => (new[] { "externalId", "name", "notesTxt" }, new object?[] { $"big-{i}", $"Big {i}", notes }));

        // 100 items of about 1.1 KB make a body over Kustomer's 100 KB: two requests of at most 90 KB, no 413 to split on.
        var (summary, _) = await org.RunAsync(CustomerOptions(), rows);

        Assert.Equal(100, summary.Created);
        Assert.Equal(0, await CountAsync(server, "byStatus", "413"));
        Assert.Equal(2, await CountAsync(server, "byRoute", "POST /v1/customers/bulk"));
    }

    [Fact]
    public async Task A_record_too_big_for_any_bulk_request_goes_through_the_single_endpoint()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000 });
        var server = org.Server;
        var target = KustomerObject.Parse("kobject.order");
        var options = new UpsertOptions(target, RecordKey.Parse("ExternalId", target));
        string Data(int kilobytes) => new JsonObject { ["blob"] = new string('d', kilobytes * 1024) }.ToJsonString();
        var rows = Enumerable.Range(1, 30).Select(i => (new[] { "externalId", "title", "data" },
            new object?[] { $"order-{i}", $"Order {i}", i == 1 ? Data(95) : i == 2 ? Data(120) : Data(1) }));

        var (summary, results) = await org.RunAsync(options, rows);

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
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000 });
        var server = org.Server;
        using var run = await UpsertRun.StartAsync(org.Client, CustomerOptions(), Array.Empty<MappingRule>(), skipNull: false, CancellationToken.None,
            idleClock: HeldIdleClock());
        // The 100-row request and its halves down to row 1 alone (100, 50, 25, 12, 6, 3, 1) are refused as a bulk request.
        await PostAsync(server, "_emulator/faults", new JsonObject { ["failNext"] = 7, ["status"] = 400 });

        var results = await org.Clock.RunAsync(Task.Run(() => SubmitAndDrainAsync(run, Customers(100))));
        var summary = run.Finish(RunEnding.Completed);

        Assert.Equal(100, summary.Created);
        Assert.Equal(UpsertStatus.Created, results.Single(r => r.Key == "b-1").Status);
        Assert.Equal(1, await CountAsync(server, "byRoute", "POST /v1/customers"));
        Assert.Equal(100, (await CustomersAsync(server)).Count);
    }

    [Fact]
    public async Task A_partial_batch_waits_for_more_rows_on_the_runs_idle_clock_so_a_source_that_stalls_does_not_split_it()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000 });
        var idle = new WatchedIdleClock();
        using var run = await UpsertRun.StartAsync(org.Client, CustomerOptions(), Array.Empty<MappingRule>(), skipNull: false, CancellationToken.None, idleClock: idle);
        var waited = false;
        // The source stalls after row 50, as a thread the machine starves would, until the run waits on its idle clock for row 51.
        var rows = Customers(100).Select((row, i) =>
        {
            if (i == 50) waited = idle.AwaitAWait(TimeSpan.FromSeconds(30));
            return row;
        });

        var results = await org.Clock.RunAsync(Task.Run(() => SubmitAndDrainAsync(run, rows)));
        var summary = run.Finish(RunEnding.Completed);

        Assert.Equal(100, summary.Created);
        Assert.Equal(100, results.Count);
        Assert.Equal(1, await CountAsync(org.Server, "byRoute", "POST /v1/customers/bulk"));
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "POST /v1/customers"));
        Assert.True(waited, "the partial batch did not wait on the idle clock the run was given");
    }

    [Fact]
    public async Task Bulk_customer_updates_keep_the_company_links_the_mapping_does_not_name()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000, SearchRateLimit = 0, UnlinkCompanyOnOmit = true });
        var server = org.Server;
        using (var admin = server.CreateClient(EmulatorServer.AdminKey))
        {
            var company = JsonNode.Parse(await (await admin.PostAsJsonAsync("v1/companies", new JsonObject { ["name"] = "Analytical Engines" })).Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
            for (var i = 1; i <= 40; i++)
                (await admin.PostAsJsonAsync("v1/customers", new JsonObject { ["externalId"] = $"b-{i}", ["name"] = $"Old {i}", ["company"] = i % 2 == 0 ? company : null })).EnsureSuccessStatusCode();
        }

        var (summary, _) = await org.RunAsync(CustomerOptions(), Customers(40));

        Assert.Equal(40, summary.Updated);
        var customers = await CustomersAsync(server);
        Assert.Equal(20, customers.Count(c => c!["relationships"]?["company"] is not null));
        Assert.All(customers, c => Assert.Equal(int.Parse(c!["attributes"]!["externalId"]!.GetValue<string>().Substring(2)) % 2 == 0, c["relationships"]?["company"] is not null));
    }

    private static UpsertOptions Options(string obj)
    {
        var target = KustomerObject.Parse(obj);
        return new UpsertOptions(target, RecordKey.Parse("ExternalId", target));
    }

    [Theory]
    [InlineData("reject")]
    [InlineData("ignore")]
    [InlineData("accept")]
    public async Task Company_bulk_updates_and_KObject_bulk_writes_carry_no_clientRef_and_are_matched_by_ids(string undocumentedClientRef)
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000, UndocumentedClientRef = undocumentedClientRef });
        var companies = Enumerable.Range(1, 40).Select(i => (new[] { "externalId", "name" }, new object?[] { $"co-{i}", $"Company {i}" })).ToList();
        var orders = Enumerable.Range(1, 40).Select(i => (new[] { "externalId", "title" }, new object?[] { $"order-{i}", $"Order {i}" })).ToList();

        var (companiesCreated, _) = await org.RunAsync(Options("Company"), companies);
        var (companiesUpdated, updatedCompanies) = await org.RunAsync(Options("Company"), companies);
        var (ordersCreated, createdOrders) = await org.RunAsync(Options("kobject.order"), orders);
        var (ordersUpdated, _) = await org.RunAsync(Options("kobject.order"), orders);

        Assert.Equal(40, companiesCreated.Created);
        Assert.Equal(40, companiesUpdated.Updated);
        Assert.Equal(40, ordersCreated.Created);
        Assert.Equal(40, ordersUpdated.Updated);
        // Every row went through a bulk job, none through the single-record endpoints.
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "PUT /v1/companies/{id}"));
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "POST /v1/klasses/{name}"));
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "PUT /v1/klasses/{name}/{id}"));
        Assert.Equal(0, await CountAsync(org.Server, "byStatus", "400"));
        var state = await GetAsync(org.Server, "_emulator/state");
        Assert.Equal(40, state["companies"]!["count"]!.GetValue<int>());
        Assert.Equal(40, state["kobjects"]!["order"]!["count"]!.GetValue<int>());
        // Each created order is reported with its own record's id.
        foreach (var order in createdOrders)
            Assert.Equal(order.KustomerId, (await GetAsync(org.Server, $"v1/klasses/order/externalId={order.Key}"))["data"]!["id"]!.GetValue<string>());
        Assert.Equal(40, updatedCompanies.Select(r => r.KustomerId).Distinct().Count());
    }

    [Theory]
    [InlineData("array")]
    [InlineData("data")]
    public async Task Every_batch_of_a_job_is_read_on_every_page_whatever_the_envelope(string envelope)
    {
        // 100 items make four batches of 25; the data envelope pages them two at a time.
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000, BatchesEnvelope = envelope, BulkBatchItems = 25, BatchesPageSize = 2 });

        var (summary, results) = await org.RunAsync(CustomerOptions(), Customers(100));

        Assert.Equal(100, summary.Created);
        Assert.Equal(100, results.Select(r => r.KustomerId).Distinct().Count());
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "POST /v1/customers"));
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "GET /v1/bulk/{id}"));
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "GET /v1/customers/externalId={externalId}"));
    }

    [Fact]
    public async Task Company_bulk_updates_leave_out_the_fields_only_a_create_takes()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000 });
        var rows = Enumerable.Range(1, 30).Select(i => (new[] { "externalId", "name", "createdAt" }, new object?[] { $"co-{i}", $"Company {i}", "2020-01-02T03:04:05Z" })).ToList();

        var (created, _) = await org.RunAsync(Options("Company"), rows);
        var (updated, _) = await org.RunAsync(Options("Company"), rows);

        Assert.Equal(30, created.Created);
        Assert.Equal(30, updated.Updated);
        Assert.Equal(0, await CountAsync(org.Server, "byStatus", "400"));
        Assert.Equal(0, await CountAsync(org.Server, "byRoute", "PUT /v1/companies/{id}"));
    }

    [Fact]
    public async Task Bulk_updates_by_ids_from_the_state_store_keep_company_links_with_a_search_per_twenty_customers()
    {
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000, SearchRateLimit = 0 });
        var server = org.Server;
        var path = Path.Combine(Path.GetTempPath(), $"bulk-{Guid.NewGuid():N}.db");
        try
        {
            var store = KustomerSync.Engine.State.StateStores.Sqlite(path);
            var stateOptions = new KustomerSync.Engine.State.SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId" };
            List<UpsertResult> first;
            using (var state = store.Open(stateOptions))
                first = (await org.RunAsync(CustomerOptions(), Customers(40), new UpsertStateBinding(state, false))).Results;
            // Linked in Kustomer after the first run: the sync knows nothing of it, and must not undo it.
            string company;
            using (var admin = server.CreateClient(EmulatorServer.AdminKey))
            {
                company = JsonNode.Parse(await (await admin.PostAsJsonAsync("v1/companies", new JsonObject { ["name"] = "Analytical Engines" })).Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
                foreach (var row in first.Where(r => r.Row % 2 == 0))
                    (await admin.PatchAsJsonAsync($"v1/customers/{row.KustomerId}", new JsonObject { ["company"] = company })).EnsureSuccessStatusCode();
            }
            var searchesBefore = await CountAsync(server, "byRoute", "POST /v1/customers/search");

            UpsertSummary summary;
            using (var state = store.Open(stateOptions))
                summary = (await org.RunAsync(CustomerOptions(), Customers(40, _ => "renamed"), new UpsertStateBinding(state, false))).Summary;

            Assert.Equal(40, summary.Updated);
            var customers = await CustomersAsync(server);
            Assert.All(customers, c => Assert.Equal(int.Parse(c!["attributes"]!["externalId"]!.GetValue<string>().Substring(2)) % 2 == 0,
                c["relationships"]?["company"]?["data"]?["id"]?.GetValue<string>() == company));
            // Two searches for 40 ids; the 20 customers without a company are read by id, since a search hit may leave the link out.
            Assert.Equal(2, await CountAsync(server, "byRoute", "POST /v1/customers/search") - searchesBefore);
            Assert.Equal(20, await CountAsync(server, "byRoute", "GET /v1/customers/{id}"));
            Assert.Equal(20, await CountAsync(server, "byRoute", "PATCH /v1/customers/{id}")); // the test's links: no update went single
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_thousand_rows_cost_a_submit_and_three_polls_per_hundred_at_five_seconds_of_job_latency()
    {
        // One job at a time, so each job's polls follow its own clock exactly. Jobs take 5 s (none is documented): polls
        // at 1.5 s and 4.5 s find it pending, the one at 10.5 s finds it done.
        await using var org = await Org.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 5000, SearchRateLimit = 0 });
        var server = org.Server;
        var options = CustomerOptions();
        options.ThrottleLimit = 1;
        var path = Path.Combine(Path.GetTempPath(), $"bulk-{Guid.NewGuid():N}.db");
        try
        {
            var store = KustomerSync.Engine.State.StateStores.Sqlite(path);
            var stateOptions = new KustomerSync.Engine.State.SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId" };
            string company;
            using (var admin = server.CreateClient(EmulatorServer.AdminKey))
                company = JsonNode.Parse(await (await admin.PostAsJsonAsync("v1/companies", new JsonObject { ["name"] = "Analytical Engines" })).Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
            var rows = Enumerable.Range(1, 1000).Select(i => (new[] { "externalId", "name", "company" }, new object?[] { $"b-{i}", $"Bulk {i}", company })).ToList();

            UpsertSummary created;
            using (var state = store.Open(stateOptions))
                created = (await org.RunAsync(options, rows, new UpsertStateBinding(state, false))).Summary;
            Assert.Equal(1000, created.Created);
            Assert.Equal(10, await CountAsync(server, "byRoute", "POST /v1/customers/bulk"));
            Assert.Equal(30, await CountAsync(server, "byRoute", "GET /v1/bulk/{id}/batches"));
            Assert.Equal(40, created.Requests);

            // Updates by the ids the state store remembers; the mapping names no company, so each batch reads the links:
            // five searches of 20 ids per 100 rows (every customer here has a company the hits show).
            var renamed = rows.Select(r => (new[] { "externalId", "name" }, new object?[] { r.Item2[0], "Renamed" })).ToList();
            UpsertSummary updated;
            using (var state = store.Open(stateOptions))
                updated = (await org.RunAsync(options, renamed, new UpsertStateBinding(state, false))).Summary;
            Assert.Equal(1000, updated.Updated);
            Assert.Equal(10, await CountAsync(server, "byRoute", "PUT /v1/customers/bulk"));
            Assert.Equal(60, await CountAsync(server, "byRoute", "GET /v1/bulk/{id}/batches"));
            Assert.Equal(50, await CountAsync(server, "byRoute", "POST /v1/customers/search"));
            Assert.Equal(0, await CountAsync(server, "byRoute", "GET /v1/customers/{id}"));
            Assert.Equal(90, updated.Requests);
            Assert.All(await CustomersAsync(server), c => Assert.Equal(company, c!["relationships"]?["company"]?["data"]?["id"]?.GetValue<string>()));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }
}
