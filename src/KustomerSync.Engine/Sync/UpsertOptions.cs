using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

public sealed class UpsertOptions
{
    public UpsertOptions(KustomerObject target, RecordKey key)
    {
        Target = target;
        Key = key;
    }

    public KustomerObject Target { get; }
    public RecordKey Key { get; }
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
    /// <summary>
    /// Create on a custom-attribute key that search did not find even when the org has records older than two years,
    /// which search cannot see (one of them may hold the key). Off: such rows fail with KustomerSync.KeyNotProvablyAbsent.
    /// </summary>
    public bool CreateOnSearchMiss { get; set; }
    /// <summary>
    /// The share of the org's rate budget this run may use (0 &lt; share ≤ 1). The budget is shared with the org's agents'
    /// apps and other integrations (§10), so by default a sync leaves a quarter of it to them.
    /// </summary>
    public double BudgetShare { get; set; } = DefaultBudgetShare;
    /// <summary>At most this many requests a rate window (Kustomer's window is a minute) as well as the share; null: no such cap.</summary>
    public int? MaxRequestsPerMinute { get; set; }
    public const double DefaultBudgetShare = 0.75;
    /// <summary>Created records carry importedAt (a backfill): KObjects so marked are exempt from 120 creates a minute per customer.</summary>
    public bool Backfill { get; set; }
}
