namespace KustomerSync.Engine.State;

/// <summary>What the state store remembers of one key, as loaded at the start of a session (a small value type).</summary>
public readonly struct StateEntry
{
    private readonly long _confirmedTicks;
    private readonly long _goneTicks;
    private readonly int _attempts;
    private readonly bool _hasError;

    public StateEntry(string? kustomerId, PayloadHash hash, DateTime? confirmedAt, int attempts, bool hasError, DateTime? goneSince, ValuedFields? valued = null, string? stamp = null)
    {
        KustomerId = kustomerId;
        Hash = hash;
        _confirmedTicks = confirmedAt?.Ticks ?? 0;
        _goneTicks = goneSince?.Ticks ?? 0;
        _attempts = attempts;
        _hasError = hasError;
        Valued = valued;
        Stamp = stamp;
    }

    /// <summary>The Kustomer id last confirmed (or learned during a failed write); saves the lookup.</summary>
    public string? KustomerId { get; }

    /// <summary>Hash of the payload Kustomer last confirmed; empty when no write was ever confirmed.</summary>
    public PayloadHash Hash { get; }

    public DateTime? ConfirmedAt => _confirmedTicks == 0 ? null : new DateTime(_confirmedTicks, DateTimeKind.Utc);

    /// <summary>Failed attempts since the last confirmation.</summary>
    public int Attempts => _attempts;

    /// <summary>True when the last attempt failed (the error text stays in the store).</summary>
    public bool HasError => _hasError;

    /// <summary>When the key was first found missing from the source (null while it is present).</summary>
    public DateTime? GoneSince => _goneTicks == 0 ? null : new DateTime(_goneTicks, DateTimeKind.Utc);

    /// <summary>
    /// The fields that held a value in the payload Kustomer last confirmed; null when not known (confirmed before
    /// schema v5, or never confirmed).
    /// </summary>
    public ValuedFields? Valued { get; }

    /// <summary>
    /// What Kustomer showed of the record right after the last confirmed write (the caller's opaque text, see
    /// <see cref="SyncState.Confirm"/>); null when not known (confirmed before schema v6, or by a write that did not
    /// say, or never confirmed).
    /// </summary>
    public string? Stamp { get; }
}
