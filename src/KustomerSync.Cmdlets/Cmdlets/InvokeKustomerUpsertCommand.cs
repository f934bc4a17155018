using System.Collections;
using System.Data;
using System.Management.Automation;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets;

/// <summary>
/// Upserts pipeline objects into Kustomer records: one result per row on the output stream, in input order; the
/// summary as one host line and in -SummaryVariable; rejected rows are results (not also error records), with one
/// warning counting them.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "KustomerUpsert", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Invoke-KustomerUpsert.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UpsertResult))]
public sealed class InvokeKustomerUpsertCommand : KustomerCmdlet, IDisposable
{
    private const string Activity = "Upserting into Kustomer";
    private UpsertRun? _run;
    private KustomerClient? _client;
    private SyncState? _state;
    private bool _whatIf;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ObjectCompleter))]
    public string Object { get; set; } = "";

    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SyncKeyCompleter))]
    public string SyncKey { get; set; } = "ExternalId";

    [Parameter]
    public SyncBehavior Behavior { get; set; } = SyncBehavior.UpdateOrCreate;

    [Parameter]
    [ArgumentCompleter(typeof(Completion.MappingCompleter))]
    public IDictionary? Mapping { get; set; }

    [Parameter]
    public SwitchParameter SkipNull { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    [Parameter]
    [ArgumentCompleter(typeof(Completion.DestinationNameCompleter))]
    public string? Destination { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateConnectionString { get; set; }

    // A string, not the engine's enum: parameter types load at import, before the engine's private context exists.
    [Parameter]
    [ValidateSet("Postgres", "SqlServer")]
    public string StateProvider { get; set; } = "Postgres";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SyncName { get; set; }

    [Parameter]
    public SwitchParameter FullSync { get; set; }

    [Parameter]
    public SwitchParameter ReportKeysLeft { get; set; }

    [Parameter]
    public SwitchParameter NoBulk { get; set; }

    [Parameter]
    public SwitchParameter CreateOnSearchMiss { get; set; }

    [Parameter]
    public SwitchParameter Backfill { get; set; }

    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long ExpectedRowCount { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SummaryVariable { get; set; }

    private long _rejected;

    protected override void BeginProcessing()
    {
        var (destination, client) = ResolveDestination(Destination);
        UpsertOptions options;
        try
        {
            var target = KustomerObject.Parse(Object);
            options = new UpsertOptions(target, RecordKey.Parse(SyncKey, target)) { Behavior = Behavior, ThrottleLimit = ThrottleLimit, AllowBulk = !NoBulk, CreateOnSearchMiss = CreateOnSearchMiss, Backfill = Backfill };
        }
        catch (ArgumentException ex)
        {
            throw Terminate(ToErrorRecord(ex, Object));
        }
        _whatIf = !ShouldProcess($"{destination.Name} ({destination.BaseUri.Host})", $"Upsert {options.Target.DisplayName} records by {options.Key.DisplayName} ({Behavior})");
        options.WhatIf = _whatIf;
        try
        {
            _state = OpenState(options);
            var binding = _state is null ? null : new UpsertStateBinding(_state, ReportKeysLeft);
            _client = client;
            client.Log = EngineLog;
            _run = Await(UpsertRun.StartAsync(client, options, MappingRules(), SkipNull, Cancellation, binding, EngineLog));
        }
        catch (KustomerException ex) when (ex.ErrorId == "KustomerSync.UnknownKlass")
        {
            throw Terminate(UnknownKlassError(ex, client, destination.Name, Object));
        }
        catch (Exception ex) when (ex is KustomerException or MappingException or StateException)
        {
            throw Terminate(ex is MappingException m ? MappingError(m, Mapping) : ToErrorRecord(ex, ex is StateException ? (object?)StatePath ?? SyncName : destination.Name));
        }
    }

    /// <summary>The state session named by -StatePath or -StateConnectionString, holding the sync's lease; null without state.</summary>
    private SyncState? OpenState(UpsertOptions options)
    {
        if (StatePath is not null && StateConnectionString is not null)
            throw Terminate(new ErrorRecord(new ArgumentException("Give -StatePath (a SQLite file) or -StateConnectionString with -StateProvider, not both."),
                "KustomerSync.InvalidArgument", ErrorCategory.InvalidArgument, StatePath));
        if (StatePath is null && StateConnectionString is null)
        {
            if (FullSync || ReportKeysLeft || SyncName is not null)
                throw Terminate(new ErrorRecord(new ArgumentException("-FullSync, -ReportKeysLeft and -SyncName need a state store: add -StatePath <file> or -StateConnectionString."),
                    "KustomerSync.InvalidArgument", ErrorCategory.InvalidArgument, null));
            return null;
        }
        var path = StatePath is null ? null : GetUnresolvedProviderPathFromPSPath(StatePath);
        if (path is not null && _whatIf && !File.Exists(path))
        {
            // -WhatIf changes nothing, not even by creating a state file: plan as a first run would.
            WriteVerbose($"The state file {path} does not exist yet; -WhatIf plans without it and does not create it.");
            return null;
        }
        var store = path is not null
            ? StateStores.Sqlite(path)
            : StateStores.Create(StateStores.ParseProvider(StateProvider), StateConnectionString!);
        return store.Open(new SyncStateOptions(SyncName ?? $"{options.Target.DisplayName}:{options.Key.DisplayName}")
        {
            Object = options.Target.DisplayName,
            SyncKey = options.Key.DisplayName,
            FullSync = FullSync,
            KeyComparer = options.Key.Comparer,
        });
    }

    protected override void ProcessRecord()
    {
        if (_run is null || InputObject is null) return;
        var (names, values) = Flatten(InputObject);
        try
        {
            _run.Submit(names, values, InputObject);
        }
        catch (MappingException ex)
        {
            // Nothing was sent; the run goes into the history as Failed with the reason.
            try { _run.Finish(cancelled: false); } catch (StateException) { /* the error below matters more */ }
            throw Terminate(MappingError(ex, Mapping));
        }
        WriteFinished();
    }

    protected override void EndProcessing()
    {
        if (_run is null) return;
        try
        {
            _run.Complete();
            while (!_run.IsDrained)
            {
                _run.WaitForResult(TimeSpan.FromMilliseconds(200));
                WriteFinished();
            }
            FlushEngineLog();
            if (_run.UnmappedColumns.Count > 0)
                WriteWarning($"These input properties map to no {_run.Summary.Object} field and were not sent: {string.Join(", ", _run.UnmappedColumns)}. Name them like a Kustomer field or custom attribute, or map them with -Mapping.");
            if (_run.FatalError is { } fatal)
                WriteError(RunError(fatal, _run.FatalErrorId!, Destination));
            if (_rejected > 0)
                WriteWarning($"{_rejected:N0} of {_run.Submitted:N0} rows were rejected. They are in the output with Status Invalid or Failed, an ErrorId and a Message: " +
                    "pipe the results to Where-Object IsSuccess -eq $false to see or export them.");
            UpsertSummary summary;
            try
            {
                summary = _run.Finish(cancelled: false);
            }
            catch (StateException ex)
            {
                throw Terminate(ToErrorRecord(ex, _state?.SyncName));
            }
            if (_run.KeysLeft.Count > 0)
                WriteWarning($"{_run.KeysLeft.Count} keys synced before are not in this run's input: {string.Join(", ", _run.KeysLeft.Take(20))}{(_run.KeysLeft.Count > 20 ? ", ..." : "")}.");
            WriteSummary(summary, SummaryVariable);
        }
        finally
        {
            CompleteProgress(1, Activity);
            Dispose();
        }
    }

    /// <summary>Runs when the pipeline ends however it ends (Ctrl+C included): a stopped run is recorded Cancelled and the lease released.</summary>
    public void Dispose()
    {
        if (_run is not null)
        {
            if (Cancellation.IsCancellationRequested)
            {
                // The pipeline is stopping, so the warning goes straight to the host.
                try { Host.UI.WriteWarningLine(_run.StoppedMessage()); } catch (Exception ex) when (ex is PipelineStoppedException or NotImplementedException) { }
                if (_state is not null)
                {
                    try { _run.Finish(cancelled: true); } catch (StateException) { /* the lease expires by itself */ }
                }
            }
            _run.Dispose();
            _run = null;
        }
        _state?.Dispose();
        _state = null;
        if (_client is not null && ReferenceEquals(_client.Log, EngineLog)) _client.Log = null;
    }

    private void WriteFinished()
    {
        var run = _run!;
        while (run.TryTake(out var result))
        {
            if (result.Status is UpsertStatus.Invalid or UpsertStatus.Failed && result.ErrorId != "KustomerSync.NotAttempted") _rejected++;
            WriteObject(result);
        }
        FlushEngineLog();
        if (!ProgressDue()) return;
        var summary = run.Summary;
        var rate = summary.Total / Math.Max(0.001, TimeSpan.FromTicks(run.ElapsedTicks).TotalSeconds);
        var progress = new ProgressRecord(1, Activity, $"{summary.Total:N0} rows done, {rate:N0} rows/s ({summary.Created:N0} created, " +
            $"{summary.Updated:N0} updated, {summary.Unchanged:N0} unchanged, {summary.Invalid + summary.Failed:N0} rejected)" +
            (run.WaitingForRateWindow ? ", waiting for Kustomer's rate window" : ""));
        if (ExpectedRowCount > 0)
        {
            progress.PercentComplete = (int)Math.Min(100, summary.Total * 100 / ExpectedRowCount);
            if (rate > 0) progress.SecondsRemaining = (int)Math.Min(int.MaxValue, Math.Max(0, ExpectedRowCount - summary.Total) / rate);
        }
        WriteProgress(progress);
    }

    private IReadOnlyList<MappingRule> MappingRules()
    {
        var rules = new List<MappingRule>();
        if (Mapping is null) return rules;
        foreach (DictionaryEntry entry in Mapping)
        {
            var target = entry.Key?.ToString() ?? "";
            var source = entry.Value is PSObject ps ? ps.BaseObject : entry.Value;
            switch (source)
            {
                case string column:
                    rules.Add(new MappingRule(target, column));
                    break;
                case ScriptBlock script:
                    rules.Add(new MappingRule(target, Computed(script), "{ " + script.ToString().Trim() + " }"));
                    break;
                default:
                    throw Terminate(new ErrorRecord(new ArgumentException($"-Mapping '{target}' must be a property name (string) or a scriptblock, not {source?.GetType().Name ?? "null"}."),
                        "KustomerSync.InvalidMapping", ErrorCategory.InvalidArgument, Mapping));
            }
        }
        return rules;
    }

    /// <summary>The property names and values of any pipeline object: PSObjects, hashtables and DataRows.</summary>
    private static (string[] Names, object?[] Values) Flatten(PSObject input)
    {
        switch (input.BaseObject)
        {
            case IDictionary dictionary:
            {
                var names = new string[dictionary.Count];
                var values = new object?[dictionary.Count];
                var i = 0;
                foreach (DictionaryEntry entry in dictionary)
                {
                    names[i] = entry.Key?.ToString() ?? "";
                    values[i++] = Unwrap(entry.Value);
                }
                return (names, values);
            }
            case DataRow row:
            {
                var columns = row.Table.Columns;
                var names = new string[columns.Count];
                var values = new object?[columns.Count];
                for (var i = 0; i < columns.Count; i++)
                {
                    names[i] = columns[i].ColumnName;
                    values[i] = Unwrap(row[i]);
                }
                return (names, values);
            }
            default:
            {
                var names = new List<string>();
                var values = new List<object?>();
                foreach (var property in input.Properties)
                {
                    if (!property.IsGettable) continue;
                    names.Add(property.Name);
                    values.Add(Unwrap(property.Value));
                }
                return (names.ToArray(), values.ToArray());
            }
        }
    }

    private static object? Unwrap(object? value) => value switch
    {
        null or DBNull => null,
        PSObject ps => ps.BaseObject is PSCustomObject ? ps : ps.BaseObject,
        _ => value,
    };
}
