using KustomerSync.Engine.Runs.Alerts;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>Who hears of a run that nobody watches: a webhook (Teams, Slack, one's own) and, on Windows, the event log.</summary>
public sealed record AlertsDefinition
{
    /// <summary>Where the webhook's URL comes from (it is a secret: its path is the webhook's credential); null for no posts.</summary>
    public SecretReference? Webhook { get; init; }
    public WebhookFormat Format { get; init; } = WebhookFormat.Auto;
    public AlertPolicy Policy { get; init; } = new();
    /// <summary>An Application event log entry per run on Windows (Alerts.EventLog, on by default).</summary>
    public bool EventLog { get; init; } = true;
}
