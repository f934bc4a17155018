using System.Data.Common;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>Creates state stores by kind.</summary>
public static class StateStores
{
    /// <summary>A SQLite state file (created on first use unless <paramref name="createIfMissing"/> is false).</summary>
    public static IStateStore Sqlite(string path, StateStoreOptions? options = null, bool createIfMissing = true)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new StateException(ErrorIds.StateInvalidArgument, "The state file path is empty.");
        var full = Path.GetFullPath(path);
        var opts = Prepare(options);
        return new SqlStateStore(new SqliteStateDialect(opts) { CreateFile = createIfMissing }, full, full);
    }

    /// <summary>Tables in a Postgres database (schema <see cref="StateStoreOptions.Schema"/>).</summary>
    public static IStateStore Postgres(string connectionString, StateStoreOptions? options = null) =>
        new SqlStateStore(new PostgresStateDialect(Prepare(options)), Check(connectionString), "Postgres " + Mask(connectionString));

    /// <summary>Tables in a SQL Server / Azure SQL database (schema <see cref="StateStoreOptions.Schema"/>).</summary>
    public static IStateStore SqlServer(string connectionString, StateStoreOptions? options = null) =>
        new SqlStateStore(new SqlServerStateDialect(Prepare(options)), Check(connectionString), "SqlServer " + Mask(connectionString));

    /// <summary>By kind: a file path for Sqlite, a connection string for the others.</summary>
    public static IStateStore Create(StateProvider provider, string target, StateStoreOptions? options = null, bool createIfMissing = true) => provider switch
    {
        StateProvider.Sqlite => Sqlite(target, options, createIfMissing),
        StateProvider.Postgres => Postgres(target, options),
        StateProvider.SqlServer => SqlServer(target, options),
        _ => throw new StateException(ErrorIds.StateInvalidArgument, $"Unknown state provider '{provider}'."),
    };

    /// <summary>
    /// Creates a fresh store at exactly schema <paramref name="version"/> (1 = the first released layout), for migration
    /// tests and support tooling; the next Open migrates it forward.
    /// </summary>
    public static void CreateAtVersion(IStateStore store, int version)
    {
        if (store is not SqlStateStore sql) throw new ArgumentException("Not a KustomerSync state store.", nameof(store));
        if (version < 1 || version > sql.Dialect.LatestVersion) throw new ArgumentOutOfRangeException(nameof(version));
        sql.CreateAtVersion(version);
    }

    /// <summary>Parses Sqlite, Postgres or SqlServer (case-insensitive).</summary>
    public static StateProvider ParseProvider(string text) =>
        Enum.TryParse<StateProvider>(text, ignoreCase: true, out var p) && Enum.IsDefined(typeof(StateProvider), p)
            ? p
            : throw new StateException(ErrorIds.StateInvalidArgument, $"Unknown state provider '{text}'. Use Sqlite, Postgres or SqlServer.");

    /// <summary>A connection string with passwords and tokens masked.</summary>
    public static string Mask(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().ToList())
            {
                var k = key.Replace(" ", "").ToLowerInvariant();
                if (k is "password" or "pwd" or "accesstoken" or "token" or "secret" or "clientsecret")
                    builder[key] = "****";
            }
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(connection string not shown: it is not valid)";
        }
    }

    private static string Check(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new StateException(ErrorIds.StateInvalidArgument, "The state connection string is empty.");
        try
        {
            _ = new DbConnectionStringBuilder { ConnectionString = connectionString };
        }
        catch (ArgumentException)
        {
            throw new StateException(ErrorIds.StateInvalidArgument, "The state connection string is not valid: write it as Key=Value pairs separated by ';'.");
        }
        return connectionString;
    }

    private static StateStoreOptions Prepare(StateStoreOptions? options)
    {
        var copy = (options ?? new StateStoreOptions()).Clone();
        copy.Validate();
        return copy;
    }
}
