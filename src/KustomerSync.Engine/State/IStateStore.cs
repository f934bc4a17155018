namespace KustomerSync.Engine.State;

/// <summary>
/// A state store: per-sync, per-key confirmations, leases and run history in a SQLite file, a Postgres schema or a
/// SQL Server schema. Creating one touches nothing; the first use creates or migrates its tables.
/// Thread-safe; sessions (<see cref="SyncState"/>) hold the per-sync lease.
/// </summary>
public interface IStateStore
{
    StateProvider Provider { get; }

    /// <summary>Where the store is, for messages: the file path, or the connection string with secrets masked.</summary>
    string Display { get; }

    StateStoreOptions Options { get; }

    /// <summary>The SQL of this kind of store (table names, statements).</summary>
    StateDialect Dialect { get; }

    /// <summary>
    /// Opens a session for one sync: creates or migrates the tables, takes the sync's exclusive lease (StateLocked when a
    /// live run holds it), pins object and sync key (StateMismatch when they differ from the recorded ones) and loads the
    /// per-key entries in one query.
    /// </summary>
    SyncState Open(SyncStateOptions options);

    /// <summary>The schema version of the store (creating/migrating it first unless <paramref name="create"/> is false and it does not exist).</summary>
    int EnsureSchema(bool create = true);

    /// <summary>Names of the syncs recorded in the store.</summary>
    IReadOnlyList<string> SyncNames();

    /// <summary>Runs, oldest first: of one sync or all (<paramref name="syncName"/> null), the last <paramref name="last"/> only, or one run by id.</summary>
    IReadOnlyList<SyncRunInfo> Runs(string? syncName = null, int? last = null, long? runId = null);

    /// <summary>The recorded row outcomes of a run in row order, optionally only those with the given statuses.</summary>
    IEnumerable<SyncRowOutcome> RowOutcomes(long runId, IReadOnlyCollection<UpsertStatus>? statuses = null);

    /// <summary>
    /// Closes pooled connections of a SQLite store so the file is not held open (on Windows an open file cannot be
    /// moved or deleted). Sessions call it when disposed; readers call it when done. Nothing for server stores.
    /// </summary>
    void ReleaseConnections();

    /// <summary>Start time of the newest run of the sync that Succeeded (not -WhatIf), or null: the value for a definition's @since.</summary>
    DateTime? LastSuccessfulRunStart(string syncName);

    /// <summary>
    /// The rows (total) of the sync's newest run that Succeeded or PartiallyFailed (not -WhatIf), or null when there is
    /// none: what the guard against a source that suddenly returns far fewer rows compares with.
    /// </summary>
    long? LastSuccessfulRunRows(string syncName);
}
