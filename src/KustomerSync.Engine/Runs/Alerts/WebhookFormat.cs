namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>The body an alert webhook receives.</summary>
public enum WebhookFormat
{
    /// <summary>Slack for hooks.slack.com, Teams for Teams and Power Automate webhook hosts, else Json.</summary>
    Auto,
    /// <summary>A message with an Adaptive Card attachment, as Teams Workflows ("When a Teams webhook request is received") and the older connectors take.</summary>
    Teams,
    /// <summary>Slack's incoming webhook message: text plus blocks.</summary>
    Slack,
    /// <summary>The report itself as JSON, for a receiver of one's own (Azure Logic Apps, a monitoring system).</summary>
    Json,
}
