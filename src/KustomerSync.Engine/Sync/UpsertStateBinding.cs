using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>Ties an upsert run to a state session: incremental writes, remembered ids, run history.</summary>
public sealed class UpsertStateBinding
{
    public UpsertStateBinding(SyncState state, bool reportKeysLeft)
    {
        State = state;
        ReportKeysLeft = reportKeysLeft;
    }

    public SyncState State { get; }

    /// <summary>Report keys the store knew that the input no longer has; only right when the input is the whole table.</summary>
    public bool ReportKeysLeft { get; }
}
