using System.Collections;
using System.Management.Automation;
using KustomerSync.Cmdlets.Runs;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets;

/// <summary>
/// Upserts pipeline objects into Kustomer records: one result per row on the output stream, in input order; the
/// summary as one host line and in -SummaryVariable; rejected rows are results (not also error records), with one
/// warning counting them. Runs/UpsertParameters turns the parameters into the engine's options and state store.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "KustomerUpsert", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Invoke-KustomerUpsert.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UpsertResult))]
public sealed class InvokeKustomerUpsertCommand : KustomerCmdlet, IDisposable
{
    internal const string Activity = "Upserting into Kustomer";
    private UpsertSession? _session;
    private UpsertPipelineObserver? _observer;
    private KustomerClient? _client;

    [Parameter(Mandatory = true, ValueFromPipeline = true), AllowNull]
    public PSObject? InputObject { get; set; }
    [Parameter(Mandatory = true, Position = 0), ValidateNotNullOrEmpty, ArgumentCompleter(typeof(Completion.ObjectCompleter))]
    public string Object { get; set; } = "";
    [Parameter(Position = 1), ValidateNotNullOrEmpty, ArgumentCompleter(typeof(Completion.SyncKeyCompleter))]
    public string SyncKey { get; set; } = "ExternalId";
    [Parameter]
    public SyncBehavior Behavior { get; set; } = SyncBehavior.UpdateOrCreate;
    [Parameter, ArgumentCompleter(typeof(Completion.MappingCompleter))]
    public IDictionary? Mapping { get; set; }
    [Parameter]
    public SwitchParameter SkipNull { get; set; }

    [Parameter, ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;
    [Parameter, ValidateRange(0.01, 1.0)]
    public double BudgetShare { get; set; } = UpsertOptions.DefaultBudgetShare;
    [Parameter, ValidateRange(1, int.MaxValue)]
    public int MaxRequestsPerMinute { get; set; }
    [Parameter, ArgumentCompleter(typeof(Completion.DestinationNameCompleter))]
    public string? Destination { get; set; }

    [Parameter, ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }
    [Parameter, ValidateNotNullOrEmpty]
    public string? StateConnectionString { get; set; }
    // A string, not the engine's enum: parameter types load at import, before the engine's private context exists.
    [Parameter, ValidateSet("Postgres", "SqlServer")]
    public string StateProvider { get; set; } = "Postgres";
    [Parameter, ValidateNotNullOrEmpty]
    public string? SyncName { get; set; }
    [Parameter]
    public SwitchParameter FullSync { get; set; }
    [Parameter]
    public SwitchParameter ReportKeysLeft { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }
    [Parameter]
    public IDictionary? Guards { get; set; }

    [Parameter]
    public SwitchParameter NoBulk { get; set; }
    [Parameter]
    public SwitchParameter CreateOnSearchMiss { get; set; }
    [Parameter]
    public SwitchParameter Backfill { get; set; }

    [Parameter, ValidateRange(1, long.MaxValue)]
    public long ExpectedRowCount { get; set; }
    [Parameter, ValidateNotNullOrEmpty]
    public string? SummaryVariable { get; set; }

    protected override void BeginProcessing()
    {
        var (destination, client) = ResolveDestination(Destination);
        var options = UpsertParameters.Options(this);
        var rules = UpsertParameters.Rules(this);
        var guards = UpsertParameters.Guards(this);
        options.WhatIf = !ShouldProcess($"{destination.Name} ({destination.BaseUri.Host})", $"Upsert {options.Target.DisplayName} records by {options.Key.DisplayName} ({Behavior})");
        try
        {
            _observer = new UpsertPipelineObserver(this);
            _session = UpsertSession.Open(UpsertParameters.StateStore(this, options.WhatIf), SyncName, options, FullSync, _observer, Cancellation);
            _client = client;
            client.Log = EngineLog;
            _session.Start(client, options, rules, SkipNull, ReportKeysLeft, EngineLog);
            // -ReportKeysLeft says the input is the whole set, so its size can be compared with the last run's.
            if (guards is not null) _session.Guard(guards, fullSource: ReportKeysLeft);
        }
        catch (KustomerException ex) when (ex.ErrorId == ErrorIds.UnknownKlass)
        {
            throw Terminate(UnknownKlassError(ex, client, destination.Name, Object));
        }
        catch (Exception ex) when (ex is KustomerException or MappingException or StateException)
        {
            throw Terminate(ToErrorRecord(ex, ex switch { MappingException => Mapping, StateException => (object?)StatePath ?? SyncName, _ => destination.Name }));
        }
    }

    protected override void ProcessRecord()
    {
        if (_session is null || InputObject is null) return;
        var (names, values) = PipelineRows.Flatten(InputObject);
        try
        {
            _session.Submit(names, values, InputObject);
        }
        catch (MappingException ex)
        {
            // Nothing was sent; the run goes into the history as Failed with the reason.
            try { _session.Finish(RunEnding.Failed, ex.Message); } catch (StateException) { /* the error below matters more */ }
            throw Terminate(ToErrorRecord(ex, Mapping));
        }
        catch (StateException ex)
        {
            throw Terminate(ToErrorRecord(ex, _session.State?.SyncName));
        }
        FlushEngineLog();
    }

    protected override void EndProcessing()
    {
        if (_session is null) return;
        try
        {
            _session.Drain();
            FlushEngineLog();
            if (_session.Fault is { } fault) WriteError(RunError(fault.Message, fault.ErrorId, Destination));
            _observer!.WarnRejected(_session.Run.Submitted);
            UpsertSummary summary;
            try { summary = _session.Finish(RunEnding.Completed); }
            catch (StateException ex) { throw Terminate(ToErrorRecord(ex, _session.State?.SyncName)); }
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
        if (_session is not null)
        {
            // The pipeline is stopping, so the warning goes straight to the host.
            if (Cancellation.IsCancellationRequested && _session.Started)
                try { Host.UI.WriteWarningLine(_session.Run.StoppedMessage()); } catch (Exception ex) when (ex is PipelineStoppedException or NotImplementedException) { }
            _session.Dispose();
            _session = null;
        }
        if (_client is not null && ReferenceEquals(_client.Log, EngineLog)) _client.Log = null;
    }

    protected override string? Advice(string errorId) => errorId switch
    {
        ErrorIds.InvalidMapping => "Fix -Mapping (Kustomer field = input property), rename the input property, or pick another -SyncKey; Get-KustomerSchema lists the fields and custom attributes.",
        ErrorIds.GuardTripped => "Check the input first (-WhatIf shows the guards' figures). If it is right, run once with -Force, or change the thresholds with -Guards @{ MaxChangeShare = 0.5 } ($null turns one guard off).",
        _ => base.Advice(errorId),
    };
}
