using KustomerSync.Engine.Security;
using static KustomerSync.Definitions.Tests.Data;

namespace KustomerSync.Definitions.Tests;

public class PrepareTests
{
    private readonly FakeHost _host = new();

    private SyncDefinition Parse(System.Collections.IDictionary data) => SyncDefinitionParser.Parse(data, "/defs/c.sync.psd1", _host);

    [Fact]
    public void Secrets_that_cannot_be_read_are_all_reported_naming_their_settings_without_their_values()
    {
        _host.Commands.Add("Get-AutomationVariable");
        _host.Commands.Add("Get-Secret");
        var data = Valid();
        Section(data, "Destination").Remove("ApiKeyEnvironmentVariable");
        Section(data, "Destination")["ApiKeyAutomationVariable"] = "KustomerKey";
        Section(data, "Source").Remove("ConnectionString");
        Section(data, "Source")["ConnectionStringSecret"] = "crm";
        var d = Parse(data);

        var ex = Assert.Throws<DefinitionException>(() => DefinitionRun.Prepare(d, _host, new DefinitionRunOptions()));
        Assert.Equal("KustomerSync.SecretUnavailable", ex.ErrorId);
        Assert.Equal(new[] { "Destination.ApiKeyAutomationVariable", "Source.ConnectionStringSecret" }, ex.Problems.Select(p => p.Setting).OrderBy(s => s));
        Assert.Contains("Automation variable 'KustomerKey'", ex.Message);
    }

    [Fact]
    public void Resolved_secrets_feed_the_run_and_are_redacted_from_messages()
    {
        _host.Commands.Add("Get-AutomationPSCredential");
        _host.Secrets["CrmDb"] = FakeHost.Secret("pg-password-42", "sync_reader");
        var data = Valid();
        Section(data, "Source")["AutomationCredential"] = "CrmDb";
        var d = Parse(data);
        using var run = DefinitionRun.Prepare(d, _host, new DefinitionRunOptions());
        Assert.Single(_host.Resolved);
        Assert.Equal("Source.AutomationCredential", _host.Resolved[0].Setting);
        Assert.Equal("failed with **** and ****", run.Redact("failed with pg-password-42 and k-secret-123"));
        Assert.Equal("Host=x;Password=****", run.Redact("Host=x;Password=abc"));
    }

    [Fact]
    public void An_environment_variable_emptied_after_validation_is_reported()
    {
        var d = Parse(Valid());
        _host.Environment.Remove("KUSTOMER_KEY");
        var ex = Assert.Throws<DefinitionException>(() => DefinitionRun.Prepare(d, _host, new DefinitionRunOptions()));
        Assert.Equal("Destination.ApiKeyEnvironmentVariable", Assert.Single(ex.Problems).Setting);
    }

    [Fact]
    public void Computed_mapping_values_need_a_compiler_from_the_host()
    {
        var data = Valid();
        data["Mapping"] = Table(("name", new DefinitionExpression("$_.first", 3)));
        var d = Parse(data);
        Assert.Throws<InvalidOperationException>(() => DefinitionRun.Prepare(d, _host, new DefinitionRunOptions()));
        using var run = DefinitionRun.Prepare(d, _host, new DefinitionRunOptions { CompileExpression = _ => _ => "x" });
        Assert.Equal("externalId", run.KeyColumn());
    }

    [Fact]
    public void The_key_column_for_push_down_follows_the_mapping()
    {
        var data = Valid();
        data["Mapping"] = Table(("externalId", "customer_id"));
        using (var run = DefinitionRun.Prepare(Parse(data), _host, new DefinitionRunOptions()))
            Assert.Equal("customer_id", run.KeyColumn());
        Section(data, "Source")["KeyColumn"] = "cid";
        using (var run = DefinitionRun.Prepare(Parse(data), _host, new DefinitionRunOptions()))
            Assert.Equal("cid", run.KeyColumn());
        _ = SecretText.Protect("x");
    }
}
