namespace KustomerSync.Engine.Sources;

/// <summary>What to read: a query with bound parameters against one provider.</summary>
public sealed class SourceQuery
{
    public SourceQuery(string query)
    {
        Query = query;
    }

    public string Query { get; }
    public IDictionary<string, object?> Parameters { get; } = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
    public TimeSpan? CommandTimeout { get; set; }
}
