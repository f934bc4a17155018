using System.Collections.Concurrent;
using System.Net;
using System.Text;
using KustomerSync.Engine.Sources;
using KustomerSync.Sources.Tests.Doubles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Sources.Tests;

/// <summary>
/// The Elasticsearch provider against a double of the _sql API (format=json, cursors, close, errors); a query naming
/// "rowless" gets a 200 page without its rows array from a proxy.
/// </summary>
public sealed class ElasticsearchTests : IDisposable
{
    private const string ApiKey = "es-Secret-ApiKey-123==";
    private static readonly string Basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("elastic:Es-Secret-Pass-5"));
    private readonly DoubleServer _double;

    public ElasticsearchTests()
    {
        _double = DoubleServer.Start(app =>
        {
            app.MapPost("/_sql", async (HttpRequest request) =>
            {
                var auth = request.Headers.Authorization.ToString();
                if (auth != "ApiKey " + ApiKey && auth != "Basic " + Basic)
                    return DoubleServer.Json(401, new { error = new { root_cause = new[] { new { type = "security_exception", reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request" } }, type = "security_exception", reason = "unable to authenticate" }, status = 401 });
                var body = await DoubleServer.BodyJson(request);
                if (body.TryGetProperty("cursor", out var cursor))
                {
                    return cursor.GetString() == "c1"
                        ? Results.Json(new { rows = new[] { new object?[] { 3, "c", null, false, "2024-03-01T00:00:00.000Z", 1.0 } }, cursor = "c2" })
                        : Results.Json(new { rows = new[] { new object?[] { 4, "d", null, false, "2024-03-01T00:00:00.000Z", 1.0 } } });
                }
                var query = body.GetProperty("query").GetString()!;
                if (query.Contains("rowless")) return Results.Json(new { columns = new object[] { new { name = "id", type = "long" } } });
                if (query.StartsWith("selec ", StringComparison.Ordinal))
                    return DoubleServer.Json(400, new { error = new { root_cause = new[] { new { type = "parsing_exception", reason = "line 1:1: mismatched input 'selec' expecting {'(', 'DESCRIBE', 'EXPLAIN', 'SELECT', 'SHOW'}" } }, type = "parsing_exception", reason = "line 1:1: mismatched input 'selec'" }, status = 400 });
                return Results.Json(new
                {
                    columns = new object[] { new { name = "id", type = "long" }, new { name = "name", type = "keyword" }, new { name = "price", type = "scaled_float" }, new { name = "active", type = "boolean" }, new { name = "seen", type = "datetime" }, new { name = "score", type = "double" } },
                    rows = new[] { new object?[] { 1, "Zoë 東京 🚀", 12345678.91m, true, "2024-03-01T10:20:30.123Z", 0.5 }, new object?[] { 2, null, null, null, null, null } },
                    cursor = "c1",
                });
            });
            app.MapPost("/_sql/close", () => Results.Json(new { succeeded = true }));
        });
    }

    public void Dispose() => _double.Dispose();

    private static List<SourceRow> Read(string cs, string sql, IEnumerable<KeyValuePair<string, object?>>? parameters = null, NetworkCredential? credential = null, int take = int.MaxValue)
    {
        var query = new SourceQuery(sql);
        foreach (var p in parameters ?? Array.Empty<KeyValuePair<string, object?>>()) query.Parameters[p.Key] = p.Value;
        using var reader = SourceProviders.Create("Elasticsearch", cs, credential);
        return reader.Read(query, default).Take(take).ToList();
    }

    [Fact]
    public void Double_pages_through_cursors_with_positional_params()
    {
        var rows = Read($"Endpoint={_double.Url};ApiKey={ApiKey};FetchSize=2", "SELECT * FROM customers WHERE id > ? AND name <> ?",
            new[] { KeyValuePair.Create<string, object?>("min", 0), KeyValuePair.Create<string, object?>("name", "x") });
        Assert.Equal(4, rows.Count);
        var v = rows[0].Values;
        Assert.Equal(1L, v[0]);
        Assert.Equal("Zoë 東京 🚀", v[1]);
        Assert.Equal(12345678.91m, v[2]);
        Assert.Equal(true, v[3]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 20, 30, 123, DateTimeKind.Utc), v[4]);
        Assert.Equal(0.5, v[5]);
        Assert.All(rows[1].Values.Skip(1), Assert.Null);
        var first = _double.Requests.First().Json;
        Assert.Equal(2, first.GetProperty("fetch_size").GetInt32());
        Assert.Equal(0, first.GetProperty("params")[0].GetInt32());
        Assert.Equal("x", first.GetProperty("params")[1].GetString());
        // Elasticsearch's default page_timeout (45 s) is shorter than a slow pipeline may take over one page.
        Assert.Equal("600s", first.GetProperty("page_timeout").GetString());
        Assert.DoesNotContain(_double.Requests, r => r.PathAndQuery == "/_sql/close"); // read to the end: nothing to close
    }

    [Fact]
    public void Double_cursor_is_closed_when_reading_stops_early()
    {
        var rows = Read($"Endpoint={_double.Url}", "SELECT 1", credential: new NetworkCredential("elastic", "Es-Secret-Pass-5"), take: 1);
        Assert.Single(rows);
        var close = Assert.Single(_double.Requests, r => r.PathAndQuery == "/_sql/close");
        Assert.Equal("c1", close.Json.GetProperty("cursor").GetString());
    }

    [Fact]
    public void Double_errors_are_clear_and_secret_free()
    {
        var syntax = Assert.Throws<SourceException>(() => Read($"Endpoint={_double.Url};ApiKey={ApiKey}", "selec 1"));
        Assert.Equal(ErrorIds.SourceQueryFailed, syntax.ErrorId);
        Assert.Contains("mismatched input 'selec'", syntax.Message);
        var bad = Assert.Throws<SourceException>(() => Read($"Endpoint={_double.Url};User=elastic;Password=Es-Wrong-Secret-6", "SELECT 1"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, bad.ErrorId);
        Assert.DoesNotContain("Es-Wrong-Secret-6", bad.Message);
        var missing = Assert.Throws<SourceException>(() => Read($"Endpoint={_double.Url};ApiKey={ApiKey}", "SELECT ? , ?", new[] { KeyValuePair.Create<string, object?>("a", 1) }));
        Assert.Equal(ErrorIds.SourceMissingParameter, missing.ErrorId);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public void Double_compressed_answers_are_read_whether_or_not_they_were_asked_for(string encoding)
    {
        _double.Encoding = encoding;
        Assert.Equal(4, Read($"Endpoint={_double.Url};ApiKey={ApiKey}", "SELECT 1").Count);
    }

    [Fact]
    public void Double_a_page_without_rows_is_a_read_failure_not_an_empty_page()
    {
        var ex = Assert.Throws<SourceException>(() => Read($"Endpoint={_double.Url};ApiKey={ApiKey}", "SELECT rowless"));
        Assert.Equal(ErrorIds.SourceReadFailed, ex.ErrorId);
        Assert.Contains("the first page has no rows array", ex.Message);
    }
}
