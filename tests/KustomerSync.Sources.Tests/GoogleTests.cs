using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using KustomerSync.Engine.Sources;
using KustomerSync.Sources.Tests.Doubles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Sources.Tests;

/// <summary>
/// BigQuery and Google Sheets against doubles of Google's token endpoint (JWT bearer grant, signature checked; each
/// token carries the scope it was asked for and lives an hour on the double's clock), BigQuery jobs.query /
/// getQueryResults (pageToken, totalRows, jobComplete=false, jobs.cancel, error bodies) and the Sheets values API
/// (spreadsheets.get for the row count, values.get by row ranges). Like Google's APIs, each method accepts only the
/// scopes its reference lists (403 ACCESS_TOKEN_SCOPE_INSUFFICIENT otherwise), and Sheets answers a bad API key with
/// 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
/// </summary>
public sealed class GoogleTests : IDisposable
{
    private const string AccessToken = "ya29.Secret-Access-Token-31";
    private const string ApiKey = "AIza-Secret-ApiKey-8";
    private const string Scopes = "https://www.googleapis.com/auth/";
    private static readonly string[] BigQueryWrite = { Scopes + "bigquery", Scopes + "cloud-platform" };
    private static readonly string[] BigQueryRead = { Scopes + "bigquery", Scopes + "cloud-platform", Scopes + "bigquery.readonly", Scopes + "cloud-platform.read-only" };
    private static readonly string[] SheetsRead = { Scopes + "spreadsheets", Scopes + "spreadsheets.readonly", Scopes + "drive", Scopes + "drive.readonly", Scopes + "drive.file" };
    private readonly RSA _key = RSA.Create(2048);
    private readonly VirtualTime _time = new();
    private readonly DoubleServer _double;
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"ks-sa-{Guid.NewGuid():N}.json");
    private readonly ConcurrentDictionary<string, int> _polls = new();
    private readonly ConcurrentDictionary<string, (string[] Scopes, DateTimeOffset Expires)> _issued = new();
    private static readonly object?[][] Grid = BuildGrid();

    public GoogleTests()
    {
        _double = DoubleServer.Start(app =>
        {
            app.MapPost("/token", async (HttpRequest request) =>
            {
                var form = await request.ReadFormAsync();
                var claims = DoubleServer.VerifyJwt(form["assertion"].ToString(), _key);
                if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" || claims is not { } c
                    || c.GetProperty("iss").GetString() != "sync@proj.iam.gserviceaccount.com" || !c.GetProperty("aud").GetString()!.EndsWith("/token"))
                    return DoubleServer.Json(400, new { error = "invalid_grant", error_description = "Invalid JWT Signature." });
                var token = "ya29.sa-" + Guid.NewGuid().ToString("N");
                _issued[token] = (c.GetProperty("scope").GetString()!.Split(' '), _time.GetUtcNow().AddSeconds(3599));
                return Results.Json(new { access_token = token, expires_in = 3599, token_type = "Bearer" });
            });
            app.MapPost("/bigquery/v2/projects/{project}/queries", async (HttpRequest request, string project) =>
            {
                if (Denied(request, BigQueryWrite, "bigquery.googleapis.com") is { } denied) return denied;
                var body = await DoubleServer.BodyJson(request);
                var sql = body.GetProperty("query").GetString()!;
                if (sql.StartsWith("selec ", StringComparison.Ordinal))
                    return DoubleServer.Json(400, new { error = new { code = 400, message = "Syntax error: Unexpected identifier \"selec\" at [1:1]", errors = new[] { new { message = "Syntax error: Unexpected identifier \"selec\" at [1:1]", domain = "global", reason = "invalidQuery", location = "q", locationType = "parameter" } }, status = "INVALID_ARGUMENT" } });
                var job = sql.Contains("forever") ? "job-forever" : sql.Contains("slow") ? "job-slow" : sql.Contains("short") ? "job-short" : "job-1";
                return job is "job-1" or "job-short" ? Results.Json(Page(project, job, null)) : Results.Json(new { kind = "bigquery#queryResponse", jobReference = new { projectId = project, jobId = job, location = "EU" }, jobComplete = false });
            });
            app.MapGet("/bigquery/v2/projects/{project}/queries/{job}", (HttpRequest request, string project, string job, string? pageToken, int? timeoutMs) =>
            {
                if (Denied(request, BigQueryRead, "bigquery.googleapis.com") is { } denied) return denied;
                if (job == "job-forever" || (pageToken is null && _polls.AddOrUpdate(job, 1, (_, n) => n + 1) < 2))
                {
                    // A long poll: Google holds the request up to timeoutMs before it answers that the job still runs.
                    _time.Advance(TimeSpan.FromMilliseconds(timeoutMs ?? 10000));
                    return Results.Json(new { kind = "bigquery#getQueryResultsResponse", jobReference = new { projectId = project, jobId = job, location = "EU" }, jobComplete = false });
                }
                return Results.Json(Page(project, job, pageToken));
            });
            app.MapPost("/bigquery/v2/projects/{project}/jobs/{job}/cancel", (HttpRequest request) =>
                Denied(request, BigQueryWrite, "bigquery.googleapis.com") ?? Results.Json(new { kind = "bigquery#jobCancelResponse" }));

            app.MapGet("/v4/spreadsheets/{id}", (HttpRequest request, string id) =>
                SheetsDenied(request) ?? Results.Json(new { sheets = new[] { new { properties = new { sheetId = 0, title = "Customers", index = 0, sheetType = "GRID", gridProperties = new { rowCount = Grid.Length + 20, columnCount = 26 } } } } }));
            app.MapGet("/v4/spreadsheets/{id}/values/{range}", (HttpRequest request, string id, string range) =>
            {
                if (SheetsDenied(request) is { } denied) return denied;
                // 'Customers'!A1:D3 style ranges: return that slice of the grid, trailing empty rows and cells omitted.
                var m = System.Text.RegularExpressions.Regex.Match(Uri.UnescapeDataString(range), @"!([A-Z]*)(\d+):([A-Z]*)(\d+)$");
                var from = int.Parse(m.Groups[2].Value);
                var to = Math.Min(int.Parse(m.Groups[4].Value), Grid.Length);
                var rows = new List<object?[]>();
                for (var r = from; r <= to; r++) rows.Add(Grid[r - 1]);
                while (rows.Count > 0 && rows[^1].Length == 0) rows.RemoveAt(rows.Count - 1);
                return Results.Json(new { range = Uri.UnescapeDataString(range), majorDimension = "ROWS", values = rows });
            });
        });
        File.WriteAllText(_keyFile, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = "proj",
            ["private_key_id"] = "k1",
            ["private_key"] = _key.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "sync@proj.iam.gserviceaccount.com",
            ["token_uri"] = new Uri(_double.Url, "/token").AbsoluteUri,
        }));
    }

    public void Dispose()
    {
        _double.Dispose();
        File.Delete(_keyFile);
    }

    /// <summary>Tokens the double issued are no longer accepted (revoked, or the service's clock is ahead of ours).</summary>
    private void RevokeIssuedTokens()
    {
        foreach (var token in _issued.Keys) _issued[token] = (_issued[token].Scopes, DateTimeOffset.MinValue);
    }

    private static IResult Unauthenticated() => DoubleServer.Json(401, new { error = new { code = 401, message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", status = "UNAUTHENTICATED" } });

    /// <summary>A bearer token checked as Google checks it: known, not expired, and with one of the scopes the method accepts.</summary>
    private IResult? Denied(HttpRequest request, string[] accepted, string service)
    {
        var header = request.Headers.Authorization.ToString();
        if (header == "Bearer " + AccessToken) return null; // a token the user brought, with every scope needed
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !_issued.TryGetValue(header.Substring(7), out var issued) || issued.Expires <= _time.GetUtcNow())
            return Unauthenticated();
        if (issued.Scopes.Intersect(accepted).Any()) return null;
        return DoubleServer.Json(403, new
        {
            error = new
            {
                code = 403,
                message = "Request had insufficient authentication scopes.",
                errors = new[] { new { message = "Insufficient Permission", domain = "global", reason = "insufficientPermissions" } },
                status = "PERMISSION_DENIED",
                details = new[] { new Dictionary<string, object> { ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo", ["reason"] = "ACCESS_TOKEN_SCOPE_INSUFFICIENT", ["domain"] = "googleapis.com", ["metadata"] = new { service } } },
            },
        });
    }

    /// <summary>Sheets takes an API key (public sheets) or a bearer token; a key Google does not know is a 400, not a 401.</summary>
    private IResult? SheetsDenied(HttpRequest request)
    {
        if (request.Query.ContainsKey("key"))
            return request.Query["key"] == ApiKey ? null : DoubleServer.Json(400, new
            {
                error = new
                {
                    code = 400,
                    message = "API key not valid. Please pass a valid API key.",
                    status = "INVALID_ARGUMENT",
                    details = new object[]
                    {
                        new Dictionary<string, object> { ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo", ["reason"] = "API_KEY_INVALID", ["domain"] = "googleapis.com", ["metadata"] = new { service = "sheets.googleapis.com" } },
                        new Dictionary<string, object> { ["@type"] = "type.googleapis.com/google.rpc.LocalizedMessage", ["locale"] = "en-US", ["message"] = "API key not valid. Please pass a valid API key." },
                    },
                },
            });
        return Denied(request, SheetsRead, "sheets.googleapis.com");
    }

    private static object Page(string project, string job, string? token)
    {
        var fields = new object[]
        {
            new { name = "id", type = "INTEGER", mode = "NULLABLE" },
            new { name = "amount", type = "NUMERIC", mode = "NULLABLE" },
            new { name = "active", type = "BOOLEAN", mode = "NULLABLE" },
            new { name = "name", type = "STRING", mode = "NULLABLE" },
            new { name = "seen", type = "TIMESTAMP", mode = "NULLABLE" },
            new { name = "tags", type = "STRING", mode = "REPEATED" },
            new { name = "address", type = "RECORD", mode = "NULLABLE", fields = new object[] { new { name = "city", type = "STRING" }, new { name = "zip", type = "INTEGER" } } },
        };
        object Row(int id) => new { f = new object[] { new { v = id.ToString() }, new { v = "1.5" }, new { v = "false" }, new { v = "n" + id }, new { v = "0" }, new { v = Array.Empty<object>() }, new { v = (object?)null } } };
        object?[] rows = token switch
        {
            null => new object[]
            {
                new { f = new object[] { new { v = "1" }, new { v = "99999999999999999999999999.123456789" }, new { v = "true" }, new { v = "Zoë 東京 🚀" }, new { v = "1709288430123456" },
                    new { v = new object[] { new { v = "a" }, new { v = "b" } } }, new { v = new { f = new object[] { new { v = "Oslo" }, new { v = "150" } } } } } },
                new { f = new object?[] { new { v = "2" }, new { v = (object?)null }, new { v = (object?)null }, new { v = (object?)null }, new { v = (object?)null }, new { v = Array.Empty<object>() }, new { v = (object?)null } } },
            },
            "p2" => new[] { Row(3), Row(4) },
            _ => new[] { Row(5) },
        };
        return new
        {
            kind = "bigquery#getQueryResultsResponse",
            schema = new { fields },
            jobReference = new { projectId = project, jobId = job, location = "EU" },
            totalRows = job == "job-short" ? "6" : "5", // job-short: a page went missing on the way
            pageToken = token switch { null => "p2", "p2" => "p3", _ => null },
            rows,
            jobComplete = true,
        };
    }

    private static object?[][] BuildGrid()
    {
        var grid = new List<object?[]> { new object?[] { "id", "name", "amount", "", "name" } };
        for (var i = 1; i <= 12; i++)
            grid.Add(i == 5 ? Array.Empty<object?>() : new object?[] { i, i == 1 ? "Zoë 東京 🚀" : "row " + i, i == 1 ? 12345678901234.5678m : (object)"", "", i == 2 ? null : "dup" });
        return grid.ToArray();
    }

    private List<SourceRow> Read(string provider, string cs, string sql, Dictionary<string, object?>? parameters = null, NetworkCredential? credential = null, TimeSpan? timeout = null, CancellationToken token = default)
    {
        var query = new SourceQuery(sql) { CommandTimeout = timeout ?? TimeSpan.FromSeconds(30) };
        foreach (var p in parameters ?? new()) query.Parameters[p.Key] = p.Value;
        using var reader = SourceProviders.Create(provider, cs, credential, time: _time);
        return reader.Read(query, token).ToList();
    }

    [Fact]
    public void Double_bigquery_service_account_token_pages_and_types()
    {
        var rows = Read("BigQuery", $"ServiceAccountKeyFile={_keyFile};Location=EU;Endpoint={_double.Url}", "select * from crm.customers where id > @min and name != @name",
            new() { ["min"] = 0, ["name"] = "x" });
        Assert.Equal(5, rows.Count);
        var v = rows[0].Values;
        Assert.Equal(1L, v[0]);
        Assert.Equal(99999999999999999999999999.123456789m, v[1]);
        Assert.Equal(true, v[2]);
        Assert.Equal("Zoë 東京 🚀", v[3]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234560), v[4]);
        Assert.Equal("[\"a\",\"b\"]", v[5]);
        Assert.Equal("{\"city\":\"Oslo\",\"zip\":150}", v[6]);
        Assert.All(rows[1].Values.Skip(1).Where(x => x is not "[]"), Assert.Null);
        var post = _double.Requests.First(r => r.PathAndQuery == "/bigquery/v2/projects/proj/queries").Json;
        Assert.Equal("NAMED", post.GetProperty("parameterMode").GetString());
        Assert.False(post.GetProperty("useLegacySql").GetBoolean());
        var min = post.GetProperty("queryParameters")[0];
        Assert.Equal("min", min.GetProperty("name").GetString());
        Assert.Equal("INT64", min.GetProperty("parameterType").GetProperty("type").GetString());
        Assert.Equal("0", min.GetProperty("parameterValue").GetProperty("value").GetString());
        Assert.Contains(_double.Requests, r => r.PathAndQuery.Contains("pageToken=p3"));
        Assert.Single(_double.Requests, r => r.PathAndQuery == "/token");
    }

    [Fact]
    public void Double_bigquery_token_is_renewed_when_it_expires_or_is_refused_mid_read()
    {
        var query = new SourceQuery("select * from crm.customers");
        using var reader = SourceProviders.Create("BigQuery", $"ServiceAccountKeyFile={_keyFile};Endpoint={_double.Url}", time: _time);
        var ids = new List<long>();
        foreach (var row in reader.Read(query, default))
        {
            ids.Add((long)row.Values[0]!);
            if (ids.Count == 1) _time.Advance(TimeSpan.FromMinutes(61)); // the token of one hour has run out
            if (ids.Count == 3) RevokeIssuedTokens(); // refused before its time: renewed once on the 401
        }
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, ids);
        Assert.Equal(3, _double.Requests.Count(r => r.PathAndQuery == "/token"));
    }

    [Fact]
    public void Double_bigquery_rows_short_of_total_rows_fail()
    {
        var ex = Assert.Throws<SourceException>(() => Read("BigQuery", $"Project=proj;AccessToken={AccessToken};Endpoint={_double.Url}", "select short"));
        Assert.Equal(ErrorIds.SourceReadFailed, ex.ErrorId);
        Assert.Contains("The result of job job-short was announced with 6 rows, but 5 arrived", ex.Message);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public void Double_compressed_answers_are_read_whether_or_not_they_were_asked_for(string encoding)
    {
        _double.Encoding = encoding;
        Assert.Equal(5, Read("BigQuery", $"ServiceAccountKeyFile={_keyFile};Endpoint={_double.Url}", "select slow").Count);
        Assert.Equal(11, Read("GoogleSheets", $"SpreadsheetId=sheet-1;ApiKey={ApiKey};PageSize=4;Endpoint={_double.Url}", "Customers").Count);
    }

    [Fact]
    public void Double_bigquery_access_token_polling_errors_and_cancel()
    {
        var cs = $"Project=proj;Endpoint={_double.Url}";
        Assert.Equal(5, Read("BigQuery", cs, "select slow", credential: new NetworkCredential("", AccessToken)).Count);

        var syntax = Assert.Throws<SourceException>(() => Read("BigQuery", cs + ";AccessToken=" + AccessToken, "selec 1"));
        Assert.Equal(ErrorIds.SourceQueryFailed, syntax.ErrorId);
        Assert.Contains("Syntax error", syntax.Message);
        Assert.Contains("invalidQuery", syntax.Message);

        var bad = Assert.Throws<SourceException>(() => Read("BigQuery", cs + ";AccessToken=ya29.Wrong-Secret-2", "select 1"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, bad.ErrorId);
        Assert.DoesNotContain("ya29.Wrong-Secret-2", bad.Message);

        var missing = Assert.Throws<SourceException>(() => Read("BigQuery", cs + ";AccessToken=" + AccessToken, "select @a, @@error.message, @b", new() { ["a"] = 1 }));
        Assert.Equal(ErrorIds.SourceMissingParameter, missing.ErrorId);
        Assert.Contains("@b", missing.Message);
        Assert.DoesNotContain("@error", missing.Message);

        var timeout = Assert.Throws<SourceException>(() => Read("BigQuery", cs + ";AccessToken=" + AccessToken, "select forever", timeout: TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorIds.SourceTimeout, timeout.ErrorId);
        Assert.Contains(_double.Requests, r => r.PathAndQuery == "/bigquery/v2/projects/proj/jobs/job-forever/cancel");
    }

    [Fact]
    public void Double_bigquery_key_signed_by_another_key_is_refused()
    {
        var other = Path.Combine(Path.GetTempPath(), $"ks-sa-{Guid.NewGuid():N}.json");
        var json = File.ReadAllText(_keyFile).Replace(JsonSerializer.Serialize(_key.ExportPkcs8PrivateKeyPem()).Trim('"'), JsonSerializer.Serialize(RSA.Create(2048).ExportPkcs8PrivateKeyPem()).Trim('"'));
        File.WriteAllText(other, json);
        try
        {
            var ex = Assert.Throws<SourceException>(() => Read("BigQuery", $"ServiceAccountKeyFile={other};Endpoint={_double.Url}", "select 1"));
            Assert.Equal(ErrorIds.SourceAuthenticationFailed, ex.ErrorId);
            Assert.Contains("Invalid JWT Signature", ex.Message);
        }
        finally
        {
            File.Delete(other);
        }
    }

    [Fact]
    public void Double_sheets_reads_pages_with_headers_blanks_and_decimals()
    {
        var rows = Read("GoogleSheets", $"SpreadsheetId=sheet-1;ApiKey={ApiKey};PageSize=4;Endpoint={_double.Url}", "Customers!A:E");
        Assert.Equal(new[] { "id", "name", "amount", "Column4", "name_2" }, rows[0].Columns.Names);
        Assert.Equal(11, rows.Count); // 12 data rows, one fully blank row skipped
        Assert.Equal(1m, rows[0].Values[0]);
        Assert.Equal("Zoë 東京 🚀", rows[0].Values[1]);
        Assert.Equal(12345678901234.5678m, rows[0].Values[2]);
        Assert.Null(rows[1].Values[2]);
        Assert.Null(rows[1].Values[4]);
        Assert.Equal(12m, rows[^1].Values[0]);
        Assert.Contains(_double.Requests, r => r.PathAndQuery.Contains("key=" + ApiKey) && r.PathAndQuery.Contains("A5:E8"));
    }

    [Fact]
    public void Double_sheets_service_account_and_errors()
    {
        var rows = Read("GoogleSheets", $"SpreadsheetId=sheet-1;ServiceAccountKeyFile={_keyFile};Endpoint={_double.Url}", "'Customers'");
        Assert.Equal(11, rows.Count);
        var badKey = Assert.Throws<SourceException>(() => Read("GoogleSheets", $"SpreadsheetId=sheet-1;ApiKey=AIza-Wrong-Secret;Endpoint={_double.Url}", "Customers"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, badKey.ErrorId);
        Assert.Contains("API_KEY_INVALID", badKey.Message);
        Assert.DoesNotContain("AIza-Wrong-Secret", badKey.Message);
        var badToken = Assert.Throws<SourceException>(() => Read("GoogleSheets", $"SpreadsheetId=sheet-1;AccessToken=ya29.Wrong-Secret-5;Endpoint={_double.Url}", "Customers"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, badToken.ErrorId);
        Assert.DoesNotContain("ya29.Wrong-Secret-5", badToken.Message);
        var noSheet = Assert.Throws<SourceException>(() => Read("GoogleSheets", $"SpreadsheetId=sheet-1;ApiKey={ApiKey};Endpoint={_double.Url}", "Orders!A:B"));
        Assert.Contains("no sheet named 'Orders'", noSheet.Message);
        var parameters = Assert.Throws<SourceException>(() => Read("GoogleSheets", $"SpreadsheetId=sheet-1;ApiKey={ApiKey};Endpoint={_double.Url}", "Customers", new() { ["a"] = 1 }));
        Assert.Equal(ErrorIds.SourceInvalidParameter, parameters.ErrorId);
    }
}
