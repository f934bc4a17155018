using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>Ties an upsert run to a state session: incremental writes, remembered ids, run history.</summary>
/// <param name="ReportKeysLeft">Report keys the store knew that the input no longer has; only right when the input is the whole table.</param>
public sealed record UpsertStateBinding(SyncState State, bool ReportKeysLeft);
