using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using KustomerSync.Engine.State;
using Npgsql;

// Usage: dotnet run -c Release --project bench/state -- [--entries 100000] [--rows 1000000] [--changed-percent 1]
// Postgres parts need KUSTOMERSYNC_TEST_POSTGRES (tests/servers/TestServers.psm1 starts one).
var entries = Arg("--entries", 100_000);
var rows = Arg("--rows", 1_000_000);
var changedPercent = Arg("--changed-percent", 1);
var cs = Environment.GetEnvironmentVariable("KUSTOMERSYNC_TEST_POSTGRES");

Console.WriteLine($"# State bench {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine();
Console.WriteLine("## Entry load");
Console.WriteLine();
Console.WriteLine("| store | entries | write (confirm + flush) | load (Open) | managed memory of the entries |");
Console.WriteLine("|---|---:|---:|---:|---:|");
var folder = Path.Combine(Path.GetTempPath(), "ks-state-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(folder);
try
{
    LoadBench("SQLite file", StateStores.Sqlite(Path.Combine(folder, "state.db"), new StateStoreOptions { FlushBatchSize = 5000 }), entries);
    LoadBench("SQLite file, record stamps", StateStores.Sqlite(Path.Combine(folder, "stamped.db"), new StateStoreOptions { FlushBatchSize = 5000 }), entries, stamped: true);
    if (cs is not null)
    {
        var schema = "ksbench_" + Guid.NewGuid().ToString("N").Substring(0, 8);
        try
        {
            LoadBench("Postgres table", StateStores.Postgres(cs, new StateStoreOptions { Schema = schema, FlushBatchSize = 5000 }), entries);
        }
        finally
        {
            Exec(cs, $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
        Console.WriteLine();
        DiffBench(cs, rows, changedPercent);
    }
    else Console.WriteLine("\nKUSTOMERSYNC_TEST_POSTGRES is not set: Postgres parts skipped.");
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(folder, true);
}

// stamped: each entry also keeps a record stamp as a single-record write leaves it (revision, updatedAt to the
// millisecond, no company), so the load shows what schema v6's stamps cost in memory.
static void LoadBench(string name, IStateStore store, int count, bool stamped = false)
{
    var now = DateTime.UtcNow;
    var watch = Stopwatch.StartNew();
    using (var s = store.Open(new SyncStateOptions("bench") { Object = "Customer", SyncKey = "ExternalId" }))
    {
        for (var i = 0; i < count; i++)
            s.Confirm("cust-" + i.ToString(CultureInfo.InvariantCulture), "5f" + i.ToString("x22", CultureInfo.InvariantCulture), Hash(i), now,
                stamp: stamped ? $"{1 + i % 7}|{now.AddMilliseconds(i):yyyy-MM-dd'T'HH:mm:ss.fff'Z'}|" : null);
        s.Flush();
    }
    var write = watch.Elapsed;
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var before = GC.GetTotalMemory(true);
    watch.Restart();
    var state = store.Open(new SyncStateOptions("bench") { Object = "Customer", SyncKey = "ExternalId" });
    var load = watch.Elapsed;
    var after = GC.GetTotalMemory(true);
    if (state.Entries.Count != count) throw new InvalidOperationException("entry count");
    Console.WriteLine($"| {name} | {count:N0} | {write.TotalSeconds:0.00} s | {load.TotalSeconds:0.00} s | {(after - before) / 1048576.0:0.0} MB ({(after - before) / (double)count:0} B/entry) |");
    GC.KeepAlive(state);
    state.Dispose();
}

static void DiffBench(string cs, int rows, int changedPercent)
{
    var schema = "ksdiff_" + Guid.NewGuid().ToString("N").Substring(0, 8);
    var options = new StateStoreOptions { Schema = schema, FlushBatchSize = 5000 };
    var store = StateStores.Postgres(cs, options);
    var sync = new SyncStateOptions("diff") { Object = "Customer", SyncKey = "ExternalId" };
    try
    {
        var watch = Stopwatch.StartNew();
        Exec(cs, $"""
            CREATE SCHEMA "{schema}";
            CREATE TABLE "{schema}".customers (id bigint PRIMARY KEY, email text, full_name text, plan text, ltv numeric(12,2),
              signed_up timestamptz, active boolean, score float8);
            INSERT INTO "{schema}".customers SELECT g, 'user' || g || '@example.com', 'Customer ' || g, (ARRAY['free','pro','team'])[g % 3 + 1],
              (g % 10000) * 1.25, timestamptz '2020-01-01Z' + g * interval '37 seconds', g % 7 <> 0, g / 13.0
            FROM generate_series(1, {rows}) g;
            ANALYZE "{schema}".customers;
            """);
        var userQuery = $"""SELECT id::text AS "externalId", email, full_name AS name, plan AS "tierStr", ltv AS "lifetimeValueNum", signed_up AS "signedUpAt", active AS "activeBool", score AS "scoreNum" FROM "{schema}".customers""";
        Console.WriteLine($"## Diff of {rows:N0} Postgres rows, {changedPercent}% changed");
        Console.WriteLine();
        Console.WriteLine($"Source table created in {watch.Elapsed.TotalSeconds:0.0} s.");

        // Initial sync: every row comes through the pushed-down query (no state yet); confirm payload hash and source hash.
        store.EnsureSchema();
        var q = PushedDownDiff.BuildQuery(userQuery, "externalId", sync.SyncName, store);
        watch.Restart();
        long initial = 0;
        using (var state = store.Open(sync))
        {
            var now = DateTime.UtcNow;
            ReadRows(cs, q, (key, payload, sourceHash, _) =>
            {
                state.Confirm(key, "k" + key, PayloadHash.Compute(payload), now, sourceHash);
                initial++;
            });
            state.Flush();
        }
        Console.WriteLine($"Initial state written for {initial:N0} rows (read, hash, confirm) in {watch.Elapsed.TotalSeconds:0.0} s.");

        var every = 100 / changedPercent;
        Exec(cs, $"""UPDATE "{schema}".customers SET plan = plan || '+' WHERE id % {every} = 0""");
        var expected = rows / every;
        Console.WriteLine();
        Console.WriteLine("| diff | rows read from Postgres | changed rows found | state load (Open) | query + read + map + hash + compare | total |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");

        // Client-side: load the state, read every row, map to a payload, hash, compare.
        GC.Collect();
        var memoryBefore = GC.GetTotalMemory(true);
        long entryMemory;
        watch.Restart();
        var clientChanged = new HashSet<string>();
        long clientRead = 0;
        TimeSpan clientLoad;
        using (var state = store.Open(sync))
        {
            clientLoad = watch.Elapsed;
            entryMemory = GC.GetTotalMemory(false) - memoryBefore;
            watch.Stop();
            entryMemory = GC.GetTotalMemory(true) - memoryBefore;
            watch.Start();
            ReadRows(cs, new PushedDownQueryShim(userQuery), (key, payload, _, _) =>
            {
                clientRead++;
                if (!state.IsUnchanged(key, PayloadHash.Compute(payload))) clientChanged.Add(key);
            });
        }
        var clientTotal = watch.Elapsed;
        Console.WriteLine($"| client-side (all rows leave the database) | {clientRead:N0} | {clientChanged.Count:N0} | {clientLoad.TotalSeconds:0.00} s | {(clientTotal - clientLoad).TotalSeconds:0.00} s | {clientTotal.TotalSeconds:0.00} s |");

        // Pushed-down: the database joins the state and returns only changed rows; the client still checks payload hashes.
        GC.Collect();
        watch.Restart();
        var pushedChanged = new HashSet<string>();
        long pushedRead = 0;
        TimeSpan pushedLoad;
        using (var state = store.Open(new SyncStateOptions("diff") { Object = "Customer", SyncKey = "ExternalId", LoadEntries = false }))
        {
            pushedLoad = watch.Elapsed;
            ReadRows(cs, q, (key, payload, _, entry) =>
            {
                pushedRead++;
                if (!state.IsUnchanged(entry, PayloadHash.Compute(payload))) pushedChanged.Add(key);
            });
        }
        var pushedTotal = watch.Elapsed;
        Console.WriteLine($"| pushed-down (only changed rows leave it) | {pushedRead:N0} | {pushedChanged.Count:N0} | {pushedLoad.TotalSeconds:0.00} s (entries not loaded) | {(pushedTotal - pushedLoad).TotalSeconds:0.00} s | {pushedTotal.TotalSeconds:0.00} s |");
        Console.WriteLine();
        Console.WriteLine($"Client-side: {state1M(entryMemory)} of managed memory for the 1,000,000 loaded entries.");
        Console.WriteLine($"Expected changed rows: {expected:N0}; both diffs agree: {clientChanged.SetEquals(pushedChanged) && pushedChanged.Count == expected}.");
    }
    finally
    {
        NpgsqlConnection.ClearAllPools();
        Exec(cs, $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    }
}

static string state1M(long bytes) => $"{bytes / 1048576.0:0} MB";

static void ReadRows(string cs, object query, Action<string, JsonObject, string?, StateEntry> onRow)
{
    var (sql, parameters) = query switch
    {
        PushedDownQuery p => (p.Sql, p.Parameters),
        PushedDownQueryShim s => (s.Sql, (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>()),
        _ => throw new ArgumentException(),
    };
    using var connection = new NpgsqlConnection(cs);
    connection.Open();
    using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
    foreach (var p in parameters) command.Parameters.AddWithValue(p.Key, p.Value ?? DBNull.Value);
    using var reader = command.ExecuteReader();
    var hashOrdinal = -1;
    for (var i = 0; i < reader.FieldCount; i++) if (reader.GetName(i) == PushedDownDiff.SourceHashColumn) hashOrdinal = i;
    var names = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
    var userColumns = hashOrdinal >= 0 ? hashOrdinal : names.Length; // the added columns follow the user's
    while (reader.Read())
    {
        var payload = new JsonObject();
        string? key = null;
        for (var i = 0; i < userColumns; i++)
        {
            var value = reader.IsDBNull(i) ? null : reader.GetValue(i);
            if (names[i] == "externalId") key = (string)value!;
            payload[names[i]] = value switch
            {
                null => null,
                string s => JsonValue.Create(s),
                decimal m => JsonValue.Create(m),
                double d => JsonValue.Create(d),
                long l => JsonValue.Create(l),
                bool b => JsonValue.Create(b),
                DateTime t => JsonValue.Create(t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
                _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
            };
        }
        var entry = hashOrdinal >= 0 ? PushedDownDiff.EntryFromRow(reader.GetValue(hashOrdinal + 1), reader.GetValue(hashOrdinal + 2), reader.GetValue(hashOrdinal + 3),
            reader.GetValue(hashOrdinal + 4), reader.GetValue(hashOrdinal + 5)) : default;
        onRow(key!, payload, hashOrdinal >= 0 ? reader.GetString(hashOrdinal) : null, entry);
    }
}

static void Exec(string cs, string sql)
{
    using var connection = new NpgsqlConnection(cs);
    connection.Open();
    using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
    command.ExecuteNonQuery();
}

static PayloadHash Hash(int i) => PayloadHash.Compute(new JsonObject { ["n"] = i, ["name"] = "Customer " + i });

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed record PushedDownQueryShim(string Sql);
