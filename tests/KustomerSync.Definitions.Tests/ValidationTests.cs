using System.Collections;
using KustomerSync.Engine.State;
using static KustomerSync.Definitions.Tests.Data;

namespace KustomerSync.Definitions.Tests;

public class ValidationTests
{
    private static readonly string DefinitionPath = Path.Combine(Path.GetTempPath(), "defs", "customers.sync.psd1");
    private readonly FakeHost _host = new();

    private SyncDefinition Parse(IDictionary data) => SyncDefinitionParser.Parse(data, DefinitionPath, _host);

    private IReadOnlyList<DefinitionProblem> Problems(IDictionary data)
    {
        var ex = Assert.Throws<DefinitionException>(() => Parse(data));
        Assert.Equal("KustomerSync.InvalidDefinition", ex.ErrorId);
        Assert.Equal(ex.Problems.Count, ex.Message.Split('\n').Length - 1);
        return ex.Problems;
    }

    private static DefinitionProblem Single(IReadOnlyList<DefinitionProblem> problems, string setting)
    {
        var found = problems.Where(p => p.Setting == setting).ToList();
        Assert.True(found.Count == 1, $"expected one problem for {setting}; got: {string.Join(" | ", problems)}");
        return found[0];
    }

    [Fact]
    public void A_valid_definition_builds_with_defaults_and_resolved_paths()
    {
        var d = Parse(Valid());
        Assert.Equal("customers", d.Name);
        Assert.Equal("Sqlite", d.Source.Provider);
        Assert.True(d.Source.UsesLastRunStart);
        Assert.IsType<LastRunStartToken>(d.Source.Parameters.Single().Value);
        Assert.Equal(new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc), d.Source.FirstRunStart);
        Assert.Equal("http://127.0.0.1:5080/", d.Destination.BaseUri.ToString());
        Assert.Equal(SecretSource.EnvironmentVariable, d.Destination.ApiKey.Source);
        Assert.Equal("Destination.ApiKeyEnvironmentVariable", d.Destination.ApiKey.Setting);
        Assert.Equal(SyncBehavior.UpdateOrCreate, d.Behavior);
        Assert.Equal(8, d.ThrottleLimit);
        Assert.Equal(StateProvider.Sqlite, d.State.Provider);
        // Relative to the definition's folder, not the current directory: scheduled tasks start in System32.
        Assert.Equal(Path.Combine(Path.GetTempPath(), "defs", "customers.state.db"), d.State.Path);
        Assert.False(d.FullSync || d.ReportKeysLeft || d.PushDown || d.SkipNull);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_each_naming_its_setting()
    {
        var data = Valid();
        data["Name"] = "bad name!";
        data["Object"] = "Custmer";
        data["ThrottleLimit"] = 0;
        data["SkipNull"] = "yes";
        Section(data, "Source")["Provider"] = "Postgress";
        Section(data, "Destination")["ApiKeyEnvironmentVariable"] = "MISSING_KEY";
        Section(data, "State").Remove("Path");

        var problems = Problems(data);
        Assert.Contains("valid sync name", Single(problems, "Name").Message);
        Assert.Contains("Customer, Company or kobject.<klass>", Single(problems, "Object").Message);
        Assert.Contains("1 to 64", Single(problems, "ThrottleLimit").Message);
        Assert.Contains("$true or $false", Single(problems, "SkipNull").Message);
        Assert.Contains("did you mean 'Postgres'", Single(problems, "Source.Provider").Message);
        Assert.Equal("the environment variable MISSING_KEY is not set (or is empty) for this process.", Single(problems, "Destination.ApiKeyEnvironmentVariable").Message);
        Assert.Contains("State.Path", Single(problems, "State.Path").Message);
        Assert.Equal(7, problems.Count);
    }

    [Fact]
    public void The_budget_share_defaults_to_three_quarters_and_takes_a_share_and_a_cap()
    {
        var d = Parse(Valid());
        Assert.Equal(0.75, d.BudgetShare);
        Assert.Null(d.MaxRequestsPerMinute);

        var data = Valid();
        data["BudgetShare"] = 0.5;
        data["MaxRequestsPerMinute"] = 300;
        d = Parse(data);
        Assert.Equal(0.5, d.BudgetShare);
        Assert.Equal(300, d.MaxRequestsPerMinute);

        data["BudgetShare"] = 1.5;
        data["MaxRequestsPerMinute"] = 0;
        var problems = Problems(data);
        Assert.Contains("0.01 to 1", Single(problems, "BudgetShare").Message);
        Assert.Contains("at least 1", Single(problems, "MaxRequestsPerMinute").Message);
    }

    [Fact]
    public void Unknown_settings_are_named_with_a_suggestion_at_every_level()
    {
        var data = Valid();
        data["Mapings"] = Table(("name", "full_name"));
        Section(data, "Source")["Qeury"] = "select 1";
        Section(data, "Destination")["Organisation"] = "acme";
        Section(data, "State")["Pth"] = "x.db";
        var problems = Problems(data);
        Assert.Contains("did you mean 'Mapping'", Single(problems, "Mapings").Message);
        Assert.Contains("did you mean 'Query'", Single(problems, "Source.Qeury").Message);
        Assert.Contains("did you mean 'Organization'", Single(problems, "Destination.Organisation").Message);
        Assert.Contains("did you mean 'Path'", Single(problems, "State.Pth").Message);
    }

    [Fact]
    public void Missing_sections_and_required_settings_are_each_reported()
    {
        var data = Table(("Name", "x"));
        var problems = Problems(data);
        Assert.Contains("Source = @{", Single(problems, "Source").Message);
        Single(problems, "Destination");
        Single(problems, "State");
        Assert.Equal("is missing.", Single(problems, "Object").Message);
    }

    [Fact]
    public void Wrong_types_name_the_setting_and_what_was_given()
    {
        var data = Valid();
        data["Source"] = "Sqlite";
        data["Mapping"] = Table(("name", 5), ("email", ""));
        data["FullSync"] = 1;
        data["SyncKey"] = true;
        var problems = Problems(data);
        Assert.Equal("must be a hashtable @{ ... }, not a string.", Single(problems, "Source").Message);
        Assert.Contains("not a number", Single(problems, "Mapping.name").Message);
        Assert.Contains("is empty", Single(problems, "Mapping.email").Message);
        Assert.Contains("$true or $false", Single(problems, "FullSync").Message);
        Assert.Contains("string in quotes", Single(problems, "SyncKey").Message);
    }

    [Fact]
    public void Object_key_and_behaviour_are_checked_against_each_other()
    {
        var data = Valid();
        data["Object"] = "Company";
        data["SyncKey"] = "Email";
        data["Behavior"] = "UpdateOrCreat";
        var problems = Problems(data);
        Single(problems, "SyncKey");
        Assert.Contains("did you mean 'UpdateOrCreate'", Single(problems, "Behavior").Message);

        var ok = Valid();
        ok["Object"] = "kobject.order";
        ok["Behavior"] = "updateonly";
        ok["Mapping"] = Table(("name", "full_name"), ("custom.totalNum", new DefinitionExpression("$_.a + $_.b", 7)));
        var d = Parse(ok);
        Assert.Equal("kobject.order", d.Target.DisplayName);
        Assert.Equal(SyncBehavior.UpdateOnly, d.Behavior);
        Assert.Equal(new[] { "name", "custom.totalNum" }, d.Mapping.Select(m => m.Key));
        Assert.IsType<DefinitionExpression>(d.Mapping[1].Value);
    }

    [Fact]
    public void Destination_needs_exactly_one_of_organization_or_base_uri_and_a_known_region()
    {
        var both = Valid();
        Section(both, "Destination")["Organization"] = "acme";
        Assert.Contains("not both", Single(Problems(both), "Destination.BaseUri").Message);

        var neither = Valid();
        Section(neither, "Destination").Remove("BaseUri");
        Single(Problems(neither), "Destination.Organization");

        var region = Valid();
        Section(region, "Destination").Remove("BaseUri");
        Section(region, "Destination")["Organization"] = "acme";
        Section(region, "Destination")["Region"] = "APAC";
        Assert.Contains("Unknown region", Single(Problems(region), "Destination.Region").Message);

        var http = Valid();
        Section(http, "Destination")["BaseUri"] = "http://kustomer.example.com";
        Assert.Contains("not HTTPS", Single(Problems(http), "Destination.BaseUri").Message);

        var eu = Valid();
        Section(eu, "Destination").Remove("BaseUri");
        Section(eu, "Destination")["Organization"] = "Acme";
        Section(eu, "Destination")["Region"] = "EU";
        var d = Parse(eu);
        Assert.Equal("https://api.prod2.kustomerapp.com/", d.Destination.BaseUri.ToString());
        Assert.Equal("acme", d.Destination.Organization);
    }

    [Fact]
    public void The_api_key_comes_from_exactly_one_available_place()
    {
        var two = Valid();
        Section(two, "Destination")["ApiKeySecret"] = "kustomer";
        _host.Commands.Add("Get-Secret");
        Assert.Contains("both set", Single(Problems(two), "Destination.ApiKeySecret").Message);

        var none = Valid();
        Section(none, "Destination").Remove("ApiKeyEnvironmentVariable");
        Assert.Contains("Destination.ApiKeyAutomationCredential", Single(Problems(none), "Destination.ApiKeyEnvironmentVariable").Message);
    }

    [Fact]
    public void Automation_assets_and_vault_secrets_need_their_commands_in_the_session()
    {
        var automation = Valid();
        Section(automation, "Destination").Remove("ApiKeyEnvironmentVariable");
        Section(automation, "Destination")["ApiKeyAutomationCredential"] = "Kustomer";
        Section(automation, "Source").Remove("ConnectionString");
        Section(automation, "Source")["ConnectionStringSecret"] = "crm-db";
        var problems = Problems(automation);
        Assert.Contains("Get-AutomationPSCredential is not available", Single(problems, "Destination.ApiKeyAutomationCredential").Message);
        Assert.Contains("Get-Secret is not available", Single(problems, "Source.ConnectionStringSecret").Message);

        _host.Commands.Add("Get-AutomationPSCredential");
        _host.Commands.Add("Get-Secret");
        Section(automation, "Source")["SecretVault"] = "Prod";
        var d = Parse(automation);
        Assert.Equal(SecretSource.AutomationCredential, d.Destination.ApiKey.Source);
        Assert.Equal("Prod", d.Source.ConnectionStringSecret!.Vault);
    }

    [Fact]
    public void A_password_written_into_the_connection_string_is_refused()
    {
        var data = Valid();
        Section(data, "Source")["ConnectionString"] = "Host=db;Username=sync;Password=hunter2";
        var problem = Single(Problems(data), "Source.ConnectionString");
        Assert.Contains("PasswordEnvironmentVariable", problem.Message);
        Assert.DoesNotContain("hunter2", problem.Message);
    }

    [Fact]
    public void Source_credentials_and_user_names_are_checked()
    {
        var data = Valid();
        _host.Commands.Add("Get-AutomationPSCredential");
        Section(data, "Source")["UserName"] = "sync";
        Section(data, "Source")["AutomationCredential"] = "CrmDb";
        Single(Problems(data), "Source.UserName");

        Section(data, "Source").Remove("AutomationCredential");
        Section(data, "Source")["PasswordEnvironmentVariable"] = "CRM_PASSWORD";
        Assert.Contains("CRM_PASSWORD is not set", Single(Problems(data), "Source.PasswordEnvironmentVariable").Message);
    }

    [Fact]
    public void Query_and_parameters_are_checked()
    {
        var both = Valid();
        Section(both, "Source")["QueryPath"] = "q.sql";
        Single(Problems(both), "Source.Query");

        var missingFile = Valid();
        Section(missingFile, "Source").Remove("Query");
        Section(missingFile, "Source")["QueryPath"] = "missing.sql";
        Assert.Contains(Path.Combine(Path.GetTempPath(), "defs", "missing.sql"), Single(Problems(missingFile), "Source.QueryPath").Message);

        var parameters = Valid();
        Section(parameters, "Source")["Parameters"] = Table(("@since", "$LastRunStart"), ("tier", "$Tier"), ("list", new object?[] { 1, 2 }), ("fn", new DefinitionExpression("1", 1)));
        Section(parameters, "Source")["FirstRunStart"] = "yesterday";
        Section(parameters, "Source")["CommandTimeout"] = -5;
        var problems = Problems(parameters);
        Assert.Contains("without '@'", Single(problems, "Source.Parameters.@since").Message);
        Assert.Contains("variables are not expanded", Single(problems, "Source.Parameters.tier").Message);
        Single(problems, "Source.Parameters.list");
        Assert.Contains("scriptblock", Single(problems, "Source.Parameters.fn").Message);
        Assert.Contains("ISO 8601", Single(problems, "Source.FirstRunStart").Message);
        Single(problems, "Source.CommandTimeout");
    }

    [Fact]
    public void Query_from_a_file_and_first_run_start_in_utc()
    {
        var folder = Path.Combine(Path.GetTempPath(), "defs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "customers.sql"), "select 1 as externalId");
            var data = Valid();
            Section(data, "Source").Remove("Query");
            Section(data, "Source")["QueryPath"] = "customers.sql";
            Section(data, "Source")["FirstRunStart"] = "2024-03-01T02:00:00+02:00";
            var d = SyncDefinitionParser.Parse(data, Path.Combine(folder, "c.sync.psd1"), _host);
            Assert.Equal("select 1 as externalId", d.Source.Query);
            Assert.Equal(new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc), d.Source.FirstRunStart);
            Assert.Equal(DateTimeKind.Utc, d.Source.FirstRunStart.Kind);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void State_needs_a_file_or_a_provider_with_a_connection_string()
    {
        var both = Valid();
        Section(both, "State")["Provider"] = "Postgres";
        Section(both, "State")["ConnectionString"] = "Host=db;Database=crm";
        Assert.Contains("not both", Single(Problems(both), "State.Path").Message);

        var noProvider = Valid();
        Section(noProvider, "State").Remove("Path");
        Section(noProvider, "State")["ConnectionStringEnvironmentVariable"] = "STATE_CS";
        var problems = Problems(noProvider);
        Single(problems, "State.Provider");
        Assert.Contains("STATE_CS is not set", Single(problems, "State.ConnectionStringEnvironmentVariable").Message);

        var badProvider = Valid();
        Section(badProvider, "State")["Provider"] = "Postgress";
        Single(Problems(badProvider), "State.Provider");

        var badSchema = Valid();
        Section(badSchema, "State")["Schema"] = "1bad-schema";
        Single(Problems(badSchema), "State.Schema");

        var pg = Valid();
        Section(pg, "State").Remove("Path");
        Section(pg, "State")["Provider"] = "postgres";
        Section(pg, "State")["ConnectionString"] = "Host=db;Database=crm";
        Section(pg, "State")["Schema"] = "sync_state";
        var d = Parse(pg);
        Assert.Equal(StateProvider.Postgres, d.State.Provider);
        Assert.Equal("sync_state", d.State.StoreOptions().Schema);
    }

    [Fact]
    public void The_watermark_keeps_the_last_successful_run_unless_failed_rows_are_kept_for_retry()
    {
        var d = Parse(Valid());
        Assert.Equal(StateWatermark.LastSuccessfulRun, d.State.Watermark);

        var retry = Valid();
        Section(retry, "State")["Watermark"] = "advanceandretry";
        d = Parse(retry);
        Assert.Equal(StateWatermark.AdvanceAndRetry, d.State.Watermark);
        Assert.Equal(StateDefinition.DefaultRetryRuns, d.State.RetryRuns);
        Section(retry, "State")["RetryRuns"] = 2;
        Assert.Equal(2, Parse(retry).State.RetryRuns);

        Section(retry, "State")["RetryRuns"] = 0;
        Assert.Contains("1 to 100", Single(Problems(retry), "State.RetryRuns").Message);

        var typo = Valid();
        Section(typo, "State")["Watermark"] = "AdvanceAndRetyr";
        Section(typo, "State")["RetryRuns"] = 3;
        var problems = Problems(typo);
        Assert.Contains("did you mean 'AdvanceAndRetry'", Single(problems, "State.Watermark").Message);
        Assert.DoesNotContain(problems, p => p.Setting == "State.RetryRuns");

        var retryAlone = Valid();
        Section(retryAlone, "State")["RetryRuns"] = 3;
        Assert.Contains("AdvanceAndRetry", Single(Problems(retryAlone), "State.RetryRuns").Message);

        var wholeTable = Valid();
        Section(wholeTable, "State")["Watermark"] = "AdvanceAndRetry";
        Section(wholeTable, "Source").Remove("Parameters");
        Section(wholeTable, "Source")["Query"] = "select id as externalId, name, email from customers";
        Assert.Contains("no Source.Parameters value is '$LastRunStart'", Single(Problems(wholeTable), "State.Watermark").Message);
    }

    [Fact]
    public void Keys_left_and_push_down_are_refused_where_they_would_mislead()
    {
        var keysLeft = Valid();
        keysLeft["ReportKeysLeft"] = true;
        Assert.Contains("$LastRunStart", Single(Problems(keysLeft), "ReportKeysLeft").Message);

        var pushDown = Valid();
        pushDown["PushDown"] = true;
        var problems = Problems(pushDown);
        Assert.Equal(2, problems.Count(p => p.Setting == "PushDown"));
        Assert.Contains(problems, p => p.Message.Contains("Postgres source"));

        var otherDatabase = Valid();
        otherDatabase["PushDown"] = true;
        Section(otherDatabase, "Source")["Provider"] = "Postgres";
        Section(otherDatabase, "Source")["ConnectionString"] = "Host=db1;Database=crm";
        Section(otherDatabase, "State").Remove("Path");
        Section(otherDatabase, "State")["Provider"] = "Postgres";
        Section(otherDatabase, "State")["ConnectionString"] = "Host=db1;Database=other";
        Assert.Contains("different hosts, ports or databases", Single(Problems(otherDatabase), "PushDown").Message);

        Section(otherDatabase, "State")["ConnectionString"] = "Host=DB1;Database=crm;Search Path=x";
        Assert.True(Parse(otherDatabase).PushDown);
    }

    [Fact]
    public void Same_database_compares_host_port_and_database()
    {
        Assert.True(SyncDefinitionParser.SameDatabase("Host=a;Port=5432;Database=x", "host=A;database=X;Username=u"));
        Assert.False(SyncDefinitionParser.SameDatabase("Host=a;Port=5432;Database=x", "Host=a;Port=5433;Database=x"));
        Assert.False(SyncDefinitionParser.SameDatabase("Server=a;Database=x", "Server=b;Database=x"));
    }
}
