using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>What the planner asks the state store: the remembered id of a key, whether its payload is unchanged, and what it knows of it.</summary>
public interface IStateLookup
{
    string? KnownKustomerId(string key);
    bool IsUnchanged(string key, PayloadHash hash);
    bool IsUnchanged(StateEntry entry, PayloadHash hash);
    bool TryGetEntry(string key, out StateEntry entry);
}

/// <summary>A state session as the planner sees it.</summary>
internal sealed class SyncStateLookup : IStateLookup
{
    private readonly SyncState _state;

    public SyncStateLookup(SyncState state) => _state = state;

    public string? KnownKustomerId(string key) => _state.KnownKustomerId(key);
    public bool IsUnchanged(string key, PayloadHash hash) => _state.IsUnchanged(key, hash);
    public bool IsUnchanged(StateEntry entry, PayloadHash hash) => _state.IsUnchanged(entry, hash);
    public bool TryGetEntry(string key, out StateEntry entry) => _state.TryGetEntry(key, out entry);
}
