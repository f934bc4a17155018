using Npgsql;

namespace KustomerSync.State.Tests;

/// <summary>Against the real Postgres: the pushed-down diff and permissions.</summary>
public class PostgresStoreTests
{
    private static readonly SyncStateOptions Sync = new("pg-customers") { Object = "Customer", SyncKey = "ExternalId" };

    private static List<(string Key, string Hash)> Run(Harness h, PushedDownQuery q, string? since = null) =>
        RunWithState(h, q, since).Select(r => (r.Key, r.Hash)).ToList();

    private static List<(string Key, string Hash, StateEntry Entry)> RunWithState(Harness h, PushedDownQuery q, string? since = null)
    {
        using var connection = (NpgsqlConnection)h.Connect();
        using var command = new NpgsqlCommand(q.Sql, connection);
        foreach (var p in q.Parameters) command.Parameters.AddWithValue(p.Key, p.Value ?? DBNull.Value);
        if (since is not null) command.Parameters.AddWithValue("since", since);
        using var reader = command.ExecuteReader();
        var keyOrdinal = reader.GetOrdinal("externalId");
        var hashOrdinal = reader.GetOrdinal(q.SourceHashColumn);
        Assert.Equal(q.AddedColumns, Enumerable.Range(reader.FieldCount - q.AddedColumns.Count, q.AddedColumns.Count).Select(reader.GetName));
        var rows = new List<(string, string, StateEntry)>();
        while (reader.Read())
            rows.Add((reader.GetValue(keyOrdinal).ToString()!, reader.GetString(hashOrdinal),
                PushedDownDiff.EntryFromRow(reader.GetValue(reader.GetOrdinal(PushedDownDiff.PayloadHashColumn)),
                    reader.GetValue(reader.GetOrdinal(PushedDownDiff.KustomerIdColumn)), reader.GetValue(reader.GetOrdinal(PushedDownDiff.FailedColumn)),
                    reader.GetValue(reader.GetOrdinal(PushedDownDiff.ValuedColumn)), reader.GetValue(reader.GetOrdinal(PushedDownDiff.StampColumn)))));
        return rows.OrderBy(r => r.Item1, StringComparer.Ordinal).ToList();
    }

    [SkippableFact]
    public void Pushed_down_diff_returns_exactly_the_new_and_changed_rows()
    {
        using var h = new Harness(StateProvider.Postgres);
        var schema = h.Options.Schema;
        h.Exec($"""
            CREATE SCHEMA IF NOT EXISTS "{schema}";
            CREATE TABLE "{schema}".src (id integer PRIMARY KEY, name text, score numeric(12,2), ratio float8, at timestamptz, day date,
              active boolean, tags text[], doc jsonb, uid uuid, big bigint, note varchar(50));
            INSERT INTO "{schema}".src SELECT g, 'name ' || g, g * 1.5, g / 7.0, timestamptz '2026-01-01 00:00:00Z' + g * interval '1 minute',
              date '2026-01-01' + g, g % 2 = 0, ARRAY['t' || g, 'x'], jsonb_build_object('k', g, 'nested', jsonb_build_object('a', g % 3)),
              md5(g::text)::uuid, g::bigint * 1000000000, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END
            FROM generate_series(1, 1000) g;
            """);
        var userQuery = $"""SELECT id AS "externalId", name, score, ratio, at, day, active, tags, doc, uid, big, note FROM "{schema}".src;""";
        var q = PushedDownDiff.BuildQuery(userQuery, "externalId", Sync.SyncName, h.Store);
        Assert.Equal("__ks_source_hash", q.SourceHashColumn);

        // first run: no state, every row is new (the session is opened first: it creates the state table the query joins)
        h.Store.EnsureSchema();
        var first = Run(h, q);
        Assert.Equal(1000, first.Count);
        Assert.All(first, r => Assert.Matches("^[0-9a-f]{32}$", r.Hash));
        using (var state = h.Store.Open(Sync))
            foreach (var (key, hash) in first)
                state.Confirm(key, "k-" + key, PayloadHash.Compute(null), DateTime.UtcNow, sourceHash: hash, valued: key == "10" ? ValuedFields.Of(new[] { "score", "name" }) : null,
                    stamp: key == "10" ? "3|2026-12-01T10:00:00.000Z|5f1b" : null);

        // second run: nothing changed, nothing leaves the database
        Assert.Empty(Run(h, q));

        // change 1% across column types, add two rows
        h.Exec($"""
            UPDATE "{schema}".src SET name = name || '!' WHERE id IN (3, 4);
            UPDATE "{schema}".src SET score = score + 0.01 WHERE id = 10;
            UPDATE "{schema}".src SET ratio = ratio * 2 WHERE id = 20;
            UPDATE "{schema}".src SET at = at + interval '1 second' WHERE id = 30;
            UPDATE "{schema}".src SET day = day + 1 WHERE id = 40;
            UPDATE "{schema}".src SET active = NOT active WHERE id = 50;
            UPDATE "{schema}".src SET tags = array_append(tags, 'y') WHERE id = 60;
            UPDATE "{schema}".src SET doc = jsonb_set(doc, ARRAY['nested','a'], '99') WHERE id = 70;
            UPDATE "{schema}".src SET note = NULL WHERE id = 81;
            UPDATE "{schema}".src SET name = name WHERE id = 90;  -- a write that changes nothing
            INSERT INTO "{schema}".src (id, name) VALUES (1001, 'new'), (1002, NULL);
            """);
        var changedRows = RunWithState(h, q);
        var changed = changedRows.Select(r => (r.Key, r.Hash)).ToList();
        Assert.Equal(new[] { "10", "1001", "1002", "20", "3", "30", "4", "40", "50", "60", "70", "81" }, changed.Select(r => r.Key));
        // the state of each key comes with the row: no entries need loading
        var e10 = changedRows.Single(r => r.Key == "10").Entry;
        Assert.Equal("k-10", e10.KustomerId);
        Assert.Equal(PayloadHash.Compute(null), e10.Hash);
        Assert.False(e10.HasError);
        Assert.Equal(ValuedFields.Of(new[] { "name", "score" }), e10.Valued);
        Assert.Null(changedRows.Single(r => r.Key == "3").Entry.Valued);
        Assert.Equal("3|2026-12-01T10:00:00.000Z|5f1b", e10.Stamp);
        Assert.Null(changedRows.Single(r => r.Key == "3").Entry.Stamp);
        Assert.Null(changedRows.Single(r => r.Key == "1001").Entry.Stamp);
        Assert.Null(changedRows.Single(r => r.Key == "1001").Entry.Valued);
        Assert.Null(changedRows.Single(r => r.Key == "1001").Entry.KustomerId);
        Assert.True(changedRows.Single(r => r.Key == "1001").Entry.Hash.IsEmpty);

        using (var state = h.Store.Open(Sync))
        {
            foreach (var (key, hash) in changed)
            {
                if (key == "20") state.Fail(key, "HTTP 500");                                // failed: comes back next time
                else if (key == "30") state.RecordSourceHash(key, hash);                    // payload unchanged: store the source hash only
                else if (key == "40") state.Confirm(key, "k-40", PayloadHash.Compute(null), DateTime.UtcNow); // confirmed by a normal run: no source hash
                else state.Confirm(key, "k-" + key, default, DateTime.UtcNow, sourceHash: hash);
            }
        }
        var again = RunWithState(h, q);
        Assert.Equal(new[] { "20", "40" }, again.Select(r => r.Key));
        Assert.True(again[0].Entry.HasError);
        using (var lean = h.Store.Open(new SyncStateOptions(Sync.SyncName) { LoadEntries = false }))
        {
            Assert.Empty(lean.Entries);
            Assert.False(lean.IsUnchanged(again[0].Entry, PayloadHash.Compute(null))); // failed last time: resend
            Assert.True(lean.IsUnchanged(again[1].Entry, PayloadHash.Compute(null)));
        }

        // a new mapping fingerprint (salt) brings every row out once
        var remapped = PushedDownDiff.BuildQuery(userQuery, "externalId", Sync.SyncName, h.Store, salt: "mapping v2");
        var all = Run(h, remapped);
        Assert.Equal(1002, all.Count);
        Assert.NotEqual(first.Single(r => r.Key == "1").Hash, all.Single(r => r.Key == "1").Hash);
        using (var state = h.Store.Open(Sync))
            foreach (var (key, hash) in all) state.RecordSourceHash(key, hash);
        Assert.Empty(Run(h, remapped));
        Assert.Equal(1002, Run(h, q).Count); // and the old fingerprint no longer matches

        // keys that left the source, in SQL
        h.Exec($"""DELETE FROM "{schema}".src WHERE id IN (5, 6)""");
        var gone = PushedDownDiff.BuildKeysGoneQuery(userQuery, "externalId", Sync.SyncName, h.Store.Dialect.Table("state"));
        using var connection = (NpgsqlConnection)h.Connect();
        using var command = new NpgsqlCommand(gone.Sql, connection);
        command.Parameters.AddWithValue(PushedDownDiff.SyncParameter, Sync.SyncName);
        using var reader = command.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read()) keys.Add(reader.GetString(0));
        Assert.Equal(new[] { "5", "6" }, keys);
    }

    [SkippableFact]
    public void Pushed_down_diff_keeps_the_user_s_parameters()
    {
        using var h = new Harness(StateProvider.Postgres);
        var schema = h.Options.Schema;
        h.Exec($"""CREATE SCHEMA IF NOT EXISTS "{schema}"; CREATE TABLE "{schema}".src (id text, v text); INSERT INTO "{schema}".src VALUES ('a', 'x'), ('b', 'y');""");
        h.Store.EnsureSchema();
        var q = PushedDownDiff.BuildQuery($"""select id as "externalId", v from "{schema}".src where v >= @since""", "externalId", "s", h.Store);
        Assert.Equal(new[] { "b" }, Run(h, q, since: "y").Select(r => r.Key));
    }

    [SkippableFact]
    public void Pushed_down_diff_matches_email_keys_without_regard_to_case()
    {
        using var h = new Harness(StateProvider.Postgres);
        var schema = h.Options.Schema;
        h.Exec($"""CREATE SCHEMA IF NOT EXISTS "{schema}"; CREATE TABLE "{schema}".src (email text, v text); INSERT INTO "{schema}".src VALUES ('Ada@Example.com', 'x'), ('bob@example.com', 'y');""");
        h.Store.EnsureSchema();
        var q = PushedDownDiff.BuildQuery($"""select email as "externalId", v from "{schema}".src""", "externalId", "mails", h.Store, lowerCaseKey: true);
        var first = Run(h, q);
        Assert.Equal(2, first.Count);
        using (var s = h.Store.Open(new SyncStateOptions("mails") { KeyComparer = StringComparer.OrdinalIgnoreCase }))
            foreach (var (key, hash) in first) s.Confirm(key, "k", PayloadHash.Compute(null), DateTime.UtcNow, hash);
        Assert.Empty(Run(h, q));
    }

    [SkippableFact]
    public void A_login_without_permissions_gets_a_clear_error()
    {
        using var h = new Harness(StateProvider.Postgres);
        var role = "ks_noperm_" + Guid.NewGuid().ToString("N").Substring(0, 8);
        h.Exec($"CREATE ROLE {role} LOGIN");
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(h.PostgresConnectionString) { Username = role };
            var store = StateStores.Postgres(builder.ConnectionString, new StateStoreOptions { Schema = h.Options.Schema });
            var ex = Assert.Throws<StateException>(() => store.Open(Sync));
            Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
            Assert.Contains("permission denied", ex.Message);
            Assert.Contains(h.Options.Schema, ex.Message);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            h.Exec($"DROP ROLE {role}");
        }
    }

    [SkippableFact]
    public void An_unreachable_server_is_a_clear_error()
    {
        Harness.RequirePostgres();
        var store = StateStores.Postgres("Host=127.0.0.1;Port=1;Username=u;Password=secret;Timeout=3");
        var ex = Assert.Throws<StateException>(() => store.Open(Sync));
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
        Assert.DoesNotContain("secret", ex.Message);
    }
}
