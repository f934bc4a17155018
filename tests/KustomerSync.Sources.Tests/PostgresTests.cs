using System.Net;
using KustomerSync.Engine.Sources;
using Npgsql;
using static KustomerSync.Sources.Tests.DatabaseTesting;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Sources.Tests;

/// <summary>Get-SourceRows' Postgres provider against the real Postgres that TestServers.psm1 starts.</summary>
public sealed class PostgresTests
{
    private const string Password = "Pg-Secret-7f3a9";
    private static readonly string Big = new string('x', 1024 * 1024 - 3) + "end";
    private static readonly TestSchema Schema = new();

    private static string Setup()
    {
        var cs = TestServers.Postgres;
        Schema.Ensure(() => new NpgsqlConnection(cs), $$"""
                drop table if exists src_types;
                create table src_types (
                  id int primary key, small smallint, big bigint, amount numeric(38,10), price money, ratio real, score double precision,
                  active boolean, name text, code varchar(20), fixed char(5), uid uuid, born date, seen timestamp, seen_tz timestamptz,
                  at_time time, span interval, doc json, docb jsonb, tags text[], nums int[], raw bytea, ip inet, note text);
                insert into src_types values
                  (1, 7, 9007199254740993, 12345678901234567.1234567891, 12.34, 1.5, 2.25, true, 'Zoë 東京 🚀', 'A-1', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                   '2024-02-29', '2024-03-01 10:20:30.123456', '2024-03-01 10:20:30+02', '13:14:15', '1 day 2 hours',
                   '{"a": [1, 2]}', '{"b": true}', array['x','y'], array[1,2,3], '\xdeadbeef', '10.0.0.1', '{{Big}}'),
                  (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
                do $$ begin
                  if not exists (select from pg_roles where rolname = 'ksync_pw') then create role ksync_pw login password '{{Password}}'; end if;
                end $$;
                """);
        return cs;
    }

    private static List<SourceRow> Read(string cs, string sql, Dictionary<string, object?>? parameters = null, TimeSpan? timeout = null, string provider = "Postgres", NetworkCredential? credential = null, CancellationToken token = default) =>
        DatabaseTesting.ReadAll(provider, cs, sql, parameters, timeout, credential, token);

    [SkippableFact]
    public void Every_common_column_type_comes_back_normalised()
    {
        var cs = Setup();
        var rows = Read(cs, "select * from src_types order by id");
        Assert.Equal(2, rows.Count);
        var row = rows[0];
        Assert.Equal(1, Value(row, "id"));
        Assert.Equal((short)7, Value(row, "small"));
        Assert.Equal(9007199254740993L, Value(row, "big"));
        Assert.Equal(12345678901234567.1234567891m, Value(row, "amount"));
        Assert.IsType<decimal>(Value(row, "price"));
        Assert.Equal(1.5f, Value(row, "ratio"));
        Assert.Equal(2.25, Value(row, "score"));
        Assert.Equal(true, Value(row, "active"));
        Assert.Equal("Zoë 東京 🚀", Value(row, "name"));
        Assert.Equal("ab   ", Value(row, "fixed"));
        Assert.Equal(Guid.Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), Value(row, "uid"));
        var born = Assert.IsType<DateTime>(Value(row, "born"));
        Assert.Equal(new DateTime(2024, 2, 29, 0, 0, 0, DateTimeKind.Utc), born);
        Assert.Equal(DateTimeKind.Utc, born.Kind);
        var seen = Assert.IsType<DateTime>(Value(row, "seen"));
        Assert.Equal(DateTimeKind.Utc, seen.Kind);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234560), seen);
        var seenTz = Assert.IsType<DateTime>(Value(row, "seen_tz"));
        Assert.Equal(DateTimeKind.Utc, seenTz.Kind);
        Assert.Equal(new DateTime(2024, 3, 1, 8, 20, 30, DateTimeKind.Utc), seenTz);
        Assert.Equal(new TimeSpan(13, 14, 15), Value(row, "at_time"));
        Assert.Equal(new TimeSpan(1, 2, 0, 0), Value(row, "span"));
        Assert.Equal("{\"a\": [1, 2]}", Value(row, "doc"));
        Assert.Equal("{\"b\": true}", Value(row, "docb"));
        Assert.Equal("[\"x\",\"y\"]", Value(row, "tags"));
        Assert.Equal("[1,2,3]", Value(row, "nums"));
        Assert.Equal(new byte[] { 0xde, 0xad, 0xbe, 0xef }, Value(row, "raw"));
        Assert.Equal("10.0.0.1", Value(row, "ip"));
        Assert.Equal(Big, Value(row, "note"));

        Assert.All(rows[1].Values.Skip(1), Assert.Null);
    }

    [SkippableFact]
    public void Parameters_are_bound_not_spliced()
    {
        var cs = Setup();
        var rows = Read(cs, "select id, @name::text as echoed from src_types where seen_tz < @before and name = @name",
            new() { ["name"] = "Zoë 東京 🚀", ["before"] = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc) });
        var row = Assert.Single(rows);
        Assert.Equal("Zoë 東京 🚀", Value(row, "echoed"));

        // A value that would break a spliced query is just a value.
        var injected = Read(cs, "select @v::text as v", new() { ["v"] = "'; drop table src_types; --" });
        Assert.Equal("'; drop table src_types; --", Value(injected[0], "v"));
        Assert.Null(Value(Read(cs, "select @v::text as v", new() { ["@v"] = null })[0], "v"));
    }

    [SkippableFact]
    public void Duplicate_column_names_are_made_unique()
    {
        var row = Read(Setup(), "select 1 as id, 2 as id, 3 as \"ID\", 4")[0];
        Assert.Equal(new[] { "id", "id_2", "ID_3", "?column?" }, row.Columns.Names);
    }

    [SkippableFact]
    public void Rows_stream_one_at_a_time()
    {
        // The server fails on the last row it generates: a reader that buffered the result would fail before the
        // first row; one that streams hands every row before the failure on as it arrives.
        var query = new SourceQuery("select g, 1 / (100000 - g) as x, repeat('y', 100) from generate_series(1, 100000) g");
        using var reader = SourceProviders.Create("Postgres", Setup());
        using var enumerator = reader.Read(query, default).GetEnumerator();
        Assert.True(enumerator.MoveNext());
        var count = 1;
        var ex = Assert.Throws<SourceException>(() =>
        {
            while (enumerator.MoveNext()) count++;
        });
        Assert.Equal(99999, count);
        Assert.Contains("22012", ex.Message); // division by zero
    }

    [SkippableFact]
    public void Missing_parameter_is_named()
    {
        var ex = Assert.Throws<SourceException>(() => Read(Setup(), "select id from src_types where seen > @since and id = @id", new() { ["id"] = 1 }));
        Assert.Equal(ErrorIds.SourceMissingParameter, ex.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("@since", ex.Message);
        Assert.DoesNotContain("@id,", ex.Message);
    }

    [SkippableFact]
    public void Syntax_error_carries_the_server_message()
    {
        var ex = Assert.Throws<SourceException>(() => Read(Setup(), "selec id from src_types"));
        Assert.Equal(ErrorIds.SourceQueryFailed, ex.ErrorId);
        Assert.Contains("42601", ex.Message);
        Assert.Contains("syntax error", ex.Message);
    }

    [SkippableFact]
    public void Wrong_password_is_an_authentication_error_without_the_password()
    {
        var cs = Setup();
        var builder = new NpgsqlConnectionStringBuilder(cs) { Username = "ksync_pw", Password = "Wrong-" + Password };
        var ex = Assert.Throws<SourceException>(() => Read(builder.ConnectionString, "select 1"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, ex.ErrorId);
        Assert.Equal(ErrorKind.AuthenticationFailed, ex.Kind);
        Assert.DoesNotContain(Password, ex.Message);
        Assert.Contains("ksync_pw", ex.Message);

        // The right password through -Credential works (merged into the connection string).
        var withoutUser = new NpgsqlConnectionStringBuilder(cs) { Username = null };
        var rows = Read(withoutUser.ConnectionString, "select current_user as who", credential: new NetworkCredential("ksync_pw", Password));
        Assert.Equal("ksync_pw", Value(rows[0], "who"));
        var wrong = Assert.Throws<SourceException>(() => Read(withoutUser.ConnectionString, "select 1", credential: new NetworkCredential("ksync_pw", "Nope-" + Password)));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, wrong.ErrorId);
        Assert.DoesNotContain(Password, wrong.Message);
    }

    [Fact]
    public void Unreachable_server_names_host_and_port()
    {
        var port = TestServers.ClosedPort();
        var ex = Assert.Throws<SourceException>(() => Read($"Host=127.0.0.1;Port={port};Username=u;Password=Secret-Unreach-1;Timeout=5", "select 1"));
        Assert.Equal(ErrorIds.SourceConnectionFailed, ex.ErrorId);
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
        Assert.DoesNotContain("Secret-Unreach-1", ex.Message);
    }

    [SkippableFact]
    public void Command_timeout_stops_a_long_query()
    {
        // pg_sleep(600) cannot end by itself within the test run: only the statement timeout ends it.
        var ex = Assert.Throws<SourceException>(() => Read(Setup(), "select pg_sleep(600)", timeout: TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorIds.SourceTimeout, ex.ErrorId);
    }

    [SkippableFact]
    public async Task Cancellation_stops_a_running_query()
    {
        var cs = Setup();
        var marker = "ks-cancel-" + Guid.NewGuid().ToString("N");
        using var cts = new CancellationTokenSource();
        var read = Task.Run(() => Read(cs, $"select pg_sleep(600) /* {marker} */", token: cts.Token));
        // Cancel once the server runs the query: the side connection's statement returns when it sees it active.
        await using (var side = new NpgsqlConnection(cs))
        {
            await side.OpenAsync();
            await using var wait = side.CreateCommand();
            wait.CommandTimeout = 120; // only a guard against hanging if the query never shows up
            wait.CommandText = $"""
                do $$ begin
                  while not exists (select from pg_stat_activity where state = 'active' and query like '%{marker}%' and pid <> pg_backend_pid()) loop
                    perform pg_sleep(0.01);
                    perform pg_stat_clear_snapshot(); -- a transaction sees one snapshot of pg_stat_activity unless told to drop it
                  end loop;
                end $$;
                """;
            await wait.ExecuteNonQueryAsync();
        }
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [SkippableFact]
    public void Redshift_mode_speaks_the_same_protocol()
    {
        var cs = Setup();
        var builder = DbProviders.PostgresBuilder("Host=cluster.example.com;Database=dev", new NetworkCredential("awsuser", "Rs-Secret-1"), redshift: true);
        Assert.Equal(5439, builder.Port);
        Assert.True(builder.NoResetOnClose);
        Assert.Equal("awsuser", builder.Username);
        // Pointed at the local Postgres (Redshift is not available here), with an explicit port kept as given.
        var rows = Read(cs, "select 1 as one, 'r'::varchar as r, 1.5::numeric(5,2) as n", provider: "Redshift");
        Assert.Equal(1.50m, Value(rows[0], "n"));
        Assert.Equal(new NpgsqlConnectionStringBuilder(cs).Port, DbProviders.PostgresBuilder(cs, null, redshift: true).Port);
    }

    [Fact]
    public void Aliases_and_unknown_provider()
    {
        Assert.Equal("Postgres", SourceProviders.Resolve("postgresql"));
        Assert.Equal("MySql", SourceProviders.Resolve("MariaDB"));
        Assert.Equal("SqlServer", SourceProviders.Resolve("Synapse"));
        var ex = Assert.Throws<SourceException>(() => SourceProviders.Create("Oracle", "x=y"));
        Assert.Equal(ErrorIds.SourceUnknownProvider, ex.ErrorId);
        foreach (var name in SourceProviders.Names) Assert.Contains(name, ex.Message);
    }
}
