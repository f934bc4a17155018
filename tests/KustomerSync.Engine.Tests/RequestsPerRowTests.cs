using System.Net.Http.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// Requests per row on the single-record path, counted by the emulator (/_emulator/stats) route by route, for each
/// behaviour: a row costs what it must and no more, and no saving rests on the state store being right.
/// </summary>
public sealed class RequestsPerRowTests : EmulatorAndStateFile
{
    private static readonly string[] Names = { "externalId", "name", "email" };

    private static IEnumerable<(string[], object?[])> Rows(int count, string name = "Customer") =>
        Enumerable.Range(1, count).Select(i => (Names, new object?[] { $"c-{i}", $"{name} {i}", $"c-{i}@example.com" }));

    private static UpsertOptions Options(SyncBehavior behavior = SyncBehavior.UpdateOrCreate, int throttle = 8) =>
        new(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { Behavior = behavior, ThrottleLimit = throttle };

    /// <summary>Runs the rows and returns the requests the emulator counted for them, by route (the run's start-up reads left out).</summary>
    private async Task<(UpsertSummary Summary, List<UpsertResult> Results, Dictionary<string, long> Requests)> Run(UpsertOptions options,
        IEnumerable<(string[], object?[])> rows, bool withState)
    {
        var before = await RoutesAsync();
        UpsertSummary summary;
        List<UpsertResult> results;
        if (withState)
        {
            using var state = StateStores.Sqlite(StatePath).Open(new SyncStateOptions("per-row") { Object = "Customer", SyncKey = "ExternalId" });
            (summary, results) = await RunAsync(Kustomer, options, rows, state: new UpsertStateBinding(state, false));
        }
        else (summary, results) = await RunAsync(Kustomer, options, rows);
        return (summary, results, Since(before, await RoutesAsync()));
    }

    private Task<Dictionary<string, long>> RoutesAsync() => RoutesOfAsync(Server);

    private static async Task<Dictionary<string, long>> RoutesOfAsync(EmulatorServer server) =>
        ((JsonObject)(await GetAsync(server, "_emulator/stats"))["byRoute"]!).ToDictionary(p => p.Key, p => p.Value!.GetValue<long>());

    /// <summary>The requests counted between two readings of the stats, by route (the run's start-up reads left out).</summary>
    private static Dictionary<string, long> Since(Dictionary<string, long> before, Dictionary<string, long> after) =>
        after.Where(r => !r.Key.Contains("/metadata") && !r.Key.Contains("/auth/"))
            .Select(r => (r.Key, Count: r.Value - before.GetValueOrDefault(r.Key))).Where(r => r.Count > 0).ToDictionary(r => r.Key, r => r.Count);

    private static long Count(Dictionary<string, long> requests, string method, string pathPart = "") =>
        requests.Where(r => r.Key.StartsWith(method + " ", StringComparison.Ordinal) && r.Key.Contains(pathPart)).Sum(r => r.Value);

    private static string Show(Dictionary<string, long> requests) => string.Join(", ", requests.Select(r => $"{r.Key}: {r.Value}"));

    [Fact]
    public async Task A_new_key_the_state_store_never_saw_costs_one_create()
    {
        var (summary, _, requests) = await Run(Options(), Rows(20), withState: true);

        Assert.Equal(20, summary.Created);
        Assert.Equal(20, requests.Values.Sum());
        Assert.Equal(20, Count(requests, "POST"));
    }

    [Fact]
    public async Task Without_a_state_store_a_row_costs_at_most_a_lookup_and_a_write()
    {
        var (created, _, fresh) = await Run(Options(), Rows(20), withState: false);
        var (updated, _, changed) = await Run(Options(), Rows(20, "Renamed"), withState: false);

        Assert.Equal(20, created.Created);
        Assert.Equal(40, fresh.Values.Sum());
        Assert.Equal(20, Count(fresh, "POST"));
        Assert.Equal(20, updated.Updated);
        Assert.Equal(40, changed.Values.Sum());
        Assert.Equal(20, Count(changed, "PATCH"));
    }

    [Fact]
    public async Task A_record_that_already_holds_the_payload_is_not_written()
    {
        await Run(Options(), Rows(10), withState: false);
        var stampsBefore = (await CustomersAsync(Server)).Select(c => c!["attributes"]!["updatedAt"]!.ToString()).ToList();

        var (summary, results, requests) = await Run(Options(), Rows(10), withState: false);

        Assert.Equal(10, summary.Unchanged);
        Assert.Equal(10, requests.Values.Sum());
        Assert.Equal(0, Count(requests, "PATCH") + Count(requests, "PUT") + Count(requests, "POST"));
        Assert.All(results, r => Assert.Contains("already holds", r.Message));
        // No write: Kustomer's updatedAt (and with it its workflows) did not move.
        Assert.Equal(stampsBefore, (await CustomersAsync(Server)).Select(c => c!["attributes"]!["updatedAt"]!.ToString()).ToList());
    }

    [Fact]
    public async Task A_changed_customer_whose_id_the_state_store_knows_costs_its_update_and_a_twentieth_of_a_search()
    {
        await Run(Options(), Rows(40), withState: true);

        var (summary, _, requests) = await Run(Options(), Rows(40, "Renamed"), withState: true);

        Assert.Equal(40, summary.Updated);
        // The update must carry the customer's company link (an update without it would unlink the company, §4.2). One search
        // per 20 ids shows each record at the revision the state store stamped after its create, so the link is the one the
        // stamp remembers (none), and no record is read by id.
        Assert.True(Count(requests, "PATCH") == 40 && Count(requests, "POST", "/search") == 2 && requests.Values.Sum() == 42, Show(requests));
    }

    [Fact]
    public async Task A_customer_changed_in_Kustomer_since_the_last_write_is_read_first_and_keeps_the_company_it_was_linked_to_meanwhile()
    {
        var (_, created, _) = await Run(Options(), Rows(10), withState: true);
        string company;
        using (var agent = Server.CreateClient(EmulatorServer.AdminKey))
        {
            company = JsonNode.Parse(await (await agent.PostAsJsonAsync("v1/companies", new JsonObject { ["name"] = "Analytical Engines" })).Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
            // An agent links c-1 to a company (search shows the link) and renames c-2 (a revision the stamp does not know).
            await PatchAsync(agent, created[0].KustomerId!, new JsonObject { ["company"] = company });
            await PatchAsync(agent, created[1].KustomerId!, new JsonObject { ["name"] = "Named by an agent" });
        }

        var (summary, _, requests) = await Run(Options(), Rows(10, "Renamed"), withState: true);

        Assert.Equal(10, summary.Updated);
        Assert.True(Count(requests, "POST", "/search") == 1 && Count(requests, "GET") == 1 && Count(requests, "PATCH") == 10 && requests.Values.Sum() == 12, Show(requests));
        var customers = await CustomersAsync(Server);
        Assert.All(customers, c => Assert.StartsWith("Renamed", c!["attributes"]!["name"]!.GetValue<string>()));
        Assert.Equal(company, customers.Single(c => c!["id"]!.GetValue<string>() == created[0].KustomerId)!["relationships"]?["company"]?["data"]?["id"]?.GetValue<string>());
        Assert.Single(customers, c => c!["relationships"]?["company"] is not null);
    }

    [Fact]
    public async Task Search_hits_that_never_show_the_company_link_still_serve_records_as_stamped_and_a_record_linked_since_is_read()
    {
        // Hits as the OAS search example shows them: the revision and updatedAt, never a link.
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, SearchHits = "summary" });
        using var client = EmulatorRuns.Client(server);
        using var agent = server.CreateClient(EmulatorServer.AdminKey);
        var company = JsonNode.Parse(await (await agent.PostAsJsonAsync("v1/companies", new JsonObject { ["name"] = "Analytical Engines" })).Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
        string? linked = null;

        var requests = await RerunAsync(server, client, 10, async created =>
        {
            linked = created[2].KustomerId;
            await PatchAsync(agent, linked!, new JsonObject { ["company"] = company });
        });

        Assert.True(Count(requests, "POST", "/search") == 1 && Count(requests, "GET") == 1 && Count(requests, "PATCH") == 10, Show(requests));
        var customers = await CustomersAsync(server);
        Assert.Equal(company, customers.Single(c => c!["id"]!.GetValue<string>() == linked)!["relationships"]?["company"]?["data"]?["id"]?.GetValue<string>());
        Assert.Single(customers, c => c!["relationships"]?["company"] is not null);
    }

    [Fact]
    public async Task An_update_whose_remembered_revision_went_stale_after_the_search_reads_the_record_and_keeps_the_company_linked_meanwhile()
    {
        var (_, created, _) = await Run(Options(), Rows(1), withState: true);
        using var agent = Server.CreateClient(EmulatorServer.AdminKey);
        var company = JsonNode.Parse(await (await agent.PostAsJsonAsync("v1/companies", new JsonObject { ["name"] = "Analytical Engines" })).Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>();
        // The agent links the company after the run's search and before its PATCH arrives.
        var race = new BeforeFirstPatch(() => PatchAsync(agent, created[0].KustomerId!, new JsonObject { ["company"] = company }));
        using var client = new KustomerClient(Server.BaseUri, Security.SecretText.Protect(EmulatorServer.DefaultKey), new KustomerClientOptions(), race);
        using var state = StateStores.Sqlite(StatePath).Open(new SyncStateOptions("per-row") { Object = "Customer", SyncKey = "ExternalId" });

        var (summary, _) = await RunAsync(client, Options(), Rows(1, "Renamed"), state: new UpsertStateBinding(state, false));

        Assert.Equal(1, summary.Updated);
        // The PATCH carried the revision the search showed; Kustomer refused it as stale, and the update went again after a read.
        Assert.Equal(new[] { "POST /v1/customers/search 200", "PATCH /v1/customers/{id} 409", "GET /v1/customers/{id} 200", "PATCH /v1/customers/{id} 200" },
            race.Sent.Where(r => r.Contains("/v1/customers")));
        var customer = Assert.Single(await CustomersAsync(Server));
        Assert.Equal("Renamed 1", customer!["attributes"]!["name"]!.GetValue<string>());
        Assert.Equal(company, customer["relationships"]?["company"]?["data"]?["id"]?.GetValue<string>());
    }

    [Fact]
    public async Task A_plan_of_updates_by_known_ids_reads_them_with_one_search_per_twenty()
    {
        await Run(Options(), Rows(20), withState: true);

        var plan = Options();
        plan.WhatIf = true;
        var (summary, _, requests) = await Run(plan, Rows(20, "Renamed"), withState: true);

        Assert.Equal(20, summary.WouldUpdate);
        Assert.True(Count(requests, "POST", "/search") == 1 && requests.Values.Sum() == 1, Show(requests));
    }

    [Fact]
    public async Task While_the_search_budget_is_spent_the_records_are_read_by_id_instead_of_waiting_for_it()
    {
        // One search a day (an emulator of its own: the search budget is kept per org): the first 20 rows take it, the next
        // 20 are read by id rather than wait for the window.
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = new KustomerClient(server.BaseUri, Security.SecretText.Protect(EmulatorServer.DefaultKey),
            new KustomerClientOptions { SearchLimit = 1, SearchWindow = TimeSpan.FromDays(1) });

        var requests = await RerunAsync(server, client, 40);

        Assert.True(Count(requests, "POST", "/search") == 1 && Count(requests, "GET") == 20 && Count(requests, "PATCH") == 40, Show(requests));
    }

    [Fact]
    public async Task A_key_that_may_not_search_costs_one_refused_search_and_then_each_record_is_read_by_id()
    {
        var keys = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");
        var roles = new JsonArray(new[] { "org.admin.klass.read", "org.user.kobject.read", "org.admin.metadata.read", "org.user.customer.write", "org.user.kobject.write",
            "org.permission.customer", "org.permission.company" }.Select(r => (JsonNode)r).ToArray());
        File.WriteAllText(keys, new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["key"] = "no-search-key", ["name"] = "no search", ["roles"] = roles }) }.ToJsonString());
        try
        {
            await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, KeysPath = keys });
            using var client = EmulatorRuns.Client(server, "no-search-key");

            var requests = await RerunAsync(server, client, 40);

            Assert.True(Count(requests, "POST", "/search") == 1 && Count(requests, "GET") == 40 && Count(requests, "PATCH") == 40, Show(requests));
        }
        finally
        {
            File.Delete(keys);
        }
    }

    /// <summary>
    /// Creates the rows, then (after <paramref name="between"/>, given the created rows' results) runs them renamed, every
    /// row an update by a known id; the rerun's requests by route.
    /// </summary>
    private async Task<Dictionary<string, long>> RerunAsync(EmulatorServer server, KustomerClient client, int rows, Func<List<UpsertResult>, Task>? between = null)
    {
        UpsertStateBinding State() => new(StateStores.Sqlite(StatePath).Open(new SyncStateOptions("per-row") { Object = "Customer", SyncKey = "ExternalId" }), false);
        var first = State();
        List<UpsertResult> created;
        using (first.State) created = (await RunAsync(client, Options(), Rows(rows), state: first)).Results;
        Assert.Equal(rows, created.Count(r => r.Status == UpsertStatus.Created));
        if (between is not null) await between(created);
        var before = await RoutesOfAsync(server);
        var second = State();
        using (second.State) Assert.Equal(rows, (await RunAsync(client, Options(), Rows(rows, "Renamed"), state: second)).Summary.Updated);
        return Since(before, await RoutesOfAsync(server));
    }

    private static async Task PatchAsync(HttpClient agent, string id, JsonObject body) =>
        (await agent.SendAsync(new HttpRequestMessage(new HttpMethod("PATCH"), $"v1/customers/{id}") { Content = JsonContent.Create(body) })).EnsureSuccessStatusCode();

    /// <summary>Runs an action just before the first PATCH goes out, and notes what was sent and answered.</summary>
    private sealed class BeforeFirstPatch(Func<Task> action) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _patched;

        public List<string> Sent { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method.Method == "PATCH" && Interlocked.Exchange(ref _patched, 1) == 0) await action();
            var response = await base.SendAsync(request, cancellationToken);
            var path = request.RequestUri!.AbsolutePath;
            if (path.StartsWith("/v1/customers/", StringComparison.Ordinal) && !path.EndsWith("/search", StringComparison.Ordinal)) path = "/v1/customers/{id}";
            lock (Sent) Sent.Add($"{request.Method.Method} {path} {(int)response.StatusCode}");
            return response;
        }
    }

    [Fact]
    public async Task A_create_sent_first_that_meets_an_existing_record_updates_it_and_makes_no_duplicate()
    {
        // Created by someone else: the state store has never seen the key.
        await Run(Options(), Rows(1, "Someone else's"), withState: false);

        var (summary, _, requests) = await Run(Options(), Rows(1), withState: true);

        Assert.Equal(1, summary.Updated);
        Assert.Single(await CustomersAsync(Server));
        Assert.Equal(1, Count(requests, "POST"));
        Assert.Equal(1, Count(requests, "GET"));
        Assert.Equal(1, Count(requests, "PATCH"));
    }

    [Fact]
    public async Task A_new_state_store_over_records_that_exist_goes_back_to_lookups_after_a_few_collisions()
    {
        await Run(Options(), Rows(30), withState: false);

        // One row at a time, so the collisions before the switch are exactly counted.
        var (summary, _, requests) = await Run(Options(throttle: 1), Rows(30, "Renamed"), withState: true);

        Assert.Equal(30, summary.Updated);
        Assert.Equal(30, (await CustomersAsync(Server)).Count);
        // Lookup first would cost 60 (a lookup and a PATCH a row); three collisions cost one create each on top.
        Assert.Equal(3, Count(requests, "POST"));
        Assert.Equal(63, requests.Values.Sum());
    }

    [Fact]
    public async Task UpdateOnly_never_creates_first_even_when_the_state_store_never_saw_the_key()
    {
        var (summary, results, requests) = await Run(Options(SyncBehavior.UpdateOnly), Rows(5), withState: true);

        Assert.Equal(5, summary.Failed);
        Assert.All(results, r => Assert.Equal("KustomerSync.RecordNotFound", r.ErrorId));
        Assert.Equal(5, requests.Values.Sum());
        Assert.Equal(0, Count(requests, "POST"));
    }

    [Fact]
    public async Task CreateOnly_creates_new_keys_with_one_request_and_leaves_existing_records_alone()
    {
        await Run(Options(), Rows(5), withState: false);

        // New keys first, one row at a time: five creates succeed before any collides, so the run keeps creating first.
        var (summary, _, requests) = await Run(Options(SyncBehavior.CreateOnly, throttle: 1), Rows(10).Reverse(), withState: true);

        Assert.Equal(5, summary.Created);
        Assert.Equal(5, summary.Unchanged);
        Assert.Equal(0, Count(requests, "PATCH"));
        // New keys: one create each; existing ones: the create collides and a lookup confirms the record (two each).
        Assert.Equal(10, Count(requests, "POST"));
        Assert.Equal(15, requests.Values.Sum());
    }
}
