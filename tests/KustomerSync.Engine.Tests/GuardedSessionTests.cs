using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs;
using KustomerSync.Engine.Runs.Guards;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>The guards against a broken source, judged by the upsert session before any write: against the emulator and a SQLite state.</summary>
public sealed class GuardedSessionTests : IAsyncLifetime
{
    private static readonly string[] Names = { "externalId", "name", "tierStr" };
    private static readonly GuardSettings Guards = GuardSettings.Default with { MinRecordsToJudge = 10 };

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"guards-{Guid.NewGuid():N}.db");
    private EmulatorServer _server = null!;
    private KustomerClient _client = null!;

    private sealed record Outcome(UpsertSummary Summary, RunFault? Fault, RecordingObserver Observer);

    public async Task InitializeAsync()
    {
        _server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        _client = Client(_server);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    /// <summary>200 customers, every fifth with a tier: the records the later runs are judged against.</summary>
    private static IEnumerable<object?[]> Customers(Func<int, string?>? tier = null, Func<int, string>? name = null, int count = 200) =>
        Enumerable.Range(1, count).Select(i => new object?[] { $"g-{i}", name?.Invoke(i) ?? $"Guarded {i}", tier is null ? (i % 5 == 0 ? "gold" : null) : tier(i) });

    private Outcome Run(IEnumerable<object?[]> rows, GuardSettings? guards = null, bool fullSource = true, bool whatIf = false, bool reportKeysLeft = false)
    {
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { AllowBulk = false, WhatIf = whatIf };
        var observer = new RecordingObserver();
        using var session = UpsertSession.Open(StateStores.Sqlite(_path), "guarded", options, fullSync: false, observer, CancellationToken.None);
        session.Start(_client, options, Array.Empty<MappingRule>(), skipNull: false, reportKeysLeft, log: null);
        if (guards is not null) session.Guard(guards, fullSource);
        foreach (var values in rows) session.Submit(Names, values, null);
        session.Drain();
        var fault = session.Fault;
        return new Outcome(session.Finish(RunEnding.Completed), fault, observer);
    }

    private long Scalar(string sql) => Sql(sql, command => Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));

    private int Execute(string sql) => Sql(sql, command => command.ExecuteNonQuery());

    private T Sql<T>(string sql, Func<Microsoft.Data.Sqlite.SqliteCommand, T> run)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return run(command);
    }

    private SyncRunInfo LastRun() => StateStores.Sqlite(_path).Runs("guarded").Last();

    private async Task<int> TieredInKustomerAsync() => (await CustomersAsync(_server)).Count(c => (string?)c!["attributes"]!["custom"]?["tierStr"] == "gold");

    private async Task<int> RenamedInKustomerAsync() =>
        (await CustomersAsync(_server)).Count(c => ((string?)c!["attributes"]!["name"])!.StartsWith("Renamed", StringComparison.Ordinal));

    [Fact]
    public void A_first_run_is_not_judged_and_writes_as_rows_come()
    {
        var first = Run(Customers(), Guards);

        Assert.Equal(200, first.Summary.Created);
        Assert.Empty(first.Summary.GuardsTripped);
        Assert.Equal(SyncRunStatus.Succeeded, LastRun().Status);
    }

    [Fact]
    public async Task An_empty_full_source_is_refused_and_recorded_and_an_empty_incremental_one_is_not()
    {
        Run(Customers(), Guards);

        var refused = Run(Array.Empty<object?[]>(), Guards);

        Assert.Equal(ErrorIds.GuardTripped, refused.Fault!.ErrorId);
        Assert.Contains("EmptySource: The source returned no rows, while the sync knows 200 records and its last successful run read 200 rows", refused.Fault.Message);
        Assert.Equal(new[] { "EmptySource" }, refused.Summary.GuardsTripped);
        var run = LastRun();
        Assert.Equal(SyncRunStatus.Refused, run.Status);
        Assert.Contains("EmptySource", run.Message);
        Assert.Equal(200, (await CustomersAsync(_server)).Count);

        var incremental = Run(Array.Empty<object?[]>(), Guards, fullSource: false);
        Assert.Null(incremental.Fault);
        Assert.Equal(SyncRunStatus.Succeeded, LastRun().Status);
    }

    [Fact]
    public void A_refused_run_marks_no_key_as_gone_from_the_source()
    {
        Run(Customers(), Guards, reportKeysLeft: true);

        var refused = Run(Array.Empty<object?[]>(), Guards, reportKeysLeft: true);

        Assert.Equal(new[] { "EmptySource" }, refused.Summary.GuardsTripped);
        Assert.Null(refused.Summary.KeysLeft);
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM state WHERE gone_since IS NOT NULL"));
        Assert.Equal(200, Run(Array.Empty<object?[]>(), guards: null, reportKeysLeft: true).Summary.KeysLeft);
    }

    [Fact]
    public async Task A_join_that_nulls_a_sparse_column_is_refused_before_any_write_though_few_records_change()
    {
        Run(Customers(), Guards);
        Assert.Equal(40, await TieredInKustomerAsync());

        // The tier came from a joined table that stopped matching: 40 of 200 records change (under the 25 % of
        // TooManyChanges), but every record that had a tier would lose it.
        var refused = Run(Customers(tier: _ => null), Guards);

        Assert.Equal(new[] { "FieldCleared" }, refused.Summary.GuardsTripped);
        Assert.Contains("clear custom.tierStr on 40 of the 40 records that had a value in it (100 %", refused.Fault!.Message);
        Assert.Equal(160, refused.Summary.Unchanged);
        var notSent = refused.Observer.Results.Where(r => r.ErrorId == ErrorIds.NotAttempted).ToList();
        Assert.Equal(40, notSent.Count);
        Assert.All(notSent, r => Assert.Equal(UpsertStatus.Failed, r.Status));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), refused.Observer.Results.Select(r => r.Row));
        Assert.Equal(40, await TieredInKustomerAsync());
        Assert.Equal(SyncRunStatus.Refused, LastRun().Status);
    }

    [Fact]
    public async Task Changing_most_known_records_is_refused_and_without_the_guards_it_runs()
    {
        Run(Customers(), Guards);

        var refused = Run(Customers(name: i => i <= 100 ? $"Renamed {i}" : $"Guarded {i}"), Guards);
        Assert.Equal(new[] { "TooManyChanges" }, refused.Summary.GuardsTripped);
        Assert.Contains("change 100 of the 200 records the sync knows (50 %", refused.Fault!.Message);
        Assert.Equal(0, await RenamedInKustomerAsync());

        var forced = Run(Customers(name: i => i <= 100 ? $"Renamed {i}" : $"Guarded {i}"), guards: null);
        Assert.Null(forced.Fault);
        Assert.Equal(100, forced.Summary.Updated);
        Assert.Equal(100, await RenamedInKustomerAsync());
    }

    [Fact]
    public async Task A_run_the_guards_pass_sends_the_rows_it_held_in_order()
    {
        Run(Customers(), Guards);

        var passed = Run(Customers(name: i => i % 20 == 0 ? $"Renamed {i}" : $"Guarded {i}").Concat(new[] { new object?[] { "g-new", "New one", null } }), Guards);

        Assert.Null(passed.Fault);
        Assert.Empty(passed.Summary.GuardsTripped);
        Assert.Equal((10, 1, 190), (passed.Summary.Updated, passed.Summary.Created, passed.Summary.Unchanged));
        Assert.Equal(Enumerable.Range(1, 201).Select(i => (long)i), passed.Observer.Results.Select(r => r.Row));
        Assert.Equal(10, await RenamedInKustomerAsync());
    }

    [Fact]
    public async Task A_run_stopped_while_its_writes_are_held_is_not_judged_and_sends_none_of_them()
    {
        Run(Customers(), Guards);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { AllowBulk = false };
        using var stop = new CancellationTokenSource();

        using (var session = UpsertSession.Open(StateStores.Sqlite(_path), "guarded", options, fullSync: false, new RecordingObserver(), stop.Token))
        {
            session.Start(_client, options, Array.Empty<MappingRule>(), skipNull: false, reportKeysLeft: false, log: null);
            session.Guard(Guards, fullSource: true);
            foreach (var values in Customers(name: i => $"Renamed {i}").Take(20)) session.Submit(Names, values, null);
            stop.Cancel();
            session.Drain();

            Assert.Empty(session.Run.Summary.GuardsTripped);
            Assert.Contains("20 not confirmed", session.Run.StoppedMessage());
        }

        Assert.Equal(SyncRunStatus.Cancelled, LastRun().Status);
        Assert.Equal(0, await RenamedInKustomerAsync());
    }

    [Fact]
    public void A_source_under_half_of_the_last_run_is_refused_when_it_returns_the_whole_table()
    {
        Run(Customers(), Guards);

        var shrunk = Run(Customers(count: 80), Guards);
        Assert.Equal(new[] { "SourceShrank" }, shrunk.Summary.GuardsTripped);
        Assert.Contains("80 rows, 40 % of the 200 its last successful run read", shrunk.Fault!.Message);

        Assert.Null(Run(Customers(count: 80), Guards, fullSource: false).Fault);
    }

    [Fact]
    public async Task WhatIf_tells_which_guards_would_trip_and_writes_nothing()
    {
        Run(Customers(), Guards);

        var planned = Run(Customers(tier: _ => null, name: i => i <= 100 ? $"Renamed {i}" : $"Guarded {i}"), Guards, whatIf: true);

        Assert.Null(planned.Fault);
        Assert.Equal(new[] { "TooManyChanges", "FieldCleared" }, planned.Summary.GuardsTripped);
        Assert.Contains(planned.Observer.Warnings, w => w.StartsWith("The TooManyChanges guard would refuse this run:", StringComparison.Ordinal));
        Assert.Contains(planned.Observer.Warnings, w => w.StartsWith("The FieldCleared guard would refuse this run:", StringComparison.Ordinal));
        Assert.Equal(120, planned.Summary.WouldUpdate);
        Assert.Equal(40, await TieredInKustomerAsync());
    }

    [Fact]
    public async Task A_store_from_before_fields_were_kept_learns_them_from_unchanged_rows_and_judges_the_next_run()
    {
        Run(Customers(), Guards);
        Assert.Equal(200, Execute("UPDATE state SET valued_fields = NULL"));

        // Nothing is known of the fields, so nothing can be judged cleared; the unchanged rows teach the store.
        Assert.Empty(Run(Customers(), Guards).Summary.GuardsTripped);

        Assert.Equal(new[] { "FieldCleared" }, Run(Customers(tier: _ => null), Guards).Summary.GuardsTripped);
        Assert.Equal(40, await TieredInKustomerAsync());
    }
}
