using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace KustomerSync.State.Tests;

/// <summary>
/// A fresh state store for one test: a SQLite file in a temp folder, or a private schema in the real Postgres named by
/// KUSTOMERSYNC_TEST_POSTGRES (tests/servers/TestServers.psm1 starts one). Without that variable Postgres tests are
/// skipped, unless CI=true, where they fail.
/// </summary>
public sealed class Harness : IDisposable
{
    private readonly string _folder;

    public Harness(StateProvider provider, Action<StateStoreOptions>? configure = null)
    {
        Provider = provider;
        _folder = Path.Combine(Path.GetTempPath(), "ks-state-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        Options = new StateStoreOptions { FlushInterval = TimeSpan.FromMilliseconds(200) };
        if (provider == StateProvider.Postgres)
        {
            PostgresConnectionString = RequirePostgres();
            Options.Schema = "kst_" + Guid.NewGuid().ToString("N").Substring(0, 12);
        }
        configure?.Invoke(Options);
        Path_ = System.IO.Path.Combine(_folder, "state.db");
        Store = NewStore();
    }

    public StateProvider Provider { get; }
    public StateStoreOptions Options { get; }
    public IStateStore Store { get; }
    public string Path_ { get; }
    public string? PostgresConnectionString { get; }
    public string Folder => _folder;

    /// <summary>Another store object on the same place (as a second process would have).</summary>
    public IStateStore NewStore(Action<StateStoreOptions>? configure = null)
    {
        var options = new StateStoreOptions
        {
            Schema = Options.Schema, TablePrefix = Options.TablePrefix, LeaseTimeout = Options.LeaseTimeout, HeartbeatInterval = Options.HeartbeatInterval,
            FlushBatchSize = Options.FlushBatchSize, FlushInterval = Options.FlushInterval, KeepRowOutcomesForRuns = Options.KeepRowOutcomesForRuns,
            Time = Options.Time,
        };
        configure?.Invoke(options);
        return Provider == StateProvider.Sqlite ? StateStores.Sqlite(Path_, options) : StateStores.Postgres(PostgresConnectionString!, options);
    }

    public static string RequirePostgres()
    {
        var cs = Environment.GetEnvironmentVariable("KUSTOMERSYNC_TEST_POSTGRES");
        if (string.IsNullOrEmpty(cs))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException("CI=true and KUSTOMERSYNC_TEST_POSTGRES is not set: start Postgres with tests/servers/TestServers.psm1.");
            Skip.If(true, "KUSTOMERSYNC_TEST_POSTGRES is not set (tests/servers/TestServers.psm1 starts a Postgres); Postgres state tests skipped.");
        }
        return cs!;
    }

    public DbConnection Connect()
    {
        DbConnection connection;
        if (Provider == StateProvider.Sqlite)
        {
            SQLitePCL.Batteries_V2.Init();
            connection = new SqliteConnection($"Data Source={Path_};Pooling=False");
        }
        else connection = new NpgsqlConnection(PostgresConnectionString);
        connection.Open();
        return connection;
    }

    public int Exec(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    public object? Scalar(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public string T(string name) => Store.Dialect.Table(name);

    public void Dispose()
    {
        if (Provider == StateProvider.Postgres && PostgresConnectionString is not null)
        {
            try
            {
                NpgsqlConnection.ClearAllPools();
                Exec($"DROP SCHEMA IF EXISTS \"{Options.Schema}\" CASCADE");
            }
            catch (Exception)
            {
                // best effort
            }
        }
        else SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
