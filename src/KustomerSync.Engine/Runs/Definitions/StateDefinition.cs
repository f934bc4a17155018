using System.Text;
using KustomerSync.Engine.Sources;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>Where the sync's state (hashes, ids, lease, run history) lives.</summary>
public sealed record StateDefinition
{
    public const int DefaultRetryRuns = 5;

    public StateProvider Provider { get; init; } = StateProvider.Sqlite;
    /// <summary>The SQLite file, absolute (relative paths are resolved against the definition's folder).</summary>
    public string? Path { get; init; }
    public string? ConnectionString { get; init; }
    public SecretReference? ConnectionStringSecret { get; init; }
    public string? Schema { get; init; }
    public string? TablePrefix { get; init; }
    /// <summary>What '$LastRunStart' is after a run that rejected rows (State.Watermark).</summary>
    public StateWatermark Watermark { get; init; } = StateWatermark.LastSuccessfulRun;
    /// <summary>With <see cref="StateWatermark.AdvanceAndRetry"/>: in how many later runs a failed row is sent again before it is given up (State.RetryRuns).</summary>
    public int RetryRuns { get; init; } = DefaultRetryRuns;

    public StateStoreOptions StoreOptions()
    {
        var options = new StateStoreOptions();
        if (Schema is not null) options.Schema = Schema;
        if (TablePrefix is not null) options.TablePrefix = TablePrefix;
        return options;
    }

    // A literal connection string may hold a token or secret the parser lets through: masked.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Provider = {Provider}, Path = {Path}, ConnectionString = {(ConnectionString is null ? null : ConnectionStrings.Display(ConnectionString))}, ")
            .Append($"ConnectionStringSecret = {ConnectionStringSecret}, Schema = {Schema}, TablePrefix = {TablePrefix}, Watermark = {Watermark}, RetryRuns = {RetryRuns}");
        return true;
    }
}
