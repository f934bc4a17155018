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
        var after = await RoutesAsync();
        var requests = after.Where(r => !r.Key.Contains("/metadata") && !r.Key.Contains("/auth/"))
            .Select(r => (r.Key, Count: r.Value - before.GetValueOrDefault(r.Key))).Where(r => r.Count > 0).ToDictionary(r => r.Key, r => r.Count);
        return (summary, results, requests);
    }

    private async Task<Dictionary<string, long>> RoutesAsync() =>
        ((JsonObject)(await GetAsync(Server, "_emulator/stats"))["byRoute"]!).ToDictionary(p => p.Key, p => p.Value!.GetValue<long>());

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
    public async Task A_changed_row_whose_id_the_state_store_knows_costs_one_update()
    {
        await Run(Options(), Rows(10), withState: true);

        var (summary, _, requests) = await Run(Options(), Rows(10, "Renamed"), withState: true);

        Assert.Equal(10, summary.Updated);
        // The update carries the customer's company link, read with the record when the id came from the state store
        // (an update without it would unlink the company, §4.2): one read and one PATCH a row is what it costs.
        Assert.Equal(10, Count(requests, "PATCH"));
        Assert.Equal(10, Count(requests, "GET"));
        Assert.Equal(20, requests.Values.Sum());
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
