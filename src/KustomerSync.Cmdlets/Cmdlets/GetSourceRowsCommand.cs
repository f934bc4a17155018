using System.Collections;
using System.Data.Common;
using System.Management.Automation;
using KustomerSync.Engine.Sources;

namespace KustomerSync.Cmdlets;

/// <summary>Runs a parameterised query against a source and streams one object per row.</summary>
[Cmdlet(VerbsCommon.Get, "SourceRows", DefaultParameterSetName = ProviderSet)]
[OutputType(typeof(PSObject))]
public sealed class GetSourceRowsCommand : KustomerCmdlet
{
    private const string ProviderSet = "Provider";
    private const string ConnectionSet = "Connection";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProviderSet)]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string Provider { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ProviderSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionString { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ConnectionSet)]
    [ValidateNotNull]
    public DbConnection Connection { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Query { get; set; } = "";

    [Parameter]
    public IDictionary? Parameters { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int CommandTimeout { get; set; } = 300;

    protected override void EndProcessing()
    {
        var query = new SourceQuery(Query) { CommandTimeout = TimeSpan.FromSeconds(CommandTimeout) };
        if (Parameters is not null)
            foreach (DictionaryEntry entry in Parameters)
                query.Parameters[entry.Key.ToString()!] = entry.Value is PSObject ps ? ps.BaseObject : entry.Value;

        var activity = $"Reading rows from {(ParameterSetName == ProviderSet ? Provider : Connection.GetType().Name)}";
        long rows = 0;
        try
        {
            var reader = ParameterSetName == ProviderSet ? SourceProviders.Create(Provider, ConnectionString) : SourceProviders.ForConnection(Connection);
            WriteVerbose(ParameterSetName == ProviderSet ? $"{Provider}: {ConnectionStrings.Display(ConnectionString)}" : $"Connection: {Connection.GetType().FullName}");
            foreach (var row in reader.Read(query, Cancellation))
            {
                var item = new PSObject();
                var names = row.Columns.Names;
                for (var i = 0; i < names.Length; i++) item.Properties.Add(new PSNoteProperty(names[i], row.Values[i]));
                WriteObject(item);
                if (++rows % 1000 == 0) Progress(1, activity, $"{rows:N0} rows");
            }
        }
        catch (SourceException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, ParameterSetName == ProviderSet ? Provider : Connection.GetType().Name));
        }
        finally
        {
            CompleteProgress(1, activity);
        }
    }
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
