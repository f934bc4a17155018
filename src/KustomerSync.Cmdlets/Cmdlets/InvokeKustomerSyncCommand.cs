using System.Management.Automation;
using KustomerSync.Cmdlets.Definitions;
using KustomerSync.Cmdlets.Runs;
using KustomerSync.Engine.Runs.Alerts;
using KustomerSync.Engine.Runs.Definitions;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets;

/// <summary>
/// Runs one declarative sync definition (.psd1) end to end: validated first (every problem at once, each naming its
/// setting), incremental through the state store, run history, the summary as a host line and in -SummaryVariable (the
/// output stream holds only results, with -PassThru), and an exit code for schedulers
/// ($LASTEXITCODE always; the host's exit code with -ExitCode). The file is read as data with the PowerShell parser and
/// never run; only Mapping values may be scriptblocks, compiled here because the engine has no PowerShell.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "KustomerSync", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Invoke-KustomerSync.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UpsertResult))]
public sealed class InvokeKustomerSyncCommand : KustomerCmdlet
{
    internal const string Activity = "Kustomer sync";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "DefinitionPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter FullSync { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    [Parameter]
    public SwitchParameter ExitCode { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SummaryVariable { get; set; }

    protected override void ProcessRecord()
    {
        var code = DefinitionOutcome.ExitRunFailed;
        try
        {
            code = RunDefinition();
        }
        finally
        {
            SetExitCode(code);
        }
    }

    private int RunDefinition()
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        var host = new PowerShellDefinitionHost(this);
        SyncDefinition definition;
        try
        {
            definition = DefinitionFile.Load(path, host);
        }
        catch (DefinitionException ex)
        {
            throw Terminate(ToErrorRecord(ex, path));
        }

        var action = $"Sync {definition.Source.Provider} rows into {definition.Target.DisplayName} records by {definition.Key.DisplayName} ({definition.Behavior}{(definition.FullSync || FullSync ? ", full sync" : "")})";
        var whatIf = !ShouldProcess($"{definition.Name} -> {definition.Destination.BaseUri.Host}", action);
        var hasExpressions = definition.Mapping.Any(m => m.Value is DefinitionExpression);
        var options = new DefinitionRunOptions
        {
            WhatIf = whatIf,
            FullSync = FullSync,
            Force = Force,
            CompileExpression = expression => MappingTable.Computed(ScriptBlock.Create(expression.Text)),
            MakeSourceObject = PassThru || hasExpressions ? MakeRow : null,
            Log = EngineLog,
        };

        DefinitionRun run;
        try
        {
            run = DefinitionRun.Prepare(definition, host, options);
        }
        catch (DefinitionException ex)
        {
            throw Terminate(ToErrorRecord(ex, path));
        }

        using (run)
        {
            var observer = new SyncRunObserver(this, run);
            DefinitionOutcome outcome;
            try
            {
                outcome = run.Execute(observer, Cancellation);
            }
            finally
            {
                CompleteProgress(1, Activity);
                FlushEngineLog();
            }
            if (Cancellation.IsCancellationRequested)
            {
                // The pipeline is stopping, so the warning goes straight to the host.
                if (outcome.Message is { } stopped)
                    try { Host.UI.WriteWarningLine(stopped); } catch (Exception ex) when (ex is PipelineStoppedException or NotImplementedException) { }
                throw new PipelineStoppedException();
            }
            TellNotification(outcome.Notification);
            if (observer.SuppressedErrors > 0)
                WriteWarning($"{observer.SuppressedErrors} more rejected rows were not written as errors. See them with Get-KustomerSyncRun -Sync '{definition.Name}' -Status Failed, Invalid (or run with -PassThru).");
            if (observer.Unreachable > 0 && !outcome.Failed)
                WriteWarning($"{observer.Unreachable} rows could not reach Kustomer and were not written; the next run retries them.");
            if (outcome.Summary is not null) WriteSummary(outcome.Summary, SummaryVariable);
            if (outcome.Failed)
            {
                SetExitCode(DefinitionOutcome.ExitRunFailed);
                var error = outcome.Error is null
                    ? RunError(outcome.Message ?? "The sync failed.", outcome.ErrorId ?? ErrorIds.SyncFailed, definition.Name)
                    : ToErrorRecord(outcome.Error, definition.Name);
                if (outcome.Error is not null && outcome.Message is not null && outcome.Message != outcome.Error.Message)
                    error.ErrorDetails = new ErrorDetails(outcome.Message) { RecommendedAction = error.ErrorDetails?.RecommendedAction };
                throw Terminate(error);
            }
            return outcome.ExitCode;
        }
    }

    /// <summary>A webhook that failed is a warning (the run's outcome stands); the rest is for -Verbose.</summary>
    private void TellNotification(Notification? notification)
    {
        if (notification is null) return;
        if (notification.WebhookProblem is { } problem) WriteWarning(problem);
        else if (notification.Posted) WriteVerbose("The run's alert was posted to the webhook.");
        if (notification.Logged) WriteVerbose($"The run was written to the {WindowsRunEventLog.LogName} event log (source {WindowsRunEventLog.SourceName}).");
        else if (notification.EventLogSkipped is { } why)
            WriteVerbose($"No event log entry: {why}." + (why.Contains("register")
                ? $" To register it: New-EventLog -LogName {WindowsRunEventLog.LogName} -Source {WindowsRunEventLog.SourceName} (as an administrator), or set Alerts.EventLog = $false."
                : ""));
    }

    /// <summary>$LASTEXITCODE always; with -ExitCode also the host's exit code (pwsh -File exits with it).</summary>
    private void SetExitCode(int code)
    {
        SessionState.PSVariable.Set("global:LASTEXITCODE", code);
        if (ExitCode) Host.SetShouldExit(code);
    }

    protected override string? Advice(string errorId) => errorId switch
    {
        ErrorIds.InvalidMapping => "Fix Mapping in the sync definition (Kustomer field = source column), rename the column in the query, or pick another SyncKey; Get-KustomerSchema lists the fields and custom attributes.",
        ErrorIds.RecordNotFound => "Set Behavior = 'UpdateOrCreate' in the sync definition to create missing records.",
        ErrorIds.ConnectionFailed => "Check Destination (Organization or BaseUri) in the sync definition, the network path to Kustomer, and any proxy.",
        ErrorIds.SourceMissingParameter => "Supply every placeholder of the query in Source.Parameters of the sync definition.",
        ErrorIds.SourceTimeout => "Raise Source.CommandTimeout (seconds) in the sync definition, or make the query cheaper.",
        ErrorIds.GuardTripped => "Check the source first (Invoke-KustomerSync -WhatIf shows the guards' figures). If it is right, run once with -Force, or change the thresholds in the definition's Guards = @{ ... } section ($null turns one guard off).",
        _ => base.Advice(errorId),
    };

    private static object MakeRow(string[] names, object?[] values)
    {
        var item = new PSObject();
        for (var i = 0; i < names.Length; i++) item.Properties.Add(new PSNoteProperty(names[i], values[i]), true);
        return item;
    }
}
