namespace KustomerSync.State.Tests;

/// <summary>What only a file can get wrong.</summary>
public class SqliteStoreTests
{
    [Fact]
    public void A_file_that_is_not_a_database_is_a_clear_error()
    {
        using var h = new Harness(StateProvider.Sqlite);
        File.WriteAllBytes(h.Path_, Enumerable.Range(0, 8192).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var ex = Assert.Throws<StateException>(() => h.Store.Open(new SyncStateOptions("customers")));
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
        Assert.Contains(h.Path_, ex.Message);
        Assert.Contains("restore it from a backup", ex.Message);
    }

    [Fact]
    public void A_damaged_database_is_a_clear_error_not_a_resync()
    {
        using var h = new Harness(StateProvider.Sqlite);
        using (var s = h.Store.Open(new SyncStateOptions("customers")))
            for (var i = 0; i < 2000; i++) s.Confirm("c-" + i, "k", default, DateTime.UtcNow);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        // overwrite everything after the header page: the tables' pages are garbage now
        using (var f = new FileStream(h.Path_, FileMode.Open, FileAccess.Write))
        {
            f.Position = 100;
            var junk = Enumerable.Repeat((byte)0x5A, (int)Math.Min(f.Length - 100, 64 * 1024)).ToArray();
            f.Write(junk, 0, junk.Length);
        }
        var ex = Assert.Throws<StateException>(() => h.NewStore().Open(new SyncStateOptions("customers")));
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
    }

    [Fact]
    public void Readers_do_not_create_a_missing_file()
    {
        using var h = new Harness(StateProvider.Sqlite);
        var missing = Path.Combine(h.Folder, "nope.db");
        var store = StateStores.Sqlite(missing, createIfMissing: false);
        var ex = Assert.Throws<StateException>(() => store.Runs());
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
        Assert.Contains("no state file", ex.Message);
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public void A_database_that_is_not_a_state_store_is_not_read_as_empty_history()
    {
        using var h = new Harness(StateProvider.Sqlite);
        h.Exec("CREATE TABLE customers (id INTEGER)");
        var ex = Assert.Throws<StateException>(() => StateStores.Sqlite(h.Path_, createIfMissing: false).Runs());
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
        Assert.Contains("holds no KustomerSync state", ex.Message);
    }

    [Fact]
    public void KustomerSync_tables_without_a_version_are_damaged()
    {
        using var h = new Harness(StateProvider.Sqlite);
        using (h.Store.Open(new SyncStateOptions("customers")))
        {
        }
        h.Exec("DROP TABLE schema_version");
        var ex = Assert.Throws<StateException>(() => h.NewStore().Open(new SyncStateOptions("customers")));
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
        Assert.Contains("no schema_version", ex.Message);
    }

    [Fact]
    public void A_directory_in_place_of_the_file_is_a_clear_error()
    {
        using var h = new Harness(StateProvider.Sqlite);
        Directory.CreateDirectory(h.Path_);
        var ex = Assert.Throws<StateException>(() => h.Store.Open(new SyncStateOptions("customers")));
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
    }

    [Fact]
    public void The_file_is_not_held_open_after_a_session_or_a_read()
    {
        using var h = new Harness(StateProvider.Sqlite);
        using (var s = h.Store.Open(new SyncStateOptions("customers")))
            s.FinishRun(s.StartRun(new SyncRunStart()), new UpsertSummary(), SyncRunStatus.Succeeded, DateTime.UtcNow);
        var moved = h.Path_ + ".moved";
        File.Move(h.Path_, moved);
        File.Move(moved, h.Path_);
        var reader = StateStores.Sqlite(h.Path_, createIfMissing: false);
        Assert.Single(reader.Runs("customers"));
        reader.ReleaseConnections();
        var fds = Directory.Exists("/proc/self/fd")
            ? Directory.GetFiles("/proc/self/fd").Count(fd => { try { return new FileInfo(fd).LinkTarget == h.Path_; } catch (IOException) { return false; } })
            : 0;
        Assert.Equal(0, fds);
    }

    [Fact]
    public void Invalid_names_are_refused()
    {
        Assert.Equal("KustomerSync.StateInvalidArgument", Assert.Throws<StateException>(() => StateStores.Sqlite("x.db", new StateStoreOptions { TablePrefix = "a;drop" })).ErrorId);
        Assert.Equal("KustomerSync.StateInvalidArgument", Assert.Throws<StateException>(() => StateStores.Postgres("Host=x", new StateStoreOptions { Schema = "1x" })).ErrorId);
        using var h = new Harness(StateProvider.Sqlite);
        Assert.Equal("KustomerSync.StateInvalidArgument", Assert.Throws<StateException>(() => h.Store.Open(new SyncStateOptions(""))).ErrorId);
    }

    [Fact]
    public void Connection_strings_are_shown_without_secrets()
    {
        var store = StateStores.Postgres("Host=db;Username=u;Password=hunter2;Database=d");
        Assert.DoesNotContain("hunter2", store.Display);
        Assert.Contains("****", store.Display);
    }
}
