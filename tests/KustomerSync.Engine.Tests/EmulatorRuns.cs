using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>What the engine tests share: a client for an emulator, a whole upsert run, and the emulator's state.</summary>
internal static class EmulatorRuns
{
    public static KustomerClient Client(EmulatorServer server, string key = EmulatorServer.DefaultKey) =>
        new(server.BaseUri, SecretText.Protect(key), new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50) });

    /// <summary>
    /// A clock for the bulk idle flush that never moves: a partial batch goes only when the input ends, so a submitting
    /// thread the machine starves for a moment cannot split a batch and change what a run costs.
    /// </summary>
    public static TimeProvider HeldIdleClock() => new FakeTimeProvider();

    /// <summary>Submits every row, then drains the run's result stream to its end; results in row order.</summary>
    public static async Task<(UpsertSummary Summary, List<UpsertResult> Results)> RunAsync(KustomerClient client, UpsertOptions options,
        IEnumerable<(string[] Names, object?[] Values)> rows, IReadOnlyList<MappingRule>? mapping = null, UpsertStateBinding? state = null)
    {
        using var run = await UpsertRun.StartAsync(client, options, mapping ?? Array.Empty<MappingRule>(), skipNull: false, CancellationToken.None, state,
            idleClock: HeldIdleClock());
        var results = await SubmitAndDrainAsync(run, rows);
        return (run.Finish(RunEnding.Completed), results.OrderBy(r => r.Row).ToList());
    }

    /// <summary>Submits the rows, taking what is ready as it goes, then reads the stream to its end.</summary>
    public static async Task<List<UpsertResult>> SubmitAndDrainAsync(UpsertRun run, IEnumerable<(string[] Names, object?[] Values)> rows)
    {
        var results = new List<UpsertResult>();
        foreach (var (names, values) in rows)
        {
            run.Submit(names, values, null);
            while (run.Results.TryRead(out var r)) results.Add(r);
        }
        run.Complete();
        await foreach (var r in run.Results.ReadAllAsync()) results.Add(r);
        return results;
    }

    /// <summary>GET on the emulator with its admin key (test-only routes need none).</summary>
    public static async Task<JsonNode> GetAsync(EmulatorServer server, string path)
    {
        using var http = server.CreateClient(EmulatorServer.AdminKey);
        return JsonNode.Parse(await http.GetStringAsync(path))!;
    }

    public static async Task<JsonArray> CustomersAsync(EmulatorServer server) =>
        (JsonArray)(await GetAsync(server, "_emulator/state"))["customers"]!["items"]!;
}
