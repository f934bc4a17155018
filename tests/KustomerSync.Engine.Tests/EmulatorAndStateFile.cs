using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Tests;

/// <summary>What tests of whole runs with state start from: an emulator (no rate limit), a client for it and a SQLite state file of the test's own, removed after it.</summary>
public abstract class EmulatorAndStateFile : IAsyncLifetime
{
    protected EmulatorServer Server { get; private set; } = null!;
    protected KustomerClient Kustomer { get; private set; } = null!;
    protected string StatePath { get; } = Path.Combine(Path.GetTempPath(), $"state-{Guid.NewGuid():N}.db");

    public async Task InitializeAsync()
    {
        Server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
        Kustomer = EmulatorRuns.Client(Server);
    }

    public async Task DisposeAsync()
    {
        Kustomer.Dispose();
        await Server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(StatePath);
    }
}
