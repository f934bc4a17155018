namespace KustomerSync.Engine.Sources;

/// <summary>
/// Reads the rows of one query from one source, one at a time as they arrive, so memory does not grow with the
/// result (a database reader reads forward; a REST reader holds one page, partition or chunk at a time).
/// Failures surface as <see cref="SourceException"/>, with every secret masked.
/// </summary>
public interface ISourceReader
{
    /// <summary>The provider's name as the user knows it (Postgres, Snowflake, ...).</summary>
    string Provider { get; }

    /// <summary>Where it reads from, safe to show: host:port, account, endpoint; never a secret.</summary>
    string Target { get; }

    IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken);
}
