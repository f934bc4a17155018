using System.Management.Automation;
using KustomerSync.Cmdlets.Binding;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Cmdlets;

/// <summary>
/// Reads run history from a state store: the runs of a sync (newest last), or with -Rows the per-row outcomes of runs,
/// filtered by status. Reads only: it never creates a store and never takes a sync's lease, so it works while a sync runs.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KustomerSyncRun", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Get-KustomerSyncRun.md", DefaultParameterSetName = PathSet)]
[OutputType(typeof(SyncRunInfo), typeof(SyncRowOutcome))]
public sealed class GetKustomerSyncRunCommand : KustomerCmdlet
{
    private const string PathSet = "Path";
    private const string ConnectionSet = "Connection";

    private IStateStore? _store;

    /// <summary>The SQLite state file (as given to -StatePath of Invoke-KustomerUpsert or a sync definition).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string StatePath { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ConnectionSet)]
    [ValidateNotNullOrEmpty]
    public string StateConnectionString { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ConnectionSet)]
    [ValidateSet("Postgres", "SqlServer", IgnoreCase = true)]
    public string StateProvider { get; set; } = "";

    /// <summary>Schema of the state tables (Postgres, SQL Server).</summary>
    [Parameter(ParameterSetName = ConnectionSet)]
    [ValidateNotNullOrEmpty]
    public string StateSchema { get; set; } = "kustomersync";

    /// <summary>Prefix of the state tables, when the store was created with one.</summary>
    [Parameter]
    public string StateTablePrefix { get; set; } = "";

    /// <summary>Names of syncs (wildcards allowed); all syncs of the store when omitted.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Sync { get; set; }

    /// <summary>Only the last N runs of each sync.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    [WholeNumber]
    public int Last { get; set; }

    /// <summary>Only these runs (also from the pipeline, e.g. from a previous Get-KustomerSyncRun).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long[]? RunId { get; set; }

    /// <summary>Writes the per-row outcomes of the selected runs instead of the runs (the last run of each sync when no -RunId or -Last is given).</summary>
    [Parameter]
    public SwitchParameter Rows { get; set; }

    /// <summary>Only rows with these statuses (implies -Rows).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public UpsertStatus[]? Status { get; set; }

    protected override void BeginProcessing()
    {
        try
        {
            var options = new StateStoreOptions { TablePrefix = StateTablePrefix };
            if (ParameterSetName == PathSet)
            {
                var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(StatePath);
                _store = StateStores.Sqlite(path, options, createIfMissing: false);
            }
            else
            {
                options.Schema = StateSchema;
                _store = StateStores.Create(StateStores.ParseProvider(StateProvider), StateConnectionString, options);
            }
            Narrate($"State store: {_store.Display}");
        }
        catch (StateException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, ParameterSetName == PathSet ? StatePath : StateProvider));
        }
    }

    protected override void ProcessRecord()
    {
        var store = _store!;
        try
        {
            var runs = SelectRuns(store);
            if (!Rows && Status is null)
            {
                foreach (var run in runs) WriteObject(run);
                return;
            }
            var selected = RunId is { Length: > 0 } || Last > 0
                ? runs
                : runs.GroupBy(r => r.Sync, StringComparer.Ordinal).Select(g => g.Last()).ToList();
            foreach (var run in selected)
            {
                Narrate($"Rows of run {run.RunId} of '{run.Sync}' ({run.Status}, {run.Started:u})");
                foreach (var row in store.RowOutcomes(run.RunId, Status))
                {
                    if (Stopping) return;
                    WriteObject(row);
                }
            }
        }
        catch (StateException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, store.Display));
        }
    }

    protected override void EndProcessing() => Release();

    protected override void StopProcessing()
    {
        base.StopProcessing();
        Release();
    }

    private void Release()
    {
        try
        {
            _store?.ReleaseConnections();
        }
        catch (Exception)
        {
            // only a pool: the state file is closed when the process ends
        }
    }

    private List<SyncRunInfo> SelectRuns(IStateStore store)
    {
        var names = store.SyncNames();
        var wanted = new List<string>();
        if (Sync is null) wanted.AddRange(names);
        else
        {
            foreach (var pattern in Sync)
            {
                var matches = names.Where(n => new WildcardPattern(pattern, WildcardOptions.IgnoreCase).IsMatch(n)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                {
                    var known = names.Count == 0 ? "The store has no syncs yet." : "Syncs in this store: " + string.Join(", ", names) + ".";
                    WriteError(new ErrorRecord(new ItemNotFoundException($"The state store {store.Display} has no sync named '{pattern}'. {known}"),
                        ErrorIds.SyncNotFound, ErrorCategory.ObjectNotFound, pattern));
                }
                foreach (var m in matches)
                    if (!wanted.Contains(m, StringComparer.Ordinal)) wanted.Add(m);
            }
        }

        var runs = new List<SyncRunInfo>();
        if (RunId is { Length: > 0 })
        {
            foreach (var id in RunId)
            {
                var found = store.Runs(runId: id).Where(r => Sync is null || wanted.Contains(r.Sync, StringComparer.Ordinal)).ToList();
                if (found.Count == 0)
                    WriteError(new ErrorRecord(new ItemNotFoundException($"The state store {store.Display} has no run {id}" + (Sync is null ? "." : " of the syncs named.")),
                        ErrorIds.RunNotFound, ErrorCategory.ObjectNotFound, id));
                runs.AddRange(found);
            }
            return runs;
        }
        foreach (var name in wanted) runs.AddRange(store.Runs(name, Last > 0 ? Last : null));
        return runs;
    }
}
