namespace KustomerSync.Engine.Sources;

/// <summary>
/// Reads the rows of one query from one source, one at a time as they arrive, so memory does not grow with the
/// result (a database reader reads forward; a REST reader holds one page, partition or chunk at a time).
/// Failures surface as <see cref="SourceException"/>, with every secret masked. A reader owns what it opens (HTTP
/// clients and their connections, database connections) and closes it when disposed, even when a read was abandoned
/// half-way; whoever creates one disposes it.
/// </summary>
public interface ISourceReader : IDisposable
{
    /// <summary>The provider's name as the user knows it (Postgres, Snowflake, ...).</summary>
    string Provider { get; }

    /// <summary>Where it reads from, safe to show: host:port, account, endpoint; never a secret.</summary>
    string Target { get; }

    IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken);
}
