using KustomerSync.Engine.Sync;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs.Guards;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>
/// One declarative sync, validated: source, destination, object, key, behaviour, mapping and state. Build it with
/// <see cref="SyncDefinitionParser.Parse"/> from the plain dictionaries of a .psd1 file.
/// </summary>
public sealed record SyncDefinition
{
    public const int DefaultThrottleLimit = 8;

    public string Name { get; init; } = "";
    public string? Description { get; init; }
    /// <summary>The file it came from (absolute), for messages; relative paths in it are resolved against its folder.</summary>
    public string DefinitionPath { get; init; } = "";
    public SourceDefinition Source { get; init; } = new();
    public DestinationDefinition Destination { get; init; } = new();
    public KustomerObject Target { get; init; } = KustomerObject.Customer;
    public RecordKey Key { get; init; } = RecordKey.Parse("ExternalId", KustomerObject.Customer);
    public SyncBehavior Behavior { get; init; } = SyncBehavior.UpdateOrCreate;
    /// <summary>Kustomer field → a column name (string) or a computed value (<see cref="DefinitionExpression"/>), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Mapping { get; init; } = [];
    public bool SkipNull { get; init; }
    public int ThrottleLimit { get; init; } = DefaultThrottleLimit;
    public StateDefinition State { get; init; } = new();
    public AlertsDefinition Alerts { get; init; } = new();

    /// <summary>The guards against a broken source (Guards = @{ ... }); null when the file turns them off (Force = $true).</summary>
    public GuardSettings? Guards { get; init; } = GuardSettings.Default;
    public bool FullSync { get; init; }
    public bool ReportKeysLeft { get; init; }
    public bool PushDown { get; init; }
    /// <summary>Create on a custom-key search miss even when older records, which search cannot see, may hold the key.</summary>
    public bool CreateOnSearchMiss { get; init; }
    /// <summary>Created records carry importedAt (see <see cref="UpsertOptions.Backfill"/>).</summary>
    public bool Backfill { get; init; }
    /// <summary>The share of the org's rate budget the sync may use (see <see cref="UpsertOptions.BudgetShare"/>).</summary>
    public double BudgetShare { get; init; } = UpsertOptions.DefaultBudgetShare;
    /// <summary>At most this many requests a rate window; null: only the share caps them.</summary>
    public int? MaxRequestsPerMinute { get; init; }

    /// <summary>Every secret the definition names, for the host to resolve.</summary>
    public IEnumerable<SecretReference> Secrets()
    {
        if (Source.ConnectionStringSecret is { } a) yield return a;
        if (Source.Password is { } b) yield return b;
        yield return Destination.ApiKey;
        if (State.ConnectionStringSecret is { } c) yield return c;
    }
}
