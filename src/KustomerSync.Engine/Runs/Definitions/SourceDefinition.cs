using System.Text;
using KustomerSync.Engine.Sources;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>The source of a definition: what to read and how to connect.</summary>
public sealed record SourceDefinition
{
    public static readonly DateTime DefaultFirstRunStart = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The canonical provider name (Postgres, SqlServer, ...).</summary>
    public string Provider { get; init; } = "";
    /// <summary>The connection string written in the file, or null when it comes from a secret.</summary>
    public string? ConnectionString { get; init; }
    public SecretReference? ConnectionStringSecret { get; init; }
    /// <summary>User name merged into the connection string with <see cref="Password"/>.</summary>
    public string? UserName { get; init; }
    /// <summary>The password (or token) merged into the connection string; an Automation credential brings its own user name.</summary>
    public SecretReference? Password { get; init; }
    public string Query { get; init; } = "";
    /// <summary>Parameters in the order written; a value of <see cref="LastRunStartToken"/> becomes the last successful run's start.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Parameters { get; init; } = [];
    /// <summary>The value given for the last successful run start when there is none (the first run, or -FullSync).</summary>
    public DateTime FirstRunStart { get; init; } = DefaultFirstRunStart;
    public int? CommandTimeoutSeconds { get; init; }
    /// <summary>The query's column that carries the sync key (the pushed-down diff compares it with the state).</summary>
    public string? KeyColumn { get; init; }

    /// <summary>True when some parameter takes the last successful run's start.</summary>
    public bool UsesLastRunStart => Parameters.Any(p => p.Value is LastRunStartToken);

    // A literal connection string may hold a token or secret the parser lets through (it refuses only passwords): masked.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Provider = {Provider}, ConnectionString = {(ConnectionString is null ? null : ConnectionStrings.Display(ConnectionString))}, ")
            .Append($"ConnectionStringSecret = {ConnectionStringSecret}, UserName = {UserName}, Password = {Password}, Query = {Query}, ")
            .Append($"Parameters = {Parameters.Count}, FirstRunStart = {FirstRunStart:O}, CommandTimeoutSeconds = {CommandTimeoutSeconds}, KeyColumn = {KeyColumn}");
        return true;
    }
}
