using System.Collections;
using System.Collections.Specialized;
using System.Data.Common;
using System.Management.Automation;
using KustomerSync.Cmdlets.Binding;
using System.Net;
using KustomerSync.Engine.Sources;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Cmdlets;

/// <summary>
/// Runs a parameterised query against a source and streams one object per row, as each row is read: memory stays flat
/// whatever the result size. NULL becomes $null, dates are UTC, decimals are System.Decimal, JSON and array columns
/// are strings. Passwords, tokens and keys never appear in output, verbose text or errors.
/// </summary>
[Cmdlet(VerbsCommon.Get, "SourceRows", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Get-SourceRows.md", DefaultParameterSetName = ProviderSet)]
[OutputType(typeof(PSObject))]
public sealed class GetSourceRowsCommand : KustomerCmdlet
{
    private const string ProviderSet = "Provider";
    private const string ConnectionSet = "Connection";

    /// <summary>SqlServer (Azure SQL, Synapse), Postgres, Redshift, MySql (MariaDB), Sqlite, Snowflake, Databricks, BigQuery, Elasticsearch, GoogleSheets.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProviderSet)]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string Provider { get; set; } = "";

    /// <summary>The provider's connection string (Key=Value;...); see docs/providers.md for each provider's keys.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ProviderSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionString { get; set; } = "";

    /// <summary>User name and password (or token, or key passphrase) merged into the connection string.</summary>
    [Parameter(ParameterSetName = ProviderSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>An open ADO.NET connection of any provider; it is left open.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ConnectionSet)]
    [ValidateNotNull]
    public DbConnection Connection { get; set; } = null!;

    /// <summary>The query (for GoogleSheets: the range in A1 notation).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Query { get; set; } = "";

    /// <summary>Query parameters, bound as real parameters. Use [ordered]@{} for providers that bind by position (Snowflake, Elasticsearch).</summary>
    [Parameter]
    public IDictionary? Parameters { get; set; }

    /// <summary>Seconds the query may run; 0 waits for ever. Default 300.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    [WholeNumber]
    public int CommandTimeout { get; set; } = 300;

    protected override void EndProcessing()
    {
        var query = new SourceQuery(Query) { CommandTimeout = CommandTimeout == 0 ? null : TimeSpan.FromSeconds(CommandTimeout) };
        if (Parameters is not null)
        {
            foreach (DictionaryEntry entry in Parameters)
                query.Parameters[entry.Key.ToString()!] = entry.Value is PSObject ps ? ps.BaseObject : entry.Value;
            query.ParametersOrdered = Parameters.Count <= 1 || Parameters is OrderedDictionary || Parameters.GetType().Name.StartsWith("Sorted", StringComparison.Ordinal);
        }

        var providerName = ParameterSetName == ProviderSet ? Provider : Connection.GetType().Name;
        var activity = $"Reading rows from {providerName}";
        long rows = 0;
        try
        {
            var credential = Credential is null ? null : new NetworkCredential(Credential.UserName, Credential.Password);
            using var reader = ParameterSetName == ProviderSet ? SourceProviders.Create(Provider, ConnectionString, credential) : SourceProviders.ForConnection(Connection);
            Narrate(ParameterSetName == ProviderSet
                ? $"{reader.Provider} at {reader.Target} (connection string: {ConnectionStrings.Display(ConnectionString)}{(Credential is null ? "" : $"; credential of user '{Credential.UserName}'")})"
                : $"Connection {Connection.GetType().FullName} to {reader.Target}");
            Narrate($"Query with {query.Parameters.Count} parameter(s): {string.Join(", ", query.Parameters.Keys)}; timeout {(CommandTimeout == 0 ? "none" : CommandTimeout + " s")}");

            string[]? names = null;
            foreach (var row in reader.Read(query, Cancellation))
            {
                names ??= row.Columns.Names;
                var item = new PSObject();
                var properties = item.Properties;
                var values = row.Values;
                for (var i = 0; i < names.Length; i++) properties.Add(new PSNoteProperty(names[i], values[i]), true);
                WriteObject(item);
                if (++rows % 1000 == 0) Progress(1, activity, $"{rows:N0} rows");
            }
            Narrate($"{rows:N0} rows read from {reader.Provider}.");
        }
        catch (SourceException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, providerName));
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException and not ActionPreferenceStopException and not PSInvalidOperationException and not OperationCanceledException)
        {
            var wrapped = new SourceException(ErrorIds.SourceReadFailed,
                $"Reading from {providerName} failed: {ConnectionStrings.Redact(ex.Message)}");
            ThrowTerminatingError(ToErrorRecord(wrapped, providerName));
        }
        finally
        {
            CompleteProgress(1, activity);
        }
    }

    protected override string? Advice(string errorId) => errorId switch
    {
        ErrorIds.SourceUnknownProvider => "Press Tab after -Provider to list the known providers, or open the connection yourself and pass it with -Connection.",
        ErrorIds.SourceInvalidConnectionString => "Fix the connection string where the message says; a password or token can also come as the password of -Credential.",
        ErrorIds.SourceMissingParameter => "Supply every placeholder of the query in -Parameters.",
        ErrorIds.SourceInvalidParameter => "Where the provider binds by position, pass -Parameters as [ordered]@{ ... } or name the keys 1, 2, 3; GoogleSheets takes no -Parameters (filter its rows with Where-Object).",
        ErrorIds.SourceTimeout => "Raise -CommandTimeout (seconds), or make the query cheaper.",
        _ => base.Advice(errorId),
    };
}

/// <summary>Completes -Provider with the providers the module knows.</summary>
public sealed class ProviderCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, IDictionary fakeBoundParameters) =>
        SourceProviders.Names
            .Where(n => n.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
}
