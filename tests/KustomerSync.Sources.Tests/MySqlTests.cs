using System.Net;
using KustomerSync.Engine.Sources;
using MySqlConnector;
using static KustomerSync.Sources.Tests.DatabaseTesting;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Sources.Tests;

/// <summary>Get-SourceRows' MySql provider against the real MariaDB that TestServers.psm1 starts.</summary>
public sealed class MySqlTests
{
    private const string Password = "My-Secret-4c1d8";
    private static readonly string Big = new string('m', 1024 * 1024 - 3) + "end";
    private static readonly TestSchema Schema = new();

    private static string Setup()
    {
        var cs = TestServers.MySql;
        Schema.Ensure(() => new MySqlConnection(cs), $$"""
                drop table if exists src_types;
                create table src_types (
                  id int primary key, small smallint, big bigint, amount decimal(38,10), ratio float, score double, active tinyint(1),
                  name varchar(100), note mediumtext, born date, seen datetime(6), stamp timestamp(3) null, at_time time, doc json,
                  raw blob, kind enum('a','b'), uid char(36)) character set utf8mb4;
                insert into src_types values
                  (1, 7, 9007199254740993, 12345678901234567.1234567891, 1.5, 2.25, 1, 'Zoë 東京 🚀', @big, '2024-02-29', '2024-03-01 10:20:30.123456',
                   '2024-03-01 10:20:30.125', '13:14:15', '{"a": [1, 2]}', x'deadbeef', 'b', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
                  (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
                create user if not exists 'ksync_pw'@'127.0.0.1' identified by '{{Password}}';
                grant select on test.* to 'ksync_pw'@'127.0.0.1';
                """,
            command => ((MySqlCommand)command).Parameters.AddWithValue("@big", Big));
        return cs;
    }

    private static List<SourceRow> Read(string cs, string sql, Dictionary<string, object?>? parameters = null, TimeSpan? timeout = null, NetworkCredential? credential = null, CancellationToken token = default) =>
        DatabaseTesting.ReadAll("MySql", cs, sql, parameters, timeout, credential, token);

    [SkippableFact]
    public void Every_common_column_type_comes_back_normalised()
    {
        var rows = Read(Setup(), "select * from src_types order by id");
        Assert.Equal(2, rows.Count);
        var row = rows[0];
        Assert.Equal(1, Value(row, "id"));
        Assert.Equal((short)7, Value(row, "small"));
        Assert.Equal(9007199254740993L, Value(row, "big"));
        Assert.Equal(12345678901234567.1234567891m, Value(row, "amount"));
        Assert.Equal(1.5f, Value(row, "ratio"));
        Assert.Equal(2.25, Value(row, "score"));
        Assert.Equal(true, Value(row, "active"));
        Assert.Equal("Zoë 東京 🚀", Value(row, "name"));
        Assert.Equal(Big, Value(row, "note"));
        var born = Assert.IsType<DateTime>(Value(row, "born"));
        Assert.Equal(new DateTime(2024, 2, 29, 0, 0, 0, DateTimeKind.Utc), born);
        Assert.Equal(DateTimeKind.Utc, born.Kind);
        var seen = Assert.IsType<DateTime>(Value(row, "seen"));
        Assert.Equal(DateTimeKind.Utc, seen.Kind);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234560), seen);
        Assert.Equal(DateTimeKind.Utc, Assert.IsType<DateTime>(Value(row, "stamp")).Kind);
        Assert.Equal(new TimeSpan(13, 14, 15), Value(row, "at_time"));
        var doc = Assert.IsType<string>(Value(row, "doc"));
        Assert.Contains("\"a\"", doc);
        Assert.Equal(new byte[] { 0xde, 0xad, 0xbe, 0xef }, Value(row, "raw"));
        Assert.Equal("b", Value(row, "kind"));
        Assert.All(rows[1].Values.Skip(1), Assert.Null);
    }

    [SkippableFact]
    public void Parameters_are_bound_and_duplicates_made_unique()
    {
        var cs = Setup();
        var rows = Read(cs, "select id, id, name from src_types where born < @before and name = @name",
            new() { ["name"] = "Zoë 東京 🚀", ["before"] = new DateTime(2030, 1, 1) });
        var row = Assert.Single(rows);
        Assert.Equal(new[] { "id", "id_2", "name" }, row.Columns.Names);
        Assert.Equal("'; drop table src_types; --", Value(Read(cs, "select @v as v", new() { ["v"] = "'; drop table src_types; --" })[0], "v"));
    }

    [SkippableFact]
    public void Missing_parameter_is_named()
    {
        var ex = Assert.Throws<SourceException>(() => Read(Setup(), "select id from src_types where born > @since"));
        Assert.Equal(ErrorIds.SourceMissingParameter, ex.ErrorId);
        Assert.Contains("@since", ex.Message);
    }

    [SkippableFact]
    public void Syntax_error_carries_the_server_message()
    {
        var ex = Assert.Throws<SourceException>(() => Read(Setup(), "selec id from src_types"));
        Assert.Equal(ErrorIds.SourceQueryFailed, ex.ErrorId);
        Assert.Contains("SQL syntax", ex.Message);
    }

    [SkippableFact]
    public void Wrong_password_is_an_authentication_error_without_the_password()
    {
        var cs = Setup();
        var builder = new MySqlConnectionStringBuilder(cs) { UserID = "ksync_pw", Password = "Wrong-" + Password };
        var ex = Assert.Throws<SourceException>(() => Read(builder.ConnectionString, "select 1"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, ex.ErrorId);
        Assert.DoesNotContain(Password, ex.Message);

        var withoutUser = new MySqlConnectionStringBuilder(cs) { UserID = "" };
        var rows = Read(withoutUser.ConnectionString, "select current_user() as who", credential: new NetworkCredential("ksync_pw", Password));
        Assert.StartsWith("ksync_pw@", (string)Value(rows[0], "who")!);
    }

    [Fact]
    public void Unreachable_server_names_host_and_port()
    {
        var port = TestServers.ClosedPort();
        var ex = Assert.Throws<SourceException>(() => Read($"Server=127.0.0.1;Port={port};User ID=u;Password=Secret-Unreach-2;Connection Timeout=5", "select 1"));
        Assert.Equal(ErrorIds.SourceConnectionFailed, ex.ErrorId);
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
        Assert.DoesNotContain("Secret-Unreach-2", ex.Message);
    }

    [SkippableFact]
    public void Command_timeout_stops_a_long_query()
    {
        // sleep(600) cannot end by itself within the test run: only the command timeout ends it.
        var ex = Assert.Throws<SourceException>(() => Read(Setup(), "select sleep(600)", timeout: TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorIds.SourceTimeout, ex.ErrorId);
    }

    [SkippableFact]
    public async Task Cancellation_stops_a_running_query()
    {
        var cs = Setup();
        var marker = "ks-cancel-" + Guid.NewGuid().ToString("N");
        using var cts = new CancellationTokenSource();
        var read = Task.Run(() => Read(cs, $"select sleep(600) /* {marker} */", token: cts.Token));
        // Cancel once the server runs the query: the side connection's block returns when it sees it in the process list.
        await using (var side = new MySqlConnection(cs))
        {
            await side.OpenAsync();
            await using var wait = side.CreateCommand();
            wait.CommandTimeout = 120; // only a guard against hanging if the query never shows up
            wait.CommandText = $"""
                begin not atomic
                  while not exists (select 1 from information_schema.processlist where command = 'Query' and info like '%{marker}%' and id <> connection_id()) do
                    do sleep(0.01);
                  end while;
                end
                """;
            await wait.ExecuteNonQueryAsync();
        }
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }
}
