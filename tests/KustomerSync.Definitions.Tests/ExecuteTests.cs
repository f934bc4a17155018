using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Runs;
using KustomerSync.Engine.Runs.Alerts;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;
using Microsoft.Data.Sqlite;
using static KustomerSync.Definitions.Tests.Data;

namespace KustomerSync.Definitions.Tests;

/// <summary>Definition runs end to end: a SQLite source, the emulator, a SQLite state.</summary>
public sealed class ExecuteTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"def-run-{Guid.NewGuid():N}");
    private readonly FakeHost _host = new();

    public ExecuteTests()
    {
        Directory.CreateDirectory(_dir);
        _host.Environment["KUSTOMER_KEY"] = EmulatorServer.DefaultKey;
    }

    private sealed class Observer : IDefinitionRunObserver
    {
        public List<UpsertResult> Results { get; } = new();
        public void Result(UpsertResult result) => Results.Add(result);
        public void Progress(RunProgress progress) { }
        public void Warning(string message) { }
        public void Verbose(string message) { }
    }

    private string SourceWith(params string[] ids)
    {
        var path = Path.Combine(_dir, "crm.db");
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "create table customers (id text, name text);" + string.Concat(ids.Select(id => $"insert into customers values ('{id}', 'Name {id}');"));
        command.ExecuteNonQuery();
        return path;
    }

    /// <summary>Counts every write of a run's end (ended_at) in the history, with the status it wrote.</summary>
    private static void CountRunEnds(string statePath)
    {
        StateStores.Sqlite(statePath).Open(new SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId" }).Dispose();
        using var connection = new SqliteConnection($"Data Source={statePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "create table run_ends (run_id integer, status text);" +
            "create trigger count_run_ends after update of ended_at on run begin insert into run_ends values (new.run_id, new.status); end;";
        command.ExecuteNonQuery();
    }

    private static List<string> RunEnds(string statePath)
    {
        using var connection = new SqliteConnection($"Data Source={statePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "select status from run_ends order by rowid";
        using var reader = command.ExecuteReader();
        var statuses = new List<string>();
        while (reader.Read()) statuses.Add(reader.GetString(0));
        return statuses;
    }

    [Fact]
    public async Task A_run_whose_rows_stop_part_way_is_recorded_Failed_once_with_every_row_read_still_given_a_result()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        var statePath = Path.Combine(_dir, "customers.state.db");
        CountRunEnds(statePath);
        var data = Valid();
        var source = Section(data, "Source");
        source["ConnectionString"] = $"Data Source={SourceWith("c-1", "c-2", "c-3")}";
        source["Query"] = "select id as externalId, name from customers order by id";
        source.Remove("Parameters");
        Section(data, "Destination")["BaseUri"] = server.BaseUri.ToString();
        Section(data, "State")["Path"] = statePath;
        data["Mapping"] = Table(("name", new DefinitionExpression("$_.name", 1)));
        var definition = SyncDefinitionParser.Parse(data, Path.Combine(_dir, "customers.sync.psd1"), _host);
        // The computed value fails on the second row, as a scriptblock that throws would: the source stops there.
        var options = new DefinitionRunOptions
        {
            CompileExpression = _ => record => (string?)record["externalId"] == "c-2" ? throw new InvalidOperationException("no name for c-2") : record["name"],
        };
        var observer = new Observer();

        using var run = DefinitionRun.Prepare(definition, _host, options);
        var outcome = run.Execute(observer, CancellationToken.None);

        Assert.True(outcome.Failed);
        Assert.Equal("KustomerSync.SourceReadFailed", outcome.ErrorId);
        Assert.Contains("no name for c-2", outcome.Message);
        Assert.Equal(new[] { "c-1" }, observer.Results.Select(r => r.Key));
        Assert.False(outcome.Summary!.Cancelled);
        Assert.Equal(new[] { nameof(SyncRunStatus.Failed) }, RunEnds(statePath));
    }

    private sealed class FakeEventLog : IRunEventLog
    {
        public List<RunReport> Reports { get; } = new();

        public string? Write(RunReport report)
        {
            Reports.Add(report);
            return null;
        }
    }

    [Fact]
    public async Task Every_run_is_written_to_the_event_log_with_its_status_and_counts_and_a_WhatIf_run_is_not()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        var data = Valid();
        var source = Section(data, "Source");
        source["ConnectionString"] = $"Data Source={SourceWith("c-1", "c-2", "")}";
        source["Query"] = "select id as externalId, name from customers order by id";
        source.Remove("Parameters");
        Section(data, "Destination")["BaseUri"] = server.BaseUri.ToString();
        Section(data, "State")["Path"] = Path.Combine(_dir, "customers.state.db");
        var definition = SyncDefinitionParser.Parse(data, Path.Combine(_dir, "customers.sync.psd1"), _host);
        var log = new FakeEventLog();

        using (var plan = DefinitionRun.Prepare(definition, _host, new DefinitionRunOptions { EventLog = log, WhatIf = true }))
            Assert.Null(plan.Execute(new Observer(), CancellationToken.None).Notification);
        using (var run = DefinitionRun.Prepare(definition, _host, new DefinitionRunOptions { EventLog = log }))
        {
            var outcome = run.Execute(new Observer(), CancellationToken.None);
            Assert.Equal(new Notification(false, null, true, null), outcome.Notification);
        }
        _host.Environment["KUSTOMER_KEY"] = "not-the-key";
        using (var refused = DefinitionRun.Prepare(definition, _host, new DefinitionRunOptions { EventLog = log }))
            refused.Execute(new Observer(), CancellationToken.None);

        Assert.Equal(2, log.Reports.Count);
        var partial = log.Reports[0];
        Assert.Equal(SyncRunStatus.PartiallyFailed, partial.Status);
        Assert.Equal((3L, 2L, 1L), (partial.Total, partial.Created, partial.Invalid));
        Assert.Equal("customers", partial.Sync);
        var failed = log.Reports[1];
        Assert.Equal(SyncRunStatus.Failed, failed.Status);
        Assert.Equal("KustomerSync.AuthenticationFailed", failed.ErrorId);
        Assert.DoesNotContain("not-the-key", failed.Message);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
