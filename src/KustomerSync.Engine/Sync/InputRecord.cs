namespace KustomerSync.Engine.Sync;

/// <summary>One input row as the engine sees it: column names and values, plus the original object for results.</summary>
public sealed record InputRecord(long Row, string[] Names, object?[] Values, object? Source)
{
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
