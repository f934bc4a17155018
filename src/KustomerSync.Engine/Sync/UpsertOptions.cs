namespace KustomerSync.Engine.Sync;

public sealed class UpsertOptions
{
    public UpsertOptions(SyncTarget target, SyncKey key)
    {
        Target = target;
        Key = key;
    }

    public SyncTarget Target { get; }
    public SyncKey Key { get; }
    public SyncBehavior Behavior { get; set; } = SyncBehavior.UpdateOrCreate;
    /// <summary>Plan only: lookups are made, writes are not.</summary>
    public bool WhatIf { get; set; }
    /// <summary>Requests in flight at once.</summary>
    public int ThrottleLimit { get; set; } = 8;
    /// <summary>How many times a create whose answer was lost is looked up and tried again.</summary>
    public int MaxCreateAttempts { get; set; } = 4;
    /// <summary>Use Kustomer's bulk endpoints for batches of rows when the key can follow bulk jobs.</summary>
    public bool AllowBulk { get; set; } = true;
    /// <summary>A last partial batch smaller than this goes through the single-record path.</summary>
    public int BulkMinimum { get; set; } = 20;
}
