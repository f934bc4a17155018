namespace KustomerSync.Engine.Sync;

/// <summary>
/// What the rows planned so far would do to the records the state knows (records with a confirmed payload): how many
/// they change, and per field how many they clear that had a value. The guards against a broken source judge these.
/// </summary>
public sealed class PlanTally
{
    private readonly Dictionary<string, long> _cleared = new(StringComparer.Ordinal);

    /// <summary>Known records the rows would write with a changed payload.</summary>
    public long Changes { get; private set; }

    /// <summary>Per field: known records that had a value in it and that the rows would clear.</summary>
    public IReadOnlyDictionary<string, long> Cleared => _cleared;

    internal void Count(PlannedRecord planned)
    {
        if (!planned.ChangesKnownRecord) return;
        Changes++;
        foreach (var field in planned.ClearsKnownValues) _cleared[field] = _cleared.TryGetValue(field, out var n) ? n + 1 : 1;
    }
}
