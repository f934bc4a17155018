using System.Text.RegularExpressions;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>The kinds of state store.</summary>
public enum StateProvider
{
    /// <summary>A SQLite file (the default; WAL mode). Target = file path.</summary>
    Sqlite,
    /// <summary>Tables in a Postgres database. Target = Npgsql connection string.</summary>
    Postgres,
    /// <summary>Tables in a SQL Server / Azure SQL database. Target = SqlClient connection string.</summary>
    SqlServer,
}

/// <summary>Where a state store lives and how its tables are named; timings of leases and flushes.</summary>
public sealed class StateStoreOptions
{
    private static readonly Regex Identifier = new("^[A-Za-z_][A-Za-z0-9_]{0,39}$");

    /// <summary>Database schema of the tables (Postgres, SQL Server). SQLite has no schemas and ignores it.</summary>
    public string Schema { get; set; } = "kustomersync";

    /// <summary>Prefix of every table name (e.g. <c>ks_</c>), for stores that share a database or schema. Empty by default.</summary>
    public string TablePrefix { get; set; } = "";

    /// <summary>A lease whose heartbeat is older than this is taken over: the run that held it is presumed dead.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a running sync renews its lease. Must be well below <see cref="LeaseTimeout"/>; <see cref="Timeout.InfiniteTimeSpan"/> turns it off.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Buffered confirmations, failures and row outcomes are written once this many are pending ...</summary>
    public int FlushBatchSize { get; set; } = 500;

    /// <summary>... or this long after the previous write, whichever comes first, and always at the end.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Per-row outcomes are kept for this many most recent runs of each sync; older runs keep only their summary.</summary>
    public int KeepRowOutcomesForRuns { get; set; } = 30;

    /// <summary>
    /// The clock of leases, heartbeats and flushes, and of the times recorded when the caller passes none. Every
    /// process sharing a store must see roughly the same time; tests pass a fake one and advance it.
    /// </summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Seconds a statement may take (and SQLite waits for a busy file).</summary>
    public int CommandTimeoutSeconds { get; set; } = 60;

    internal void Validate()
    {
        if (!Identifier.IsMatch(Schema))
            throw new StateException(ErrorIds.StateInvalidArgument, $"The state schema '{Schema}' is not valid: use letters, digits and '_' (up to 40, not starting with a digit).");
        if (TablePrefix.Length > 0 && !Identifier.IsMatch(TablePrefix))
            throw new StateException(ErrorIds.StateInvalidArgument, $"The state table prefix '{TablePrefix}' is not valid: use letters, digits and '_' (up to 40, not starting with a digit).");
        if (LeaseTimeout <= TimeSpan.Zero)
            throw new StateException(ErrorIds.StateInvalidArgument, "LeaseTimeout must be positive.");
        if (FlushBatchSize < 1) throw new StateException(ErrorIds.StateInvalidArgument, "FlushBatchSize must be at least 1.");
        if (Time is null) throw new StateException(ErrorIds.StateInvalidArgument, "The state store's clock (Time) is not set.");
    }

    internal StateStoreOptions Clone() => (StateStoreOptions)MemberwiseClone();
}

/// <summary>What a <see cref="SyncState"/> session is opened for.</summary>
public sealed class SyncStateOptions
{
    public SyncStateOptions(string syncName)
    {
        SyncName = syncName;
    }

    /// <summary>The sync's name: state, lease and history are kept per name (up to 128 characters).</summary>
    public string SyncName { get; }

    /// <summary>The Kustomer object (e.g. Customer, Company, kobject.order). Pinned on first use: a later session with another object is refused.</summary>
    public string? Object { get; set; }

    /// <summary>The sync key (ExternalId, Email, custom.x). Pinned on first use like <see cref="Object"/>.</summary>
    public string? SyncKey { get; set; }

    /// <summary>
    /// -FullSync: stored payload hashes are ignored for this session (<see cref="SyncState.IsUnchanged"/> is always false), so
    /// every row is written again; known Kustomer ids are still used to skip lookups, and confirmations still store new hashes.
    /// </summary>
    public bool FullSync { get; set; }

    /// <summary>
    /// How keys are compared in <see cref="SyncState.Entries"/>. Pass OrdinalIgnoreCase for Email keys: the session then
    /// stores keys lower-cased (<see cref="SyncState.Stored"/>), as the pushed-down diff with lowerCaseKey expects.
    /// </summary>
    public StringComparer KeyComparer { get; set; } = StringComparer.Ordinal;

    /// <summary>Load the per-key entries when the session opens (default). Off for sessions that only write history.</summary>
    public bool LoadEntries { get; set; } = true;
}
