using System.Management.Automation;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Runs;
using KustomerSync.Engine.Runs.Definitions;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets.Definitions;

/// <summary>Writes what a definition run reports on the pipeline thread: results or row errors, progress, warnings, verbose lines.</summary>
internal sealed class SyncRunObserver : IDefinitionRunObserver
{
    /// <summary>Without -PassThru, only this many rejected rows are written as errors; the rest are in the run history.</summary>
    private const int MaxRowErrors = 100;

    private readonly InvokeKustomerSyncCommand _cmdlet;
    private readonly DefinitionRun _run;
    private int _errors;

    public SyncRunObserver(InvokeKustomerSyncCommand cmdlet, DefinitionRun run)
    {
        _cmdlet = cmdlet;
        _run = run;
    }

    public int SuppressedErrors { get; private set; }

    /// <summary>Rows that failed for want of Kustomer, not for their content: the run's error (or one warning) covers them.</summary>
    public int Unreachable { get; private set; }

    /// <summary>With -PassThru a row is its result; without, a rejected row is an error record. Never both.</summary>
    public void Result(UpsertResult result)
    {
        _cmdlet.FlushEngineLog();
        if (_cmdlet.PassThru)
        {
            _cmdlet.WriteObject(result);
            return;
        }
        if (result.Status is not (UpsertStatus.Invalid or UpsertStatus.Failed)) return;
        if (result.ErrorId is ErrorIds.ConnectionFailed or ErrorIds.NotAttempted) Unreachable++;
        else if (_errors < MaxRowErrors)
        {
            _errors++;
            _cmdlet.WriteError(_cmdlet.RowError(result));
        }
        else SuppressedErrors++;
    }

    public void Progress(RunProgress progress)
    {
        _cmdlet.FlushEngineLog();
        // Asked after every row while rows are held: the line is built only when it is due.
        if (!_cmdlet.ProgressDue()) return;
        var summary = progress.Summary;
        _cmdlet.WriteProgress(new ProgressRecord(1, InvokeKustomerSyncCommand.Activity, $"{_run.Definition.Name}: {summary.Total:N0} rows done ({summary.Created:N0} created, {summary.Updated:N0} updated, {summary.Unchanged:N0} unchanged, {summary.Invalid + summary.Failed:N0} rejected), {progress.InFlight} in flight" +
            progress.HeldNote + (progress.WaitingForRateWindow ? ", waiting for Kustomer's rate window" : "")));
    }

    public void Warning(string message) => _cmdlet.WriteWarning(_run.Redact(message));

    public void Verbose(string message) => _cmdlet.Narrate(_run.Redact(message));
}
