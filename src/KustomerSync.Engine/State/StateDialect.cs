using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
#if NET
using Microsoft.Data.SqlClient;
#else
using System.Data.SqlClient;
#endif

namespace KustomerSync.Engine.State;

/// <summary>
/// The SQL of one kind of state store: DDL of each schema version, the batched upserts, the lease statement, and how
/// values are written and read. Everything else (<see cref="SqlStateStore"/>, <see cref="SyncState"/>) is shared.
/// Public so the SQL text can be inspected and tested without a server (SQL Server cannot run here).
/// </summary>
public abstract class StateDialect
{
    protected StateDialect(StateStoreOptions options)
    {
        Options = options;
    }

    public StateStoreOptions Options { get; }

    public abstract StateProvider Provider { get; }

    /// <summary>True when one prepared single-row statement per item beats multi-row statements (SQLite, in-process).</summary>
    public virtual bool SingleRowStatements => false;

    /// <summary>Rows per multi-row statement (bounded by each engine's parameter limit).</summary>
    public virtual int RowsPerStatement => 200;

    public abstract string Quote(string identifier);

    /// <summary>The qualified, quoted name of one of the store's tables (schema_version, sync, state, run, run_row).</summary>
    public virtual string Table(string name) => Quote(Options.Schema) + "." + Quote(Options.TablePrefix + name);

    /// <summary>The unquoted table name, as catalog views show it.</summary>
    public string RawTable(string name) => Options.TablePrefix + name;

    public abstract DbConnection CreateConnection(string target);

    /// <summary>Runs once per opened connection (pragmas).</summary>
    public virtual void OnOpen(DbConnection connection)
    {
    }

    // ---- types used by the migrations ----
    protected abstract string Text { get; }          // unbounded text
    protected abstract string Name { get; }          // short names and ids (<= 128)
    protected abstract string KeyType { get; }       // record keys (<= 320)
    protected abstract string HashType { get; }      // 64 hex characters
    protected abstract string Time { get; }
    protected abstract string Bool { get; }
    protected virtual string Int => "integer";
    protected virtual string BigInt => "bigint";
    protected abstract string Identity { get; }      // run_id column definition with primary key
    protected virtual string StampType => Text;      // a record stamp (<= SyncState.MaxStampLength)
    protected virtual string AddColumn => "ADD COLUMN";

    /// <summary>Statements that create the schema (if any) and the schema_version table.</summary>
    public abstract IReadOnlyList<string> BootstrapStatements();

    /// <summary>The forward migrations: element i brings the store from version i to i+1.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Migrations() => new IReadOnlyList<string>[]
    {
        // v1: per-key state and the per-sync row that pins object/key and carries the lease.
        new[]
        {
            $"CREATE TABLE {Table("sync")} (sync_name {Name} NOT NULL PRIMARY KEY, object_name {Name} NULL, sync_key {Name} NULL, " +
            $"created_at {Time} NOT NULL, lease_token {Name} NULL, lease_machine {Name} NULL, lease_process_id {Int} NULL, " +
            $"lease_acquired_at {Time} NULL, lease_heartbeat_at {Time} NULL)",
            $"CREATE TABLE {Table("state")} (sync_name {Name} NOT NULL, record_key {KeyType} NOT NULL, kustomer_id {Name} NULL, " +
            $"payload_hash {HashType} NULL, confirmed_at {Time} NULL, last_error {Text} NULL, attempts {Int} NOT NULL DEFAULT 0, " +
            "PRIMARY KEY (sync_name, record_key))",
        },
        // v2: run history.
        new[]
        {
            $"CREATE TABLE {Table("run")} (run_id {Identity}, sync_name {Name} NOT NULL, object_name {Name} NULL, sync_key {Name} NULL, " +
            $"behavior {Name} NULL, what_if {Bool} NOT NULL, full_sync {Bool} NOT NULL, started_at {Time} NOT NULL, ended_at {Time} NULL, " +
            $"status {Name} NOT NULL, total {BigInt} NOT NULL DEFAULT 0, created {BigInt} NOT NULL DEFAULT 0, updated {BigInt} NOT NULL DEFAULT 0, " +
            $"unchanged {BigInt} NOT NULL DEFAULT 0, invalid {BigInt} NOT NULL DEFAULT 0, failed {BigInt} NOT NULL DEFAULT 0, " +
            $"would_create {BigInt} NOT NULL DEFAULT 0, would_update {BigInt} NOT NULL DEFAULT 0, requests {BigInt} NOT NULL DEFAULT 0, " +
            $"keys_left {BigInt} NULL, machine {Name} NULL, process_id {Int} NULL, message {Text} NULL)",
            $"CREATE INDEX {Quote(Options.TablePrefix + "run_by_sync")} ON {Table("run")} (sync_name, run_id)",
            $"CREATE TABLE {Table("run_row")} (run_id {BigInt} NOT NULL, row_no {BigInt} NOT NULL, record_key {KeyType} NULL, " +
            $"status {Name} NOT NULL, kustomer_id {Name} NULL, error_id {Name} NULL, message {Text} NULL, PRIMARY KEY (run_id, row_no))",
        },
        // v3: pushed-down diff (source_hash), keys that left the source (gone_since), when a row was last tried.
        new[]
        {
            $"ALTER TABLE {Table("state")} {AddColumn} source_hash {Name} NULL",
            $"ALTER TABLE {Table("state")} {AddColumn} gone_since {Time} NULL",
            $"ALTER TABLE {Table("state")} {AddColumn} last_attempt_at {Time} NULL",
        },
        // v4: failed rows kept to be sent again while '$LastRunStart' moves on (a definition's State.Watermark =
        // 'AdvanceAndRetry'), and which runs kept theirs (only those may move the watermark past their failures).
        new[]
        {
            $"CREATE TABLE {Table("retry")} (sync_name {Name} NOT NULL, record_key {KeyType} NOT NULL, row_data {Text} NOT NULL, " +
            $"retried_runs {Int} NOT NULL, failed_at {Time} NOT NULL, PRIMARY KEY (sync_name, record_key))",
            $"ALTER TABLE {Table("run")} {AddColumn} failed_rows_kept {Bool} NULL",
        },
        // v5: which fields held a value in the payload Kustomer last confirmed (paths joined by ','), so that a run
        // can tell that the source suddenly clears a column on many records; null while not known.
        new[]
        {
            $"ALTER TABLE {Table("state")} {AddColumn} valued_fields {Text} NULL",
        },
        // v6: what Kustomer showed of the record right after the last confirmed write (the record stamp, opaque here),
        // so that a later search hit showing the same record can stand in for reading it; null while not known.
        new[]
        {
            $"ALTER TABLE {Table("state")} {AddColumn} record_stamp {StampType} NULL",
        },
    };

    public int LatestVersion => Migrations().Count;

    /// <summary>Serialises schema creation and migration between processes, inside the migration transaction.</summary>
    public abstract string? MigrationLockStatement();

    /// <summary>Counts tables by name (parameter @n): 1 when the table exists.</summary>
    public abstract string TableExistsQuery();

    /// <summary>
    /// Multi-row upsert of confirmations: parameters @s, then per row i @k{i} @i{i} @h{i} @x{i} @v{i} (valued fields)
    /// @r{i} (record stamp) @t{i}.
    /// </summary>
    public virtual string ConfirmStatement(int rows) =>
        $"INSERT INTO {Table("state")} AS t (sync_name, record_key, kustomer_id, payload_hash, source_hash, valued_fields, record_stamp, confirmed_at, last_error, attempts, gone_since, last_attempt_at) VALUES " +
        EachRow(rows, i => $"(@s, @k{i}, @i{i}, @h{i}, @x{i}, @v{i}, @r{i}, @t{i}, NULL, 0, NULL, @t{i})") +
        " ON CONFLICT (sync_name, record_key) DO UPDATE SET kustomer_id = excluded.kustomer_id, payload_hash = excluded.payload_hash, " +
        "source_hash = excluded.source_hash, valued_fields = excluded.valued_fields, record_stamp = excluded.record_stamp, confirmed_at = excluded.confirmed_at, " +
        "last_error = NULL, attempts = 0, gone_since = NULL, last_attempt_at = excluded.last_attempt_at";

    /// <summary>Multi-row upsert of failures: @s, then per row @k{i} @i{i} (known id or null) @e{i} @t{i}. Keeps the confirmed hash.</summary>
    public virtual string FailStatement(int rows) =>
        $"INSERT INTO {Table("state")} AS t (sync_name, record_key, kustomer_id, last_error, attempts, last_attempt_at) VALUES " +
        EachRow(rows, i => $"(@s, @k{i}, @i{i}, @e{i}, 1, @t{i})") +
        " ON CONFLICT (sync_name, record_key) DO UPDATE SET kustomer_id = COALESCE(excluded.kustomer_id, t.kustomer_id), " +
        "last_error = excluded.last_error, attempts = t.attempts + 1, last_attempt_at = excluded.last_attempt_at, source_hash = NULL";

    /// <summary>Multi-row insert of row outcomes: per row @r{i} @n{i} @k{i} @st{i} @i{i} @ei{i} @m{i}.</summary>
    public virtual string OutcomeStatement(int rows) =>
        $"INSERT INTO {Table("run_row")} (run_id, row_no, record_key, status, kustomer_id, error_id, message) VALUES " +
        EachRow(rows, i => $"(@r{i}, @n{i}, @k{i}, @st{i}, @i{i}, @ei{i}, @m{i})");

    /// <summary>Sets source hashes of existing rows: @s, then per row @k{i} @x{i}.</summary>
    public string SourceHashStatement(int rows) => SetColumnStatement("source_hash", rows);

    /// <summary>Sets the valued fields of existing rows (learned for rows confirmed before v5): @s, then per row @k{i} @x{i}.</summary>
    public string ValuedStatement(int rows) => SetColumnStatement("valued_fields", rows);

    /// <summary>Sets one column of existing rows by key: @s, then per row @k{i} and the value @x{i}.</summary>
    protected virtual string SetColumnStatement(string column, int rows)
    {
        if (rows == 1) return $"UPDATE {Table("state")} SET {column} = @x0 WHERE sync_name = @s AND record_key = @k0";
        return $"UPDATE {Table("state")} AS t SET {column} = v.x FROM (VALUES {KeyValueRows(rows)}) AS v (k, x) WHERE t.sync_name = @s AND t.record_key = v.k";
    }

    protected static string KeyValueRows(int rows) => EachRow(rows, i => $"(@k{i}, @x{i})");

    /// <summary>The sync's (@s) keys with a confirmed write, counted per stored set of valued fields (few distinct sets).</summary>
    public string KnownQuery() =>
        $"SELECT valued_fields, COUNT(*) FROM {Table("state")} WHERE sync_name = @s AND confirmed_at IS NOT NULL GROUP BY valued_fields";

    /// <summary>
    /// The row count (total) of the sync's (@s) newest run that was not -WhatIf (@w false) and Succeeded (@ok) or
    /// PartiallyFailed (@partial): one row at most (@limit 1).
    /// </summary>
    public string LastSuccessfulRunRowsQuery() =>
        Select($"total FROM {Table("run")} WHERE sync_name = @s AND what_if = @w AND status IN (@ok, @partial) ORDER BY run_id DESC", limited: true);

    /// <summary>Sets (or with @g null clears) gone_since of keys: @s, @g, then @k{i}.</summary>
    public virtual string GoneStatement(int rows) =>
        $"UPDATE {Table("state")} SET gone_since = @g WHERE sync_name = @s AND record_key IN ({EachRow(rows, i => $"@k{i}")})";

    // ---- failed rows kept for retry: one row per statement, plain SQL that every dialect runs as written ----

    /// <summary>The sync's (@s) kept rows.</summary>
    public string KeptRowsQuery() => $"SELECT record_key, row_data, retried_runs FROM {Table("retry")} WHERE sync_name = @s";

    /// <summary>Forgets a kept row: @s, @k.</summary>
    public string DropKeptRowStatement() => $"DELETE FROM {Table("retry")} WHERE sync_name = @s AND record_key = @k";

    /// <summary>Keeps a row (after <see cref="DropKeptRowStatement"/>): @s, @k, @d (row data), @n (runs that sent it again), @t.</summary>
    public string KeepRowStatement() =>
        $"INSERT INTO {Table("retry")} (sync_name, record_key, row_data, retried_runs, failed_at) VALUES (@s, @k, @d, @n, @t)";

    /// <summary>Marks run @r as having kept its failed rows (@b true).</summary>
    public string RunKeptFailedRowsStatement() => $"UPDATE {Table("run")} SET failed_rows_kept = @b WHERE run_id = @r";

    /// <summary>Rewrites the message of one row outcome: @m, @r, @n.</summary>
    public string RowOutcomeMessageStatement() => $"UPDATE {Table("run_row")} SET message = @m WHERE run_id = @r AND row_no = @n";

    /// <summary>
    /// Starts of the sync's (@s) runs, newest first, that '$LastRunStart' may take when failed rows are kept: not
    /// -WhatIf (@w false), and Succeeded (@ok), or PartiallyFailed (@partial) with their failed rows kept (@b true).
    /// </summary>
    public string AdvancingRunStartsQuery() =>
        $"SELECT started_at FROM {Table("run")} WHERE sync_name = @s AND what_if = @w AND (status = @ok OR (status = @partial AND failed_rows_kept = @b)) ORDER BY run_id DESC";

    /// <summary>The VALUES list of a multi-row statement: one item per row, numbered from 0, comma separated.</summary>
    protected static string EachRow(int rows, Func<int, string> row) => string.Join(", ", Enumerable.Range(0, rows).Select(row));

    /// <summary>Takes the lease when it is free, expired (@stale) or already ours (@tok); creates the sync row on first use.</summary>
    public virtual string AcquireLeaseStatement() =>
        $"INSERT INTO {Table("sync")} AS t (sync_name, created_at, lease_token, lease_machine, lease_process_id, lease_acquired_at, lease_heartbeat_at) " +
        "VALUES (@s, @now, @tok, @m, @p, @now, @now) ON CONFLICT (sync_name) DO UPDATE SET lease_token = excluded.lease_token, " +
        "lease_machine = excluded.lease_machine, lease_process_id = excluded.lease_process_id, lease_acquired_at = excluded.lease_acquired_at, " +
        "lease_heartbeat_at = excluded.lease_heartbeat_at WHERE t.lease_token IS NULL OR t.lease_heartbeat_at < @stale OR t.lease_token = @tok";

    /// <summary>INSERT of a run returning its id.</summary>
    public virtual string StartRunStatement() =>
        $"INSERT INTO {Table("run")} (sync_name, object_name, sync_key, behavior, what_if, full_sync, started_at, status, machine, process_id) " +
        "VALUES (@s, @o, @k, @b, @w, @f, @t, @st, @m, @p) RETURNING run_id";

    /// <summary>SELECT ... with an optional row limit (@limit).</summary>
    public virtual string Select(string body, bool limited) => "SELECT " + body + (limited ? " LIMIT @limit" : "");

    // ---- values ----
    public virtual void AddTime(DbCommand command, string name, DateTime? utc) =>
        Add(command, name, utc is { } t ? DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc) : null, null);

    public virtual DateTime? ReadTime(DbDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal)) return null;
        var value = reader.GetValue(ordinal);
        return value switch
        {
            DateTime d => d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d.ToUniversalTime(),
            DateTimeOffset o => o.UtcDateTime,
            string s => DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            _ => Convert.ToDateTime(value, CultureInfo.InvariantCulture),
        };
    }

    public static void Add(DbCommand command, string name, object? value, DbType? type)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        if (type is { } t) p.DbType = t;
        command.Parameters.Add(p);
    }

    public static void AddText(DbCommand command, string name, string? value) => Add(command, name, value, DbType.String);
}

/// <summary>A SQLite file: WAL mode, tables named with the prefix only (no schemas).</summary>
public sealed class SqliteStateDialect : StateDialect
{
    public SqliteStateDialect(StateStoreOptions options) : base(options)
    {
    }

    public override StateProvider Provider => StateProvider.Sqlite;
    public override bool SingleRowStatements => true;
    public override string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
    public override string Table(string name) => Quote(Options.TablePrefix + name);
    protected override string Text => "TEXT";
    protected override string Name => "TEXT";
    protected override string KeyType => "TEXT";
    protected override string HashType => "TEXT";
    protected override string Time => "TEXT";
    protected override string Bool => "INTEGER";
    protected override string Int => "INTEGER";
    protected override string BigInt => "INTEGER";
    protected override string Identity => "INTEGER PRIMARY KEY AUTOINCREMENT";

    /// <summary>Whether a missing file may be created (false for readers such as Get-KustomerSyncRun).</summary>
    public bool CreateFile { get; set; } = true;

    public override DbConnection CreateConnection(string target)
    {
        Sources.SqliteSetup.EnsureInitialized();
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = target,
            Mode = CreateFile ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Options.CommandTimeoutSeconds,
        };
        return new SqliteConnection(builder.ConnectionString);
    }

    public override void OnOpen(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;";
        command.ExecuteNonQuery();
    }

    public override IReadOnlyList<string> BootstrapStatements() => new[]
    {
        "PRAGMA journal_mode = WAL",
        $"CREATE TABLE IF NOT EXISTS {Table("schema_version")} (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)",
    };

    public override string? MigrationLockStatement() => null; // BEGIN IMMEDIATE already serialises writers

    public override string TableExistsQuery() => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @n";

    /// <summary>Times are stored as fixed-width ISO 8601 UTC text, so text order is time order.</summary>
    public override void AddTime(DbCommand command, string name, DateTime? utc) =>
        AddText(command, name, utc?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
}

/// <summary>Tables in a Postgres schema (default kustomersync).</summary>
public sealed class PostgresStateDialect : StateDialect
{
    public PostgresStateDialect(StateStoreOptions options) : base(options)
    {
    }

    public override StateProvider Provider => StateProvider.Postgres;
    public override int RowsPerStatement => 1000;
    public override string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
    protected override string Text => "text";
    protected override string Name => "text";
    protected override string KeyType => "text";
    protected override string HashType => "text";
    protected override string Time => "timestamptz";
    protected override string Bool => "boolean";
    protected override string Identity => "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";

    public override DbConnection CreateConnection(string target) => new NpgsqlConnection(target);

    public override IReadOnlyList<string> BootstrapStatements() => new[]
    {
        $"CREATE SCHEMA IF NOT EXISTS {Quote(Options.Schema)}",
        $"CREATE TABLE IF NOT EXISTS {Table("schema_version")} (version integer NOT NULL PRIMARY KEY, applied_at timestamptz NOT NULL)",
    };

    /// <summary>A transaction-scoped advisory lock keyed on the schema, so two first runs do not both create tables.</summary>
    public override string? MigrationLockStatement() =>
        $"SELECT pg_advisory_xact_lock(hashtext('kustomersync.migrate.' || {Literal(Options.Schema + "." + Options.TablePrefix)}))";

    public override string TableExistsQuery() =>
        $"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {Literal(Options.Schema)} AND table_name = @n";

    private static string Literal(string text) => "'" + text.Replace("'", "''") + "'";
}

/// <summary>
/// Tables in a SQL Server / Azure SQL schema. MERGE ... WITH (HOLDLOCK) replaces ON CONFLICT. Not run here (no SQL
/// Server on these machines): the statements are checked as text by the tests.
/// </summary>
public sealed class SqlServerStateDialect : StateDialect
{
    public SqlServerStateDialect(StateStoreOptions options) : base(options)
    {
    }

    public override StateProvider Provider => StateProvider.SqlServer;
    public override int RowsPerStatement => 200; // 2,100 parameters per request at most
    public override string Quote(string identifier) => "[" + identifier.Replace("]", "]]") + "]";
    protected override string Text => "nvarchar(max)";
    protected override string Name => "nvarchar(128)";
    protected override string KeyType => "nvarchar(320)"; // (128 + 320) * 2 bytes fits the 900-byte key limit
    protected override string HashType => "char(64)";
    protected override string Time => "datetime2(7)";
    protected override string Bool => "bit";
    protected override string Int => "int";
    protected override string Identity => "bigint IDENTITY(1,1) NOT NULL PRIMARY KEY";
    protected override string StampType => "nvarchar(400)"; // kept in the row, unlike nvarchar(max)
    protected override string AddColumn => "ADD";

    public override DbConnection CreateConnection(string target) => new SqlConnection(target);

    public override IReadOnlyList<string> BootstrapStatements() => new[]
    {
        $"IF SCHEMA_ID({Literal(Options.Schema)}) IS NULL EXEC('CREATE SCHEMA {Quote(Options.Schema)}')",
        $"IF OBJECT_ID({Literal(Options.Schema + "." + RawTable("schema_version"))}, 'U') IS NULL " +
        $"CREATE TABLE {Table("schema_version")} (version int NOT NULL PRIMARY KEY, applied_at datetime2(7) NOT NULL)",
    };

    public override string? MigrationLockStatement() =>
        $"EXEC sp_getapplock @Resource = {Literal("kustomersync.migrate." + Options.Schema + "." + Options.TablePrefix)}, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 60000";

    public override string TableExistsQuery() =>
        $"SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = {Literal(Options.Schema)} AND TABLE_NAME = @n";

    public override string ConfirmStatement(int rows) =>
        MergeIntoState(EachRow(rows, i => $"(@k{i}, @i{i}, @h{i}, @x{i}, @v{i}, @r{i}, @t{i})"), "record_key, kustomer_id, payload_hash, source_hash, valued_fields, record_stamp, at",
            "WHEN MATCHED THEN UPDATE SET kustomer_id = v.kustomer_id, payload_hash = v.payload_hash, source_hash = v.source_hash, " +
            "valued_fields = v.valued_fields, record_stamp = v.record_stamp, confirmed_at = v.at, last_error = NULL, attempts = 0, gone_since = NULL, last_attempt_at = v.at " +
            "WHEN NOT MATCHED THEN INSERT (sync_name, record_key, kustomer_id, payload_hash, source_hash, valued_fields, record_stamp, confirmed_at, attempts, last_attempt_at) " +
            "VALUES (@s, v.record_key, v.kustomer_id, v.payload_hash, v.source_hash, v.valued_fields, v.record_stamp, v.at, 0, v.at);");

    public override string FailStatement(int rows) =>
        MergeIntoState(EachRow(rows, i => $"(@k{i}, @i{i}, @e{i}, @t{i})"), "record_key, kustomer_id, last_error, at",
            "WHEN MATCHED THEN UPDATE SET kustomer_id = COALESCE(v.kustomer_id, t.kustomer_id), last_error = v.last_error, " +
            "attempts = t.attempts + 1, last_attempt_at = v.at, source_hash = NULL " +
            "WHEN NOT MATCHED THEN INSERT (sync_name, record_key, kustomer_id, last_error, attempts, last_attempt_at) " +
            "VALUES (@s, v.record_key, v.kustomer_id, v.last_error, 1, v.at);");

    /// <summary>A MERGE of the VALUES rows (named <paramref name="columns"/>) into this sync's (@s) state rows, matched by record key.</summary>
    private string MergeIntoState(string values, string columns, string actions) =>
        $"MERGE INTO {Table("state")} WITH (HOLDLOCK) AS t USING (VALUES {values}) AS v ({columns}) ON t.sync_name = @s AND t.record_key = v.record_key {actions}";

    protected override string SetColumnStatement(string column, int rows) =>
        rows == 1 ? base.SetColumnStatement(column, 1)
            : $"UPDATE t SET {column} = v.x FROM {Table("state")} AS t JOIN (VALUES {KeyValueRows(rows)}) AS v (k, x) ON t.record_key = v.k WHERE t.sync_name = @s";

    public override string AcquireLeaseStatement() =>
        $"UPDATE {Table("sync")} WITH (UPDLOCK, HOLDLOCK) SET lease_token = @tok, lease_machine = @m, lease_process_id = @p, " +
        "lease_acquired_at = @now, lease_heartbeat_at = @now " +
        "WHERE sync_name = @s AND (lease_token IS NULL OR lease_heartbeat_at < @stale OR lease_token = @tok); " +
        $"IF @@ROWCOUNT = 0 AND NOT EXISTS (SELECT 1 FROM {Table("sync")} WITH (UPDLOCK, HOLDLOCK) WHERE sync_name = @s) " +
        $"INSERT INTO {Table("sync")} (sync_name, created_at, lease_token, lease_machine, lease_process_id, lease_acquired_at, lease_heartbeat_at) " +
        "VALUES (@s, @now, @tok, @m, @p, @now, @now);";

    public override string StartRunStatement() =>
        $"INSERT INTO {Table("run")} (sync_name, object_name, sync_key, behavior, what_if, full_sync, started_at, status, machine, process_id) " +
        "OUTPUT INSERTED.run_id VALUES (@s, @o, @k, @b, @w, @f, @t, @st, @m, @p)";

    public override string Select(string body, bool limited) => "SELECT " + (limited ? "TOP (@limit) " : "") + body;

    public override void AddTime(DbCommand command, string name, DateTime? utc) =>
        Add(command, name, utc is { } t ? DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Unspecified) : null, DbType.DateTime2);

    private static string Literal(string text) => "N'" + text.Replace("'", "''") + "'";
}
