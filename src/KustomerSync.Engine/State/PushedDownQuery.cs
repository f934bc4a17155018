namespace KustomerSync.Engine.State;

/// <summary>A source query rewritten to return only new and changed rows, with the parameters it adds.</summary>
public sealed record PushedDownQuery
{
    internal PushedDownQuery(string sql, IReadOnlyDictionary<string, object?> parameters)
    {
        Sql = sql;
        Parameters = parameters;
    }

    /// <summary>The SQL to run instead of the user's query, on the same connection and with the user's parameters too.</summary>
    public string Sql { get; }

    /// <summary>Parameters to bind in addition to the user's (names without the @ prefix).</summary>
    public IReadOnlyDictionary<string, object?> Parameters { get; }

    /// <summary>The extra column carrying each row's source hash: strip it before mapping, pass it to Confirm/RecordSourceHash.</summary>
    public string SourceHashColumn => PushedDownDiff.SourceHashColumn;

    /// <summary>
    /// Every column the rewrite adds (source hash, and the state's payload hash, Kustomer id, failed flag, valued
    /// fields and record stamp of the key, so the session need not load entries): strip them all before mapping.
    /// </summary>
    public IReadOnlyList<string> AddedColumns => PushedDownDiff.AddedColumns;
}
