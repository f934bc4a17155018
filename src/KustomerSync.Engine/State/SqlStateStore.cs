using System.Data;
using System.Data.Common;
using System.Globalization;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>The one implementation of <see cref="IStateStore"/>; the <see cref="StateDialect"/> supplies the SQL.</summary>
internal sealed class SqlStateStore : IStateStore
{
    private readonly string _target;
    private int _schemaChecked;

    public SqlStateStore(StateDialect dialect, string target, string display)
    {
        Dialect = dialect;
        _target = target;
        Display = display;
    }

    public StateProvider Provider => Dialect.Provider;
    public string Display { get; }
    public StateStoreOptions Options => Dialect.Options;
    public StateDialect Dialect { get; }

    public SyncState Open(SyncStateOptions options)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        if (string.IsNullOrWhiteSpace(options.SyncName) || options.SyncName.Length > 128)
            throw new StateException(ErrorIds.StateInvalidArgument, "A sync name is 1 to 128 characters.");
        EnsureSchema(create: true);
        return SyncState.Open(this, options);
    }

    public int EnsureSchema(bool create = true)
    {
        if (Volatile.Read(ref _schemaChecked) != 0) return Dialect.LatestVersion;
        var version = Guard("open", () =>
        {
            if (Dialect is SqliteStateDialect && !create && !File.Exists(_target))
                throw new StateException(ErrorIds.StateUnreadable, $"There is no state file at {_target}.");
            using var connection = Connect();
            var current = ReadVersion(connection, null, create);
            if (current == Dialect.LatestVersion) return current;
            ExecuteBootstrap(connection, null, pragmas: true);
            using var tx = connection.BeginTransaction();
            if (Dialect.MigrationLockStatement() is { } lockSql) Execute(connection, tx, lockSql);
            current = ReadVersion(connection, tx, create); // again, under the lock
            if (current < 0)
            {
                ExecuteBootstrap(connection, tx, pragmas: false);
                current = 0;
            }
            Migrate(connection, tx, current, Dialect.LatestVersion);
            tx.Commit();
            return Dialect.LatestVersion;
        });
        Volatile.Write(ref _schemaChecked, 1);
        return version;
    }

    /// <summary>Brings a fresh store to exactly <paramref name="version"/> (tests of migrations start from v1).</summary>
    public void CreateAtVersion(int version)
    {
        Guard("create", () =>
        {
            using var connection = Connect();
            ExecuteBootstrap(connection, null, pragmas: true);
            using var tx = connection.BeginTransaction();
            ExecuteBootstrap(connection, tx, pragmas: false);
            Migrate(connection, tx, 0, version);
            tx.Commit();
            return 0;
        });
    }

    /// <summary>Runs the bootstrap statements: the PRAGMAs (not allowed inside a transaction), or all the others.</summary>
    private void ExecuteBootstrap(DbConnection connection, DbTransaction? tx, bool pragmas)
    {
        foreach (var statement in Dialect.BootstrapStatements())
            if (statement.StartsWith("PRAGMA", StringComparison.Ordinal) == pragmas) Execute(connection, tx, statement);
    }

    /// <summary>Applies the migrations from version <paramref name="from"/> up to <paramref name="to"/>, recording each in schema_version.</summary>
    private void Migrate(DbConnection connection, DbTransaction tx, int from, int to)
    {
        var migrations = Dialect.Migrations();
        for (var v = from; v < to; v++)
        {
            foreach (var statement in migrations[v]) Execute(connection, tx, statement);
            using var record = Command(connection, tx, $"INSERT INTO {Dialect.Table("schema_version")} (version, applied_at) VALUES (@v, @t)");
            StateDialect.Add(record, "@v", v + 1, DbType.Int32);
            Dialect.AddTime(record, "@t", Options.Time.GetUtcNow().UtcDateTime);
            record.ExecuteNonQuery();
        }
    }

    /// <summary>-1 when the store has no schema_version table yet.</summary>
    private int ReadVersion(DbConnection connection, DbTransaction? tx, bool create)
    {
        if (!TableExists(connection, tx, Dialect.RawTable("schema_version")))
        {
            if (TableExists(connection, tx, Dialect.RawTable("state")) || TableExists(connection, tx, Dialect.RawTable("sync")))
                throw new StateException(ErrorIds.StateUnreadable,
                    $"The state store {Display} has KustomerSync tables but no schema_version table: it is damaged or was not made by KustomerSync. " +
                    "Restore it from a backup, or use a new store (the next run then resyncs every row on purpose).");
            if (!create)
                throw new StateException(ErrorIds.StateUnreadable, $"The state store {Display} holds no KustomerSync state (no {Dialect.RawTable("schema_version")} table).");
            return -1;
        }
        using var command = Command(connection, tx, $"SELECT MAX(version) FROM {Dialect.Table("schema_version")}");
        var value = command.ExecuteScalar();
        var version = value is null or DBNull ? 0 : Convert.ToInt32(value, CultureInfo.InvariantCulture);
        if (version > Dialect.LatestVersion)
            throw new StateException(ErrorIds.StateNewerSchema,
                $"The state store {Display} has schema version {version}, written by a newer KustomerSync; this version knows up to {Dialect.LatestVersion}. " +
                "Update the KustomerSync module (Update-Module or a newer zip) on this machine; the store is left untouched.");
        return version;
    }

    private bool TableExists(DbConnection connection, DbTransaction? tx, string name)
    {
        using var command = Command(connection, tx, Dialect.TableExistsQuery());
        StateDialect.AddText(command, "@n", name);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    public IReadOnlyList<string> SyncNames()
    {
        EnsureSchema(create: false);
        return Guard("read", () =>
        {
            using var connection = Connect();
            using var command = Command(connection, null, $"SELECT sync_name FROM {Dialect.Table("sync")} ORDER BY sync_name");
            using var reader = command.ExecuteReader();
            var names = new List<string>();
            while (reader.Read()) names.Add(reader.GetString(0));
            return names;
        });
    }

    internal const string RunColumns = "run_id, sync_name, object_name, sync_key, behavior, what_if, full_sync, started_at, ended_at, status, total, created, " +
                                       "updated, unchanged, invalid, failed, would_create, would_update, requests, keys_left, machine, process_id, message";

    public IReadOnlyList<SyncRunInfo> Runs(string? syncName = null, int? last = null, long? runId = null)
    {
        EnsureSchema(create: false);
        return Guard("read", () =>
        {
            using var connection = Connect();
            var where = new List<string>();
            if (syncName is not null) where.Add("sync_name = @s");
            if (runId is not null) where.Add("run_id = @r");
            var body = $"{RunColumns} FROM {Dialect.Table("run")}" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY run_id DESC";
            using var command = Command(connection, null, Dialect.Select(body, last is not null));
            if (syncName is not null) StateDialect.AddText(command, "@s", syncName);
            if (runId is not null) StateDialect.Add(command, "@r", runId.Value, DbType.Int64);
            if (last is not null) StateDialect.Add(command, "@limit", Math.Max(0, last.Value), DbType.Int32);
            using var reader = command.ExecuteReader();
            var runs = new List<SyncRunInfo>();
            while (reader.Read()) runs.Add(ReadRun(reader));
            runs.Reverse();
            return runs;
        });
    }

    private SyncRunInfo ReadRun(DbDataReader r) => new()
    {
        RunId = Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture),
        Sync = r.GetString(1),
        Object = r.IsDBNull(2) ? null : r.GetString(2),
        SyncKey = r.IsDBNull(3) ? null : r.GetString(3),
        Behavior = r.IsDBNull(4) ? null : r.GetString(4),
        WhatIf = Convert.ToBoolean(r.GetValue(5), CultureInfo.InvariantCulture),
        FullSync = Convert.ToBoolean(r.GetValue(6), CultureInfo.InvariantCulture),
        Started = Dialect.ReadTime(r, 7)!.Value,
        Ended = Dialect.ReadTime(r, 8),
        Status = Enum.TryParse<SyncRunStatus>(r.GetString(9), out var status) ? status : SyncRunStatus.Failed,
        Total = Long(r, 10),
        Created = Long(r, 11),
        Updated = Long(r, 12),
        Unchanged = Long(r, 13),
        Invalid = Long(r, 14),
        Failed = Long(r, 15),
        WouldCreate = Long(r, 16),
        WouldUpdate = Long(r, 17),
        Requests = Long(r, 18),
        KeysLeft = r.IsDBNull(19) ? null : Long(r, 19),
        Machine = r.IsDBNull(20) ? null : r.GetString(20),
        ProcessId = r.IsDBNull(21) ? null : Convert.ToInt32(r.GetValue(21), CultureInfo.InvariantCulture),
        Message = r.IsDBNull(22) ? null : r.GetString(22),
    };

    private static long Long(DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);

    public IEnumerable<SyncRowOutcome> RowOutcomes(long runId, IReadOnlyCollection<UpsertStatus>? statuses = null)
    {
        EnsureSchema(create: false);
        DbConnection connection;
        DbDataReader reader;
        DbCommand command;
        try
        {
            connection = Connect();
            var filter = "";
            var list = statuses?.Distinct().ToList() ?? new List<UpsertStatus>();
            if (list.Count > 0) filter = " AND status IN (" + string.Join(", ", list.Select((_, i) => "@st" + i)) + ")";
            command = Command(connection, null,
                $"SELECT run_id, row_no, record_key, status, kustomer_id, error_id, message FROM {Dialect.Table("run_row")} WHERE run_id = @r{filter} ORDER BY row_no");
            StateDialect.Add(command, "@r", runId, DbType.Int64);
            for (var i = 0; i < list.Count; i++) StateDialect.AddText(command, "@st" + i, list[i].ToString());
            reader = command.ExecuteReader();
        }
        catch (DbException ex)
        {
            throw Unreadable("read", ex);
        }
        return Stream(connection, command, reader);
    }

    private IEnumerable<SyncRowOutcome> Stream(DbConnection connection, DbCommand command, DbDataReader reader)
    {
        using (connection)
        using (command)
        using (reader)
        {
            while (true)
            {
                bool more;
                try
                {
                    more = reader.Read();
                }
                catch (DbException ex)
                {
                    throw Unreadable("read", ex);
                }
                if (!more) yield break;
                yield return new SyncRowOutcome
                {
                    RunId = Long(reader, 0),
                    Row = Long(reader, 1),
                    Key = reader.IsDBNull(2) ? null : reader.GetString(2),
                    Status = Enum.TryParse<UpsertStatus>(reader.GetString(3), out var s) ? s : UpsertStatus.Failed,
                    KustomerId = reader.IsDBNull(4) ? null : reader.GetString(4),
                    ErrorId = reader.IsDBNull(5) ? null : reader.GetString(5),
                    Message = reader.IsDBNull(6) ? null : reader.GetString(6),
                };
            }
        }
    }

    public DateTime? LastSuccessfulRunStart(string syncName)
    {
        EnsureSchema(create: false);
        return Guard("read", () =>
        {
            using var connection = Connect();
            using var command = Command(connection, null,
                $"SELECT started_at FROM {Dialect.Table("run")} WHERE sync_name = @s AND status = @st AND what_if = @w ORDER BY run_id DESC");
            StateDialect.AddText(command, "@s", syncName);
            StateDialect.AddText(command, "@st", nameof(SyncRunStatus.Succeeded));
            StateDialect.Add(command, "@w", false, DbType.Boolean);
            using var reader = command.ExecuteReader();
            return reader.Read() ? Dialect.ReadTime(reader, 0) : null;
        });
    }

    public long? LastSuccessfulRunRows(string syncName)
    {
        EnsureSchema(create: false);
        return Guard("read", () =>
        {
            using var connection = Connect();
            using var command = Command(connection, null, Dialect.LastSuccessfulRunRowsQuery());
            StateDialect.AddText(command, "@s", syncName);
            StateDialect.Add(command, "@w", false, DbType.Boolean);
            StateDialect.AddText(command, "@ok", nameof(SyncRunStatus.Succeeded));
            StateDialect.AddText(command, "@partial", nameof(SyncRunStatus.PartiallyFailed));
            StateDialect.Add(command, "@limit", 1, DbType.Int32);
            using var reader = command.ExecuteReader();
            return reader.Read() ? Long(reader, 0) : (long?)null;
        });
    }

    public void ReleaseConnections()
    {
        if (Dialect is not SqliteStateDialect) return;
        using var connection = (Microsoft.Data.Sqlite.SqliteConnection)Dialect.CreateConnection(_target);
        Microsoft.Data.Sqlite.SqliteConnection.ClearPool(connection);
    }

    // ---- plumbing shared with SyncState ----

    internal DbConnection Connect()
    {
        var connection = Dialect.CreateConnection(_target);
        try
        {
            connection.Open();
            Dialect.OnOpen(connection);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    internal DbCommand Command(DbConnection connection, DbTransaction? tx, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        command.CommandTimeout = Options.CommandTimeoutSeconds;
        return command;
    }

    internal void Execute(DbConnection connection, DbTransaction? tx, string sql)
    {
        using var command = Command(connection, tx, sql);
        command.ExecuteNonQuery();
    }

    /// <summary>Runs store work; driver and I/O failures become StateUnreadable naming the store.</summary>
    internal T Guard<T>(string what, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (StateException)
        {
            throw;
        }
        catch (Exception ex) when (ex is DbException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            throw Unreadable(what, ex);
        }
    }

    /// <summary>Runs a write of one sync's state; driver and I/O failures become StateWriteFailed naming the sync and the store.</summary>
    internal T GuardWrite<T>(string syncName, string what, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (StateException)
        {
            throw;
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException)
        {
            throw new StateException(ErrorIds.StateWriteFailed, $"The state of sync '{syncName}' could not be {what} to {Display}: {ex.Message}", ex);
        }
    }

    internal StateException Unreadable(string what, Exception ex)
    {
        var hint = Dialect is SqliteStateDialect
            ? " If the file is damaged or is not a KustomerSync state file, restore it from a backup or use a new state file (the next run then resyncs every row on purpose)."
            : " Check the connection string, that the server is reachable, and that the login may create and write tables in schema '" + Options.Schema + "'.";
        return new StateException(ErrorIds.StateUnreadable, $"The state store {Display} cannot be {(what == "open" ? "opened" : what == "read" ? "read" : "written")}: {ex.Message.TrimEnd('.', ' ')}.{hint}", ex);
    }
}
