namespace KustomerSync.Engine.Sources;

/// <summary>The column names of a result, shared by all its rows; duplicate names are made unique (id, id_2, ...).</summary>
public sealed class SourceColumns
{
    public SourceColumns(IReadOnlyList<string> names)
    {
        var unique = new string[names.Count];
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Count; i++)
        {
            var name = string.IsNullOrWhiteSpace(names[i]) ? $"Column{i + 1}" : names[i];
            var candidate = name;
            for (var n = 2; !seen.Add(candidate); n++) candidate = $"{name}_{n}";
            unique[i] = candidate;
        }
        Names = unique;
    }

    public string[] Names { get; }
}

/// <summary>One row read from a source: values already normalised (null, UTC dates, exact decimals).</summary>
public sealed record SourceRow(SourceColumns Columns, object?[] Values);
