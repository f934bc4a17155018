namespace KustomerSync.State.Tests;

/// <summary>The entry a pushed-down row carries, from the added columns as a data reader gives them (DBNull for SQL NULL).</summary>
public class PushedDownRowTests
{
    [Fact]
    public void The_record_stamp_column_comes_last_and_reaches_the_entry()
    {
        Assert.Equal("__ks_stamp", PushedDownDiff.StampColumn);
        Assert.Equal(PushedDownDiff.StampColumn, PushedDownDiff.AddedColumns[^1]);
        var hash = PayloadHash.Compute(null);

        var known = PushedDownDiff.EntryFromRow(hash.ToString(), "5f1b", 0, "name", "7|2026-12-01T10:00:00.000Z|5f1c");
        Assert.Equal("7|2026-12-01T10:00:00.000Z|5f1c", known.Stamp);
        Assert.Equal("5f1b", known.KustomerId);
        Assert.Equal(hash, known.Hash);

        var unknown = PushedDownDiff.EntryFromRow(hash.ToString(), "5f1b", 1, DBNull.Value, DBNull.Value);
        Assert.Null(unknown.Stamp);
        Assert.True(unknown.HasError);
        Assert.Null(PushedDownDiff.EntryFromRow(DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value).Stamp);
    }
}
