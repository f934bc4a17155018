using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Sync;

/// <summary>One input row as the engine sees it: column names and values, plus the original object for results.</summary>
public sealed class InputRecord
{
    public InputRecord(long row, string[] names, object?[] values, object? source)
    {
        Row = row;
        Names = names;
        Values = values;
        Source = source;
    }

    public long Row { get; }
    public string[] Names { get; }
    public object?[] Values { get; }
    public object? Source { get; }

    public object? this[string name]
    {
        get
        {
            for (var i = 0; i < Names.Length; i++)
                if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase)) return Values[i];
            return null;
        }
    }
}
