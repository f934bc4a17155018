using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs.Alerts;
using KustomerSync.Engine.Runs.Guards;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>The source of a definition: what to read and how to connect.</summary>
public sealed class SourceDefinition
{
    /// <summary>The canonical provider name (Postgres, SqlServer, ...).</summary>
    public string Provider { get; internal set; } = "";
    /// <summary>The connection string written in the file, or null when it comes from a secret.</summary>
    public string? ConnectionString { get; internal set; }
    public SecretReference? ConnectionStringSecret { get; internal set; }
    /// <summary>User name merged into the connection string with <see cref="Password"/>.</summary>
    public string? UserName { get; internal set; }
    /// <summary>The password (or token) merged into the connection string; an Automation credential brings its own user name.</summary>
    public SecretReference? Password { get; internal set; }
    public string Query { get; internal set; } = "";
    /// <summary>Parameters in the order written; a value of <see cref="LastRunStartToken"/> becomes the last successful run's start.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Parameters { get; internal set; } = Array.Empty<KeyValuePair<string, object?>>();
    /// <summary>The value given for the last successful run start when there is none (the first run, or -FullSync).</summary>
    public DateTime FirstRunStart { get; internal set; } = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public int? CommandTimeoutSeconds { get; internal set; }
    /// <summary>The query's column that carries the sync key (the pushed-down diff compares it with the state).</summary>
    public string? KeyColumn { get; internal set; }

    /// <summary>True when some parameter takes the last successful run's start.</summary>
    public bool UsesLastRunStart => Parameters.Any(p => p.Value is LastRunStartToken);
}

/// <summary>The parameter value that stands for the last successful run's start time ('$LastRunStart').</summary>
public sealed class LastRunStartToken
{
    public static readonly LastRunStartToken Instance = new();
    private LastRunStartToken() { }
    public override string ToString() => "$LastRunStart";
}

/// <summary>The Kustomer organization and where its key comes from.</summary>
public sealed class DestinationDefinition
{
    public string? Organization { get; internal set; }
    public string? Region { get; internal set; }
    public Uri BaseUri { get; internal set; } = null!;
    public SecretReference ApiKey { get; internal set; } = null!;
}

/// <summary>Where the sync's state (hashes, ids, lease, run history) lives.</summary>
public sealed class StateDefinition
{
    public StateProvider Provider { get; internal set; } = StateProvider.Sqlite;
    /// <summary>The SQLite file, absolute (relative paths are resolved against the definition's folder).</summary>
    public string? Path { get; internal set; }
    public string? ConnectionString { get; internal set; }
    public SecretReference? ConnectionStringSecret { get; internal set; }
    public string? Schema { get; internal set; }
    public string? TablePrefix { get; internal set; }
    /// <summary>What '$LastRunStart' is after a run that rejected rows (State.Watermark).</summary>
    public StateWatermark Watermark { get; internal set; } = StateWatermark.LastSuccessfulRun;
    /// <summary>With <see cref="StateWatermark.AdvanceAndRetry"/>: in how many later runs a failed row is sent again before it is given up (State.RetryRuns).</summary>
    public int RetryRuns { get; internal set; } = DefaultRetryRuns;

    public const int DefaultRetryRuns = 5;

    public StateStoreOptions StoreOptions()
    {
        var options = new StateStoreOptions();
        if (Schema is not null) options.Schema = Schema;
        if (TablePrefix is not null) options.TablePrefix = TablePrefix;
        return options;
    }
}

/// <summary>Who hears of a run that nobody watches: a webhook (Teams, Slack, one's own) and, on Windows, the event log.</summary>
public sealed class AlertsDefinition
{
    /// <summary>Where the webhook's URL comes from (it is a secret: its path is the webhook's credential); null for no posts.</summary>
    public SecretReference? Webhook { get; internal set; }
    public WebhookFormat Format { get; internal set; } = WebhookFormat.Auto;
    public AlertPolicy Policy { get; internal set; } = new();
    /// <summary>An Application event log entry per run on Windows (Alerts.EventLog, on by default).</summary>
    public bool EventLog { get; internal set; } = true;
}

/// <summary>What '$LastRunStart' becomes after a run that rejected rows.</summary>
public enum StateWatermark
{
    /// <summary>The start of the last run in which every row succeeded: rejected rows are read again until they succeed.</summary>
    LastSuccessfulRun,

    /// <summary>
    /// The start of each run that completed, rejected rows or not; the rows that failed at Kustomer are kept in the
    /// state store and sent again by the next runs (<see cref="StateDefinition.RetryRuns"/> at most).
    /// </summary>
    AdvanceAndRetry,
}

/// <summary>
/// One declarative sync, validated: source, destination, object, key, behaviour, mapping and state. Build it with
/// <see cref="SyncDefinitionParser.Parse"/> from the plain dictionaries of a .psd1 file.
/// </summary>
public sealed class SyncDefinition
{
    public string Name { get; internal set; } = "";
    public string? Description { get; internal set; }
    /// <summary>The file it came from (absolute), for messages; relative paths in it are resolved against its folder.</summary>
    public string DefinitionPath { get; internal set; } = "";
    public SourceDefinition Source { get; } = new();
    public DestinationDefinition Destination { get; } = new();
    public KustomerObject Target { get; internal set; } = KustomerObject.Customer;
    public RecordKey Key { get; internal set; } = RecordKey.Parse("ExternalId", KustomerObject.Customer);
    public SyncBehavior Behavior { get; internal set; } = SyncBehavior.UpdateOrCreate;
    /// <summary>Kustomer field → a column name (string) or a computed value (<see cref="DefinitionExpression"/>), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Mapping { get; internal set; } = Array.Empty<KeyValuePair<string, object>>();
    public bool SkipNull { get; internal set; }
    public int ThrottleLimit { get; internal set; } = 8;
    public StateDefinition State { get; } = new();
    public AlertsDefinition Alerts { get; } = new();

    /// <summary>The guards against a broken source (Guards = @{ ... }); null when the file turns them off (Force = $true).</summary>
    public GuardSettings? Guards { get; internal set; } = GuardSettings.Default;
    public bool FullSync { get; internal set; }
    public bool ReportKeysLeft { get; internal set; }
    public bool PushDown { get; internal set; }
    /// <summary>Create on a custom-key search miss even when older records, which search cannot see, may hold the key.</summary>
    public bool CreateOnSearchMiss { get; internal set; }
    /// <summary>Created records carry importedAt (see <see cref="UpsertOptions.Backfill"/>).</summary>
    public bool Backfill { get; internal set; }
    /// <summary>The share of the org's rate budget the sync may use (see <see cref="UpsertOptions.BudgetShare"/>).</summary>
    public double BudgetShare { get; internal set; } = UpsertOptions.DefaultBudgetShare;
    /// <summary>At most this many requests a rate window; null: only the share caps them.</summary>
    public int? MaxRequestsPerMinute { get; internal set; }

    /// <summary>Every secret the definition names, for the host to resolve.</summary>
    public IEnumerable<SecretReference> Secrets()
    {
        if (Source.ConnectionStringSecret is { } a) yield return a;
        if (Source.Password is { } b) yield return b;
        yield return Destination.ApiKey;
        if (State.ConnectionStringSecret is { } c) yield return c;
    }
}
