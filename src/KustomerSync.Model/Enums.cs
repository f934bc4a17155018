namespace KustomerSync;

/// <summary>The outcome of one input row. Every row ends as exactly one of these.</summary>
public enum UpsertStatus
{
    Created,
    Updated,
    Unchanged,
    Invalid,
    Failed,
    WouldCreate,
    WouldUpdate,
}

/// <summary>What a sync may do to Kustomer records.</summary>
public enum SyncBehavior
{
    UpdateOrCreate,
    UpdateOnly,
    CreateOnly,
}
