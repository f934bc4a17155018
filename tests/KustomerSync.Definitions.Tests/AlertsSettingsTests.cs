using KustomerSync.Engine.Runs.Alerts;
using static KustomerSync.Definitions.Tests.Data;

namespace KustomerSync.Definitions.Tests;

/// <summary>The Alerts section of a sync definition: where the webhook's URL comes from, its format and policy.</summary>
public class AlertsSettingsTests
{
    private static readonly string DefinitionPath = Path.Combine(Path.GetTempPath(), "defs", "customers.sync.psd1");
    private readonly FakeHost _host = new();

    [Fact]
    public void Without_an_Alerts_section_there_are_no_posts_and_the_event_log_is_on()
    {
        var d = SyncDefinitionParser.Parse(Valid(), DefinitionPath, _host);

        Assert.Null(d.Alerts.Webhook);
        Assert.True(d.Alerts.EventLog);
        Assert.Equal(AlertPolicy.DefaultRejectedShare, d.Alerts.Policy.RejectedShare);
    }

    [Fact]
    public void The_webhook_comes_from_a_secret_with_format_share_and_successes_as_set()
    {
        _host.Environment["TEAMS_HOOK"] = "https://contoso.webhook.office.com/webhookb2/secret";
        var data = Valid();
        data["Alerts"] = Table(("WebhookEnvironmentVariable", "TEAMS_HOOK"), ("Format", "slack"), ("RejectedShare", 0.2), ("OnSuccess", true), ("EventLog", false));

        var d = SyncDefinitionParser.Parse(data, DefinitionPath, _host);

        Assert.Equal(SecretSource.EnvironmentVariable, d.Alerts.Webhook!.Source);
        Assert.Equal("TEAMS_HOOK", d.Alerts.Webhook.Name);
        Assert.Equal(WebhookFormat.Slack, d.Alerts.Format);
        Assert.Equal(0.2, d.Alerts.Policy.RejectedShare);
        Assert.True(d.Alerts.Policy.OnSuccess);
        Assert.False(d.Alerts.EventLog);
    }

    [Fact]
    public void Every_mistake_in_Alerts_is_named()
    {
        var data = Valid();
        data["Alerts"] = Table(("WebhookEnvironmentVariable", "NOT_SET"), ("Format", "Temas"), ("RejectedShare", 5), ("Webhook", "https://x"));

        var ex = Assert.Throws<DefinitionException>(() => SyncDefinitionParser.Parse(data, DefinitionPath, _host));

        var settings = ex.Problems.Select(p => p.Setting).ToList();
        Assert.Contains("Alerts.WebhookEnvironmentVariable", settings);
        Assert.Contains("Alerts.Format", settings);
        Assert.Contains("Alerts.RejectedShare", settings);
        Assert.Contains("Alerts.Webhook", settings);
        Assert.Contains("'Teams'", ex.Problems.Single(p => p.Setting == "Alerts.Format").Message);
    }
}
