using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>What the planner asks the state store: what it knows of a key, and whether a payload is the one Kustomer confirmed.</summary>
public interface IStateLookup
{
    bool TryGetEntry(string key, out StateEntry entry);
    bool IsUnchanged(StateEntry entry, PayloadHash hash);
}

/// <summary>A state session as the planner sees it.</summary>
internal sealed class SyncStateLookup : IStateLookup
{
    private readonly SyncState _state;

    public SyncStateLookup(SyncState state) => _state = state;

    public bool TryGetEntry(string key, out StateEntry entry) => _state.TryGetEntry(key, out entry);
    public bool IsUnchanged(StateEntry entry, PayloadHash hash) => _state.IsUnchanged(entry, hash);
}
