namespace KustomerSync.Engine.State;

// TEMPORARY stand-ins for hstate's contract, removed when it merges.
public sealed record KnownRecords(long Records, IReadOnlyDictionary<string, long> HadValue);

public static class TempContract
{
    public static KnownRecords Known(this SyncState state)
    {
        var had = new Dictionary<string, long>(StringComparer.Ordinal);
        long records = 0;
        foreach (var entry in state.Entries.Values)
        {
            if (entry.Hash.IsEmpty) continue;
            records++;
            foreach (var path in entry.Valued?.Paths ?? Array.Empty<string>()) had[path] = had.TryGetValue(path, out var n) ? n + 1 : 1;
        }
        return new KnownRecords(records, had);
    }

    public static void RecordValued(this SyncState state, string key, ValuedFields valued) { }

    public static void Confirm(this SyncState state, string key, string kustomerId, PayloadHash hash, DateTime confirmedUtc, string? sourceHash, ValuedFields? valued) =>
        state.Confirm(key, kustomerId, hash, confirmedUtc, sourceHash);

    public static long? LastSuccessfulRunRows(this IStateStore store, string syncName) =>
        store.Runs(syncName).LastOrDefault(r => !r.WhatIf && r.Status is SyncRunStatus.Succeeded or SyncRunStatus.PartiallyFailed)?.Total;
}
