namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>What the notifier did with one run's report: for the run's log, never a reason to fail the run.</summary>
public sealed record Notification(bool Posted, string? WebhookProblem, bool Logged, string? EventLogSkipped);

/// <summary>
/// Tells the world how a run ended: an event log entry for every run (where there is a log), a webhook post for the
/// runs the policy names. Never throws for a webhook or log that fails.
/// </summary>
public sealed class RunNotifier : IDisposable
{
    private readonly WebhookAlerter? _webhook;
    private readonly AlertPolicy _policy;
    private readonly IRunEventLog? _eventLog;
    private readonly string? _noEventLog;

    public RunNotifier(WebhookAlerter? webhook, AlertPolicy policy, IRunEventLog? eventLog, string? noEventLog = null)
    {
        _webhook = webhook;
        _policy = policy;
        _eventLog = eventLog;
        _noEventLog = noEventLog;
    }

    public async Task<Notification> NotifyAsync(RunReport report, CancellationToken cancellationToken = default)
    {
        var logged = false;
        var skipped = _noEventLog;
        if (_eventLog is not null)
        {
            skipped = _eventLog.Write(report);
            logged = skipped is null;
        }
        if (_webhook is null || !_policy.ShouldAlert(report)) return new Notification(false, null, logged, skipped);
        var delivery = await _webhook.SendAsync(report, cancellationToken).ConfigureAwait(false);
        return new Notification(delivery.Sent, delivery.Problem, logged, skipped);
    }

    public void Dispose() => _webhook?.Dispose();
}
