using System.Text.RegularExpressions;

namespace KustomerSync.State.Tests;

/// <summary>
/// SQL Server cannot run on these machines (no package, no Docker engine): its statements are checked as text, for the
/// shapes and limits that matter. Nothing here proves they run on a server.
/// </summary>
public class SqlServerDialectTests
{
    private static readonly SqlServerStateDialect Dialect = new(new StateStoreOptions { Schema = "ks", TablePrefix = "p_" });

    [Fact]
    public void Tables_are_schema_qualified_and_bracket_quoted()
    {
        Assert.Equal("[ks].[p_state]", Dialect.Table("state"));
        Assert.Equal("[a]]b]", Dialect.Quote("a]b"));
    }

    [Fact]
    public void Ddl_uses_sql_server_types_and_fits_the_index_key_limit()
    {
        var ddl = string.Join("\n", Dialect.BootstrapStatements().Concat(Dialect.Migrations().SelectMany(m => m)));
        Assert.Contains("IF SCHEMA_ID(N'ks') IS NULL EXEC('CREATE SCHEMA [ks]')", ddl);
        Assert.Contains("bigint IDENTITY(1,1) NOT NULL PRIMARY KEY", ddl);
        Assert.Contains("datetime2(7)", ddl);
        Assert.Contains("what_if bit NOT NULL", ddl);
        Assert.DoesNotContain("ADD COLUMN", ddl);
        Assert.Contains("ALTER TABLE [ks].[p_state] ADD source_hash", ddl);
        Assert.DoesNotContain("timestamptz", ddl);
        Assert.DoesNotContain(" text", ddl);
        // primary key of state: sync_name nvarchar(128) + record_key nvarchar(320) = 896 bytes <= 900
        Assert.Matches(new Regex(@"CREATE TABLE \[ks\]\.\[p_state\] \(sync_name nvarchar\(128\) NOT NULL, record_key nvarchar\(320\) NOT NULL"), ddl);
        Assert.Matches(new Regex(@"CREATE TABLE \[ks\]\.\[p_retry\] \(sync_name nvarchar\(128\) NOT NULL, record_key nvarchar\(320\) NOT NULL, row_data nvarchar\(max\) NOT NULL"), ddl);
        Assert.Contains("ALTER TABLE [ks].[p_run] ADD failed_rows_kept bit NULL", ddl);
        Assert.Contains("ALTER TABLE [ks].[p_state] ADD valued_fields nvarchar(max) NULL", ddl);
        Assert.Contains("ALTER TABLE [ks].[p_state] ADD record_stamp nvarchar(400) NULL", ddl);
        Assert.Equal(6, Dialect.LatestVersion);
    }

    [Fact]
    public void Batched_merges_stay_under_the_parameter_limit_and_lock_the_key_range()
    {
        var n = Dialect.RowsPerStatement;
        foreach (var sql in new[] { Dialect.ConfirmStatement(n), Dialect.FailStatement(n), Dialect.OutcomeStatement(n) })
        {
            var parameters = Regex.Matches(sql, @"@[a-z]+\d*").Select(m => m.Value).Distinct().Count();
            Assert.True(parameters < 2100, $"{parameters} parameters");
        }
        var confirm = Dialect.ConfirmStatement(2);
        Assert.StartsWith("MERGE INTO [ks].[p_state] WITH (HOLDLOCK) AS t USING (VALUES (@k0, @i0, @h0, @x0, @v0, @r0, @t0), (@k1, @i1, @h1, @x1, @v1, @r1, @t1))", confirm);
        Assert.Contains("valued_fields = v.valued_fields", confirm);
        Assert.Contains("record_stamp = v.record_stamp", confirm);
        Assert.Contains("VALUES (@s, v.record_key, v.kustomer_id, v.payload_hash, v.source_hash, v.valued_fields, v.record_stamp, v.at, 0, v.at);", confirm);
        Assert.DoesNotContain("record_stamp", Dialect.FailStatement(2));
        Assert.Contains("WHEN MATCHED THEN UPDATE SET", confirm);
        Assert.Contains("WHEN NOT MATCHED THEN INSERT", confirm);
        Assert.EndsWith(";", confirm);
        Assert.Contains("attempts = t.attempts + 1", Dialect.FailStatement(1));
        Assert.Contains("COALESCE(v.kustomer_id, t.kustomer_id)", Dialect.FailStatement(1));
    }

    [Fact]
    public void Source_hash_and_gone_updates_join_values_or_list_keys()
    {
        Assert.Equal("UPDATE t SET source_hash = v.x FROM [ks].[p_state] AS t JOIN (VALUES (@k0, @x0), (@k1, @x1)) AS v (k, x) ON t.record_key = v.k WHERE t.sync_name = @s",
            Dialect.SourceHashStatement(2));
        Assert.Equal("UPDATE [ks].[p_state] SET source_hash = @x0 WHERE sync_name = @s AND record_key = @k0", Dialect.SourceHashStatement(1));
        Assert.Equal("UPDATE [ks].[p_state] SET gone_since = @g WHERE sync_name = @s AND record_key IN (@k0, @k1)", Dialect.GoneStatement(2));
        Assert.Equal("UPDATE t SET valued_fields = v.x FROM [ks].[p_state] AS t JOIN (VALUES (@k0, @x0), (@k1, @x1)) AS v (k, x) ON t.record_key = v.k WHERE t.sync_name = @s",
            Dialect.ValuedStatement(2));
        Assert.Equal("SELECT TOP (@limit) total FROM [ks].[p_run] WHERE sync_name = @s AND what_if = @w AND status IN (@ok, @partial) ORDER BY run_id DESC",
            Dialect.LastSuccessfulRunRowsQuery());
    }

    [Fact]
    public void Lease_statement_updates_under_lock_then_inserts_if_missing()
    {
        var sql = Dialect.AcquireLeaseStatement();
        Assert.Contains("UPDATE [ks].[p_sync] WITH (UPDLOCK, HOLDLOCK)", sql);
        Assert.Contains("lease_token IS NULL OR lease_heartbeat_at < @stale OR lease_token = @tok", sql);
        Assert.Contains("IF @@ROWCOUNT = 0 AND NOT EXISTS", sql);
        Assert.Contains("EXEC sp_getapplock", Dialect.MigrationLockStatement());
    }

    [Fact]
    public void Run_ids_come_from_output_and_limits_from_top()
    {
        Assert.Contains("OUTPUT INSERTED.run_id VALUES", Dialect.StartRunStatement());
        Assert.Equal("SELECT TOP (@limit) x FROM y", Dialect.Select("x FROM y", limited: true));
        Assert.Equal("SELECT x FROM y LIMIT @limit", new PostgresStateDialect(new StateStoreOptions()).Select("x FROM y", limited: true));
    }

    [Fact]
    public void Pushed_down_diff_has_a_sql_server_form()
    {
        var q = PushedDownDiff.BuildSqlServerQuery("select id as externalId, name from dbo.customers;", "externalId", "s", Dialect.Table("state"));
        Assert.Contains("FROM (\nselect id as externalId, name from dbo.customers\n) AS q", q.Sql);
        Assert.Contains("HASHBYTES('MD5', CONCAT(CAST(@ks_salt AS nvarchar(max)), (SELECT q.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES)))", q.Sql);
        Assert.Contains("LEFT JOIN [ks].[p_state] AS ks_s ON ks_s.sync_name = @ks_sync AND ks_s.record_key = CONVERT(nvarchar(320), q.[externalId])", q.Sql);
        Assert.Contains("WHERE ks_s.source_hash IS NULL OR ks_s.source_hash <> ks_h.h", q.Sql);
        Assert.Contains("ks_s.valued_fields AS [__ks_valued], ks_s.record_stamp AS [__ks_stamp]\n", q.Sql);
        Assert.Equal("s", q.Parameters["ks_sync"]);
        Assert.Equal("", q.Parameters["ks_salt"]);
    }

    [Fact]
    public void An_unreachable_sql_server_is_a_clear_error_without_the_password()
    {
        var store = StateStores.SqlServer("Server=tcp:127.0.0.1,1;Database=d;User ID=u;Password=Sup3rSecret;Connect Timeout=2;Encrypt=False");
        var ex = Assert.Throws<StateException>(() => store.Open(new SyncStateOptions("customers")));
        Assert.Equal("KustomerSync.StateUnreadable", ex.ErrorId);
        Assert.DoesNotContain("Sup3rSecret", ex.Message);
        Assert.Contains("SqlServer", ex.Message);
    }

    [Fact]
    public void Sql_server_store_is_created_without_touching_a_server_and_masks_secrets()
    {
        var store = StateStores.SqlServer("Server=tcp:db.example,1433;Database=d;User ID=u;Password=p@ss;Encrypt=True");
        Assert.Equal(StateProvider.SqlServer, store.Provider);
        Assert.DoesNotContain("p@ss", store.Display);
        Assert.Equal(StateProvider.SqlServer, StateStores.ParseProvider("sqlserver"));
        Assert.Equal("KustomerSync.StateInvalidArgument", Assert.Throws<StateException>(() => StateStores.ParseProvider("Oracle")).ErrorId);
    }
}

/// <summary>
/// Every SQL Server statement the store and the pushed-down diff build, parsed by Microsoft's own T-SQL parser
/// (ScriptDom, SQL Server 2022 grammar). This proves the syntax, not the behaviour: no SQL Server runs here.
/// </summary>
public class SqlServerSyntaxTests
{
    private static readonly SqlServerStateDialect Dialect = new(new StateStoreOptions { Schema = "kustomersync", TablePrefix = "" });

    public static TheoryData<string, string> Statements()
    {
        var data = new TheoryData<string, string>();
        var i = 0;
        foreach (var s in Dialect.BootstrapStatements()) data.Add("bootstrap " + i++, s);
        var v = 1;
        foreach (var migration in Dialect.Migrations())
        {
            var j = 0;
            foreach (var s in migration) data.Add($"migration v{v} #{j++}", s);
            v++;
        }
        data.Add("migration lock", Dialect.MigrationLockStatement()!);
        data.Add("table exists", Dialect.TableExistsQuery());
        foreach (var n in new[] { 1, 2, Dialect.RowsPerStatement })
        {
            data.Add($"confirm x{n}", Dialect.ConfirmStatement(n));
            data.Add($"fail x{n}", Dialect.FailStatement(n));
            data.Add($"outcome x{n}", Dialect.OutcomeStatement(n));
            data.Add($"source hash x{n}", Dialect.SourceHashStatement(n));
            data.Add($"valued fields x{n}", Dialect.ValuedStatement(n));
            data.Add($"gone x{n}", Dialect.GoneStatement(n));
        }
        data.Add("kept rows", Dialect.KeptRowsQuery());
        data.Add("drop kept row", Dialect.DropKeptRowStatement());
        data.Add("keep row", Dialect.KeepRowStatement());
        data.Add("run kept its failed rows", Dialect.RunKeptFailedRowsStatement());
        data.Add("row outcome message", Dialect.RowOutcomeMessageStatement());
        data.Add("advancing run starts", Dialect.AdvancingRunStartsQuery());
        data.Add("known records", Dialect.KnownQuery());
        data.Add("last successful run rows", Dialect.LastSuccessfulRunRowsQuery());
        data.Add("lease", Dialect.AcquireLeaseStatement());
        data.Add("start run", Dialect.StartRunStatement());
        data.Add("select top", Dialect.Select("run_id FROM [kustomersync].[run] WHERE sync_name = @s ORDER BY run_id DESC", limited: true));
        data.Add("pushed-down diff", PushedDownDiff.BuildSqlServerQuery(
            "select c.id as externalId, c.email, c.full_name as name from dbo.customers c where c.updated_at > @since;", "externalId", "s", Dialect.Table("state"), salt: "m1").Sql);
        data.Add("pushed-down diff, email", PushedDownDiff.BuildSqlServerQuery(
            "select email as externalId, v from dbo.t", "externalId", "s", Dialect.Table("state"), lowerCaseKey: true).Sql);
        return data;
    }

    [Fact]
    public void The_parser_does_reject_other_dialects()
    {
        var parser = new Microsoft.SqlServer.TransactSql.ScriptDom.TSql160Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(new PostgresStateDialect(new StateStoreOptions()).ConfirmStatement(2));
        parser.Parse(reader, out var errors);
        Assert.NotEmpty(errors); // INSERT ... ON CONFLICT is not T-SQL: the syntax check is not vacuous
    }

    [Theory]
    [MemberData(nameof(Statements))]
    public void Statement_parses_as_T_SQL(string name, string sql)
    {
        var parser = new Microsoft.SqlServer.TransactSql.ScriptDom.TSql160Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(sql);
        parser.Parse(reader, out var errors);
        Assert.True(errors.Count == 0, $"{name}: {string.Join("; ", errors.Select(e => $"line {e.Line} col {e.Column}: {e.Message}"))}\n{sql}");
    }
}
