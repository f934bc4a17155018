using System.Net;
using System.Security.Cryptography;
using KustomerSync.Engine.Sources;
using KustomerSync.Sources.Tests.Doubles;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Sources.Tests;

/// <summary>The Snowflake provider against a double of the SQL API v2 (Snowflake itself is not reachable here).</summary>
public sealed class SnowflakeTests : IDisposable
{
    private readonly RSA _key = RSA.Create(2048);
    private readonly VirtualTime _time = new();
    private readonly SnowflakeDouble _double;
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"ks-sf-{Guid.NewGuid():N}.p8");

    public SnowflakeTests()
    {
        _double = new SnowflakeDouble(_key, "myorg-acct", "sync_user", _time);
        File.WriteAllText(_keyFile, _key.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        _double.Dispose();
        File.Delete(_keyFile);
    }

    private string KeyPair => $"Account=myorg-acct;User=sync_user;PrivateKeyFile={_keyFile};Warehouse=WH;Database=CRM;Schema=PUBLIC;Role=SYNC;Endpoint={_double.Url};PollIntervalMs=20";

    private List<SourceRow> Read(string cs, string sql, NetworkCredential? credential = null, Action<SourceQuery>? configure = null, CancellationToken token = default)
    {
        var query = new SourceQuery(sql) { CommandTimeout = TimeSpan.FromSeconds(30) };
        configure?.Invoke(query);
        using var reader = SourceProviders.Create("Snowflake", cs, credential, time: _time);
        return reader.Read(query, token).ToList();
    }

    [Fact]
    public void Double_key_pair_jwt_reads_every_partition_with_typed_values()
    {
        var rows = Read(KeyPair, "select * from customers where id > ? and name <> ?", configure: q =>
        {
            q.Parameters["min"] = 0;
            q.Parameters["name"] = "x";
        });
        Assert.Equal(5, rows.Count);
        Assert.Equal(new[] { "ID", "AMOUNT", "RATIO", "ACTIVE", "NAME", "BORN", "SEEN", "SEEN_TZ", "DOC", "RAW", "NAME_2" }, rows[0].Columns.Names);
        var v = rows[0].Values;
        Assert.Equal(1L, v[0]);
        Assert.Equal(12345678901234567.89m, v[1]);
        Assert.Equal(1.5, v[2]);
        Assert.Equal(true, v[3]);
        Assert.Equal("Zoë 東京 🚀", v[4]);
        Assert.Equal(SnowflakeDouble.Born, v[5]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234568), v[6]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)v[7]!).Kind);
        Assert.Equal("{\n  \"a\": [1, 2]\n}", v[8]);
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, v[9]);
        Assert.All(rows[1].Values.Skip(1), Assert.Null);
        Assert.Equal(new[] { 1L, 2L, 3L, 4L, 5L }, rows.Select(r => (long)r.Values[0]!));

        var requests = _double.Requests.ToList();
        var post = requests.Single(r => r.Method == "POST");
        Assert.Equal("KEYPAIR_JWT", post.Headers["X-Snowflake-Authorization-Token-Type"]);
        var body = post.Json;
        Assert.Equal("WH", body.GetProperty("warehouse").GetString());
        Assert.Equal("CRM", body.GetProperty("database").GetString());
        Assert.Equal("SYNC", body.GetProperty("role").GetString());
        Assert.Equal(30, body.GetProperty("timeout").GetInt32());
        Assert.Equal("FIXED", body.GetProperty("bindings").GetProperty("1").GetProperty("type").GetString());
        Assert.Equal("0", body.GetProperty("bindings").GetProperty("1").GetProperty("value").GetString());
        Assert.Equal("TEXT", body.GetProperty("bindings").GetProperty("2").GetProperty("type").GetString());
        Assert.Contains(requests, r => r.PathAndQuery.EndsWith("?partition=1"));
        Assert.Contains(requests, r => r.PathAndQuery.EndsWith("?partition=2"));
    }

    [Fact]
    public void Double_oauth_token_from_credential_and_async_polling()
    {
        var rows = Read($"Account=myorg-acct;Endpoint={_double.Url};PollIntervalMs=20", "select slow", new NetworkCredential("", SnowflakeDouble.OAuthToken));
        Assert.Equal(5, rows.Count);
        Assert.Contains(_double.Requests, r => r.Method == "GET" && r.PathAndQuery.StartsWith("/api/v2/statements/h-slow-") && !r.PathAndQuery.Contains("partition"));
        Assert.All(_double.Requests, r => Assert.Equal("OAUTH", r.Headers["X-Snowflake-Authorization-Token-Type"]));
    }

    [Fact]
    public void Double_syntax_error_and_bad_token_are_clear_and_secret_free()
    {
        var syntax = Assert.Throws<SourceException>(() => Read(KeyPair, "selec 1"));
        Assert.Equal(ErrorIds.SourceQueryFailed, syntax.ErrorId);
        Assert.Contains("syntax error line 1", syntax.Message);
        Assert.Contains("42000", syntax.Message);

        var bad = Assert.Throws<SourceException>(() => Read($"Account=myorg-acct;Token=Wrong-Secret-Token-55;Endpoint={_double.Url}", "select 1"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, bad.ErrorId);
        Assert.DoesNotContain("Wrong-Secret-Token-55", bad.Message);
        Assert.Contains("Invalid OAuth access token", bad.Message);

        var otherKey = Path.Combine(Path.GetTempPath(), $"ks-sf-{Guid.NewGuid():N}.pem");
        File.WriteAllText(otherKey, RSA.Create(2048).ExportRSAPrivateKeyPem());
        try
        {
            var wrongKey = Assert.Throws<SourceException>(() => Read(KeyPair.Replace(_keyFile, otherKey), "select 1"));
            Assert.Equal(ErrorIds.SourceAuthenticationFailed, wrongKey.ErrorId);
            Assert.DoesNotContain("eyJ", wrongKey.Message); // the JWT the double echoes is masked
        }
        finally
        {
            File.Delete(otherKey);
        }
    }

    [Fact]
    public void Double_positional_parameters_need_an_order_and_every_placeholder()
    {
        var missing = Assert.Throws<SourceException>(() => Read(KeyPair, "select ? as a, '?' as b, ? as c", configure: q => q.Parameters["a"] = 1));
        Assert.Equal(ErrorIds.SourceMissingParameter, missing.ErrorId);
        Assert.Contains("?2", missing.Message);

        var unordered = Assert.Throws<SourceException>(() => Read(KeyPair, "select ?, ?", configure: q =>
        {
            q.Parameters["a"] = 1;
            q.Parameters["b"] = 2;
            q.ParametersOrdered = false;
        }));
        Assert.Equal(ErrorIds.SourceInvalidParameter, unordered.ErrorId);
        Assert.Contains("1, 2, 3", unordered.Message);

        // Keys named 1, 2 bind by number whatever their order.
        Read(KeyPair, "select ?, ?", configure: q =>
        {
            q.Parameters["2"] = "second";
            q.Parameters["1"] = "first";
            q.ParametersOrdered = false;
        });
        var bindings = _double.Requests.Last(r => r.Method == "POST").Json.GetProperty("bindings");
        Assert.Equal("first", bindings.GetProperty("1").GetProperty("value").GetString());
        Assert.Equal("second", bindings.GetProperty("2").GetProperty("value").GetString());
    }

    [Fact]
    public async Task Double_cancellation_and_timeout_cancel_the_statement()
    {
        // Cancel once the statement is being polled (its handle known), whenever that is.
        using var cts = new CancellationTokenSource();
        var read = Task.Run(() => Read(KeyPair, "select forever", token: cts.Token));
        await _double.ForeverPolled;
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Contains(_double.Requests, r => r.Method == "POST" && r.PathAndQuery == "/api/v2/statements/h-forever/cancel");

        // The deadline runs on the injected clock: polls pass at once, and it is the clock that runs out.
        var timeout = Assert.Throws<SourceException>(() => Read(KeyPair, "select forever", configure: q => q.CommandTimeout = TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorIds.SourceTimeout, timeout.ErrorId);
        Assert.Equal(2, _double.Requests.Count(r => r.PathAndQuery.EndsWith("/cancel")));
    }

    [Fact]
    public void Double_partitions_after_the_first_come_gzipped_and_every_row_arrives()
    {
        // 2,500 rows in partitions of 500/1,000/1,000; the double gzips partitions 1 and 2 as Snowflake does.
        var rows = Read(KeyPair, "select * from big");
        Assert.Equal(Enumerable.Range(1, 2500).Select(i => (long)i), rows.Select(r => (long)r.Values[0]!));
        Assert.Contains(_double.Requests, r => r.PathAndQuery.EndsWith("?partition=2"));
    }

    [Theory]
    [InlineData("select lossy", "Partition 1 of statement h-lossy was announced with 2 rows, but 1 arrived", 3)]
    [InlineData("select garbled", "partition 1 of 3 of statement h-garbled", 2)]
    [InlineData("select html", "partition 2 of 3 of statement h-html is not readable JSON", 4)]
    public void Double_a_partition_that_cannot_be_read_or_falls_short_fails_naming_it(string sql, string expected, int before)
    {
        var rows = new List<SourceRow>();
        var query = new SourceQuery(sql);
        using var reader = SourceProviders.Create("Snowflake", KeyPair, time: _time);
        var ex = Assert.Throws<SourceException>(() =>
        {
            foreach (var row in reader.Read(query, default)) rows.Add(row);
        });
        Assert.Equal(ErrorIds.SourceReadFailed, ex.ErrorId);
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain("eyJ", ex.Message);
        Assert.Equal(before, rows.Count); // the rows before the failure were streamed; none after it
    }

    [Fact]
    public void Double_a_read_longer_than_the_jwt_lifetime_mints_a_new_one()
    {
        var query = new SourceQuery("select * from big");
        using var reader = SourceProviders.Create("Snowflake", KeyPair, time: _time);
        var count = 0;
        foreach (var _ in reader.Read(query, default))
        {
            // The pipeline takes 61 minutes over the first partition: the first JWT (one hour at most) has expired.
            if (++count == 1) _time.Advance(TimeSpan.FromMinutes(61));
        }
        Assert.Equal(2500, count);
        var tokens = _double.Requests.Select(r => r.Headers["Authorization"]).Distinct().ToList();
        Assert.Equal(2, tokens.Count);
    }

    [Fact]
    public void Double_429_waits_as_long_as_retry_after_says()
    {
        Assert.Equal(5, Read(KeyPair, "select busy").Count);
        Assert.Equal(2, _double.Requests.Count(r => r.Method == "POST"));
        Assert.Contains(TimeSpan.FromSeconds(7), _time.Waits);
    }

    [Fact]
    public async Task Disposing_the_reader_closes_its_connections()
    {
        var reader = SourceProviders.Create("Snowflake", KeyPair, time: _time);
        Assert.Equal(5, reader.Read(new SourceQuery("select 1"), default).Count());
        Assert.True(_double.Server.Connections > 0);
        reader.Dispose();
        // Without Dispose the pooled connection would stay open for minutes; the guard only keeps a failure from hanging.
        await _double.Server.AllConnectionsClosed().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Endpoints_must_be_https_except_loopback_and_unreachable_names_host_port()
    {
        var insecure = Assert.Throws<SourceException>(() => SourceProviders.Create("Snowflake", "Account=a;Token=t;Endpoint=http://snowflake.example.com"));
        Assert.Equal(ErrorIds.SourceInsecureEndpoint, insecure.ErrorId);
        using (var reader = SourceProviders.Create("Snowflake", "Account=acme-prod;Token=t")) Assert.Equal("acme-prod.snowflakecomputing.com:443", reader.Target);

        var port = TestServers.ClosedPort();
        var down = Assert.Throws<SourceException>(() => Read($"Account=a;Token=Unreach-Secret-9;Endpoint=http://127.0.0.1:{port}", "select 1"));
        Assert.Equal(ErrorIds.SourceConnectionFailed, down.ErrorId);
        Assert.Contains($"127.0.0.1:{port}", down.Message);
        Assert.DoesNotContain("Unreach-Secret-9", down.Message);
    }

    [Fact]
    public void Jwt_claims_follow_snowflake_rules()
    {
        Assert.Equal("XY12345", KustomerSync.Engine.Sources.Rest.SnowflakeSource.JwtAccount("xy12345.us-east-2.aws"));
        Assert.Equal("MYORG-ACCT", KustomerSync.Engine.Sources.Rest.SnowflakeSource.JwtAccount("myorg-acct"));
    }
}
