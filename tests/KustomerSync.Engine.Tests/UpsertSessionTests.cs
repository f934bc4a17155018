using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>The upsert session both drivers use, against the emulator and a SQLite state.</summary>
public sealed class UpsertSessionTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"session-{Guid.NewGuid():N}.db");

    private static readonly string[] Names = { "externalId", "name", "shoeSize" };

    [Fact]
    public async Task Results_come_out_as_rows_go_in_and_the_run_is_recorded_once_when_it_finishes()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { AllowBulk = false };
        var store = StateStores.Sqlite(_path);
        var observer = new RecordingObserver();

        using (var session = UpsertSession.Open(store, null, options, fullSync: false, observer, CancellationToken.None))
        {
            session.Start(client, options, Array.Empty<MappingRule>(), skipNull: false, reportKeysLeft: false, log: null);
            for (var i = 1; i <= 20; i++) session.Submit(Names, new object?[] { $"s-{i}", $"Session {i}", 42 }, null);
            session.Submit(Names, new object?[] { "s-1", "Again", 42 }, null);
            session.Drain();
            var summary = session.Finish(RunEnding.Completed);

            Assert.Equal(20, summary.Created);
            Assert.Equal(1, summary.Invalid);
            Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), observer.Results.Select(r => r.Row));
            Assert.Contains(observer.Warnings, w => w.Contains("shoeSize"));
            Assert.Throws<InvalidOperationException>(() => session.Finish(RunEnding.Cancelled));
        }

        var run = Assert.Single(store.Runs("Customer:ExternalId"));
        Assert.Equal(SyncRunStatus.PartiallyFailed, run.Status);
        Assert.Equal(21, run.Total);
    }

    [Fact]
    public async Task A_run_that_cannot_start_is_recorded_Failed_with_the_reason()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        using var client = Client(server);
        var key = RecordKey.Parse("custom.noSuchAttributeStr", KustomerObject.Customer);
        var options = new UpsertOptions(KustomerObject.Customer, key);
        var store = StateStores.Sqlite(_path);

        using (var session = UpsertSession.Open(store, "custom-key", options, fullSync: false, new RecordingObserver(), CancellationToken.None))
            Assert.Throws<MappingException>(() => session.Start(client, options, Array.Empty<MappingRule>(), skipNull: false, reportKeysLeft: false, log: null));

        var run = Assert.Single(store.Runs("custom-key"));
        Assert.Equal(SyncRunStatus.Failed, run.Status);
        Assert.Contains("noSuchAttributeStr", run.Message);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }
}
