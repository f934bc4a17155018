using static KustomerSync.Definitions.Tests.Data;

namespace KustomerSync.Definitions.Tests;

/// <summary>The definition's records print their members (for a debugger or a log line), never a secret they carry.</summary>
public class PrintingTests
{
    private readonly FakeHost _host = new();

    [Fact]
    public void A_definition_prints_its_literal_connection_strings_with_their_secrets_masked()
    {
        var data = Valid();
        Section(data, "Source")["ConnectionString"] = "Data Source=crm.db;Token=src-s3cr3t-42";
        var state = Section(data, "State");
        state.Remove("Path");
        state["Provider"] = "Postgres";
        state["ConnectionString"] = "Host=db;Database=app;Access Token=state-s3cr3t-77";

        var text = SyncDefinitionParser.Parse(data, Path.Combine(Path.GetTempPath(), "defs", "customers.sync.psd1"), _host).ToString();

        Assert.Contains("Name = customers", text);
        Assert.Contains("data source=crm.db", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("host=db", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src-s3cr3t-42", text);
        Assert.DoesNotContain("state-s3cr3t-77", text);
    }

    [Fact]
    public void A_resolved_secret_prints_without_its_text()
    {
        var text = FakeHost.Secret("resolved-s3cr3t-9", "svc-sync").ToString();

        Assert.Contains("svc-sync", text);
        Assert.DoesNotContain("resolved-s3cr3t-9", text);
    }

    [Fact]
    public void An_outcome_prints_its_redacted_message_not_the_exception_it_came_from()
    {
        var error = new InvalidOperationException("login failed for key api-s3cr3t-5");
        var text = new DefinitionOutcome(null, DefinitionOutcome.ExitRunFailed, "KustomerSync.SyncFailed", "login failed for key ****", error).ToString();

        Assert.Contains("login failed for key ****", text);
        Assert.DoesNotContain("api-s3cr3t-5", text);
    }
}
