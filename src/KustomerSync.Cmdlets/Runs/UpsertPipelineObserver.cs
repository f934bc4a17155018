using System.Management.Automation;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Runs;

namespace KustomerSync.Cmdlets.Runs;

/// <summary>Writes what an upsert session reports on the pipeline thread: results, progress (with a rate and, given the expected row count, a percentage), warnings.</summary>
internal sealed class UpsertPipelineObserver : IUpsertObserver
{
    private readonly InvokeKustomerUpsertCommand _cmdlet;

    public UpsertPipelineObserver(InvokeKustomerUpsertCommand cmdlet) => _cmdlet = cmdlet;

    /// <summary>Rows that ended Invalid or Failed for their own reason (not those the run's one error covers).</summary>
    public long Rejected { get; private set; }

    /// <summary>Rejected rows are results, not also error records: one warning counts them and says how to see them.</summary>
    public void WarnRejected(long submitted)
    {
        if (Rejected > 0)
            _cmdlet.WriteWarning($"{Rejected:N0} of {submitted:N0} rows were rejected. They are in the output with Status Invalid or Failed, an ErrorId and a Message: " +
                "pipe the results to Where-Object IsSuccess -eq $false to see or export them.");
    }

    public void Result(UpsertResult result)
    {
        if (result.Status is UpsertStatus.Invalid or UpsertStatus.Failed && result.ErrorId != ErrorIds.NotAttempted) Rejected++;
        _cmdlet.WriteObject(result);
    }

    public void Progress(RunProgress progress)
    {
        _cmdlet.FlushEngineLog();
        if (!_cmdlet.ProgressDue()) return;
        var summary = progress.Summary;
        var rate = summary.Total / Math.Max(0.001, progress.Elapsed.TotalSeconds);
        var record = new ProgressRecord(1, InvokeKustomerUpsertCommand.Activity, $"{summary.Total:N0} rows done, {rate:N0} rows/s ({summary.Created:N0} created, " +
            $"{summary.Updated:N0} updated, {summary.Unchanged:N0} unchanged, {summary.Invalid + summary.Failed:N0} rejected)" +
            progress.HeldNote + (progress.WaitingForRateWindow ? ", waiting for Kustomer's rate window" : ""));
        var expected = _cmdlet.ExpectedRowCount;
        if (expected > 0)
        {
            record.PercentComplete = (int)Math.Min(100, summary.Total * 100 / expected);
            if (rate > 0) record.SecondsRemaining = (int)Math.Min(int.MaxValue, Math.Max(0, expected - summary.Total) / rate);
        }
        _cmdlet.WriteProgress(record);
    }

    public void Warning(string message) => _cmdlet.WriteWarning(message);
}
