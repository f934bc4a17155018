namespace KustomerSync;

/// <summary>Counts of one upsert run. Created+Updated+Unchanged+Invalid+Failed+WouldCreate+WouldUpdate = Total.</summary>
public sealed class UpsertSummary
{
    /// <summary>The sync's name in the state store; null when the run kept no state.</summary>
    public string? Sync { get; set; }
    /// <summary>The run's id in the state store's run history (Get-KustomerSyncRun -RunId).</summary>
    public long? RunId { get; set; }
    public string Object { get; set; } = "";
    public string SyncKey { get; set; } = "";
    public SyncBehavior Behavior { get; set; }
    public bool WhatIf { get; set; }
    public long Total { get; set; }
    public long Created { get; set; }
    public long Updated { get; set; }
    public long Unchanged { get; set; }
    public long Invalid { get; set; }
    public long Failed { get; set; }
    public long WouldCreate { get; set; }
    public long WouldUpdate { get; set; }
    /// <summary>HTTP requests sent to Kustomer.</summary>
    public long Requests { get; set; }
    /// <summary>429 responses received.</summary>
    public long RateLimited { get; set; }
    public long Retries { get; set; }
    public bool Cancelled { get; set; }
    /// <summary>True when rows went through Kustomer's bulk endpoints (the key can follow bulk jobs).</summary>
    public bool UsedBulk { get; set; }
    /// <summary>Keys synced before that this run's input no longer has (only when asked for).</summary>
    public long? KeysLeft { get; set; }
    /// <summary>The org's requests a rate window, as Kustomer reported them (shared by every app and key of the org); null when not reported.</summary>
    public int? RateLimit { get; set; }
    /// <summary>Requests a window the sync allowed itself: its share of <see cref="RateLimit"/>.</summary>
    public int? RateBudget { get; set; }
    /// <summary>The most requests the process's syncs sent to the org in one window while this run ran.</summary>
    public int? RateUsed { get; set; }
    /// <summary>What the sync left to the org's other apps in its busiest window.</summary>
    public int? RateLeft => RateLimit is { } limit && RateUsed is { } used ? Math.Max(0, limit - used) : null;
    /// <summary>
    /// The guards against a broken source that refused this run before any write (EmptySource, SourceShrank,
    /// TooManyChanges, FieldCleared), or under -WhatIf would have; empty when none tripped.
    /// </summary>
    public string[] GuardsTripped { get; set; } = Array.Empty<string>();
    public TimeSpan Elapsed { get; set; }
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Math.Round(Total / Elapsed.TotalSeconds, 1) : 0;

    /// <summary>One line for logs and the console: "Customer by ExternalId: 300 rows, 12 created, ... in 4.2 s (310 requests)."</summary>
    public override string ToString()
    {
        var parts = WhatIf
            ? $"{WouldCreate:N0} would be created, {WouldUpdate:N0} would be updated"
            : $"{Created:N0} created, {Updated:N0} updated";
        var ended = Cancelled ? ", stopped early"
            : GuardsTripped.Length > 0 ? (WhatIf ? $", nothing written (WhatIf; refused by {string.Join(", ", GuardsTripped)})" : $", refused by {string.Join(", ", GuardsTripped)}: nothing written")
            : WhatIf ? ", nothing written (WhatIf)" : "";
        // The default sync name ("Customer:ExternalId") would only repeat what follows.
        var named = Sync is not null && Sync != $"{Object}:{SyncKey}";
        return $"{(named ? Sync + ": " : "")}{Object} by {SyncKey}: {Total:N0} rows, {parts}, {Unchanged:N0} unchanged, {Invalid:N0} invalid, " +
            $"{Failed:N0} failed in {Elapsed.TotalSeconds:N1} s ({Requests:N0} requests{(RateLimited > 0 ? $", {RateLimited:N0} rate-limited" : "")}){ended}" +
            (RateLimit is { } limit && RateUsed is { } used
                ? $"; at most {used:N0} of the org's {limit:N0} requests a rate window (budget {RateBudget:N0}), {RateLeft:N0} left to its other apps."
                : ".");
    }

    public void Count(UpsertStatus status)
    {
        Total++;
        switch (status)
        {
            case UpsertStatus.Created: Created++; break;
            case UpsertStatus.Updated: Updated++; break;
            case UpsertStatus.Unchanged: Unchanged++; break;
            case UpsertStatus.Invalid: Invalid++; break;
            case UpsertStatus.Failed: Failed++; break;
            case UpsertStatus.WouldCreate: WouldCreate++; break;
            case UpsertStatus.WouldUpdate: WouldUpdate++; break;
        }
    }
}
