using System.Collections.Concurrent;
using System.Net;
using KustomerSync.Engine.Sources;
using KustomerSync.Sources.Tests.Doubles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Sources.Tests;

/// <summary>
/// The Databricks provider against a double of the SQL Statement Execution API 2.0: PENDING/RUNNING polled, INLINE
/// JSON_ARRAY chunks linked by next_chunk_internal_link, the manifest's total_row_count and total_chunk_count. The
/// faults a proxy or a broken service can cause are asked for by name: "lossy" (chunk 1 short of its row_count),
/// "unlinked" (chunk 1 has no link to chunk 2, which the manifest lists).
/// </summary>
public sealed class DatabricksTests : IDisposable
{
    private const string Token = "dapi-Secret-Token-0042";
    private readonly VirtualTime _time = new();
    private readonly DoubleServer _double;
    private readonly ConcurrentDictionary<string, int> _polls = new();
    private readonly TaskCompletionSource _foreverPolled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DatabricksTests()
    {
        _double = DoubleServer.Start(app =>
        {
            app.MapPost("/api/2.0/sql/statements", async (HttpRequest request) =>
            {
                if (request.Headers.Authorization.ToString() != "Bearer " + Token)
                    return DoubleServer.Json(401, new { error_code = "UNAUTHENTICATED", message = "Invalid access token. [" + request.Headers.Authorization + "]" });
                var body = await DoubleServer.BodyJson(request);
                var statement = body.GetProperty("statement").GetString()!;
                if (statement.StartsWith("selec ", StringComparison.Ordinal))
                    return Results.Json(new { statement_id = "s-err", status = new { state = "FAILED", error = new { error_code = "BAD_REQUEST", message = "[PARSE_SYNTAX_ERROR] Syntax error at or near 'selec'. SQLSTATE: 42601" } } });
                var id = new[] { "forever", "slow", "lossy", "unlinked" }.FirstOrDefault(statement.Contains) is { } kind ? "s-" + kind : "s-1";
                return id is "s-forever" or "s-slow" ? Results.Json(new { statement_id = id, status = new { state = "PENDING" } }) : Results.Json(Succeeded(id));
            });
            app.MapGet("/api/2.0/sql/statements/{id}", (string id) =>
            {
                if (id == "s-forever") _foreverPolled.TrySetResult();
                return id == "s-forever" || _polls.AddOrUpdate(id, 1, (_, c) => c + 1) < 2
                    ? Results.Json(new { statement_id = id, status = new { state = "RUNNING" } })
                    : Results.Json(Succeeded(id));
            });
            app.MapGet("/api/2.0/sql/statements/{id}/result/chunks/{index:int}", (string id, int index) => Results.Json(Chunk(id, index)));
            app.MapPost("/api/2.0/sql/statements/{id}/cancel", () => Results.Json(new { }));
        });
    }

    public void Dispose() => _double.Dispose();

    private string Cs => $"Host={_double.Url};WarehouseId=wh-1;Catalog=main;Schema=crm;PollIntervalMs=20";

    private static object Succeeded(string id) => new
    {
        statement_id = id,
        status = new { state = "SUCCEEDED" },
        manifest = new
        {
            format = "JSON_ARRAY",
            schema = new
            {
                column_count = 7,
                columns = new object[]
                {
                    new { name = "id", type_name = "LONG", type_text = "BIGINT", position = 0 },
                    new { name = "amount", type_name = "DECIMAL", type_text = "DECIMAL(38,6)", position = 1 },
                    new { name = "active", type_name = "BOOLEAN", type_text = "BOOLEAN", position = 2 },
                    new { name = "name", type_name = "STRING", type_text = "STRING", position = 3 },
                    new { name = "seen", type_name = "TIMESTAMP", type_text = "TIMESTAMP", position = 4 },
                    new { name = "tags", type_name = "ARRAY", type_text = "ARRAY<STRING>", position = 5 },
                    new { name = "id", type_name = "INT", type_text = "INT", position = 6 },
                },
            },
            total_chunk_count = 3,
            total_row_count = 5,
        },
        result = Chunk(id, 0),
    };

    private static object Chunk(string id, int index)
    {
        var data = index switch
        {
            0 => new[] { new[] { "1", "12345678901234567890.123456", "true", "Zoë 東京 🚀", "2024-03-01T10:20:30.123Z", "[\"a\",\"b\"]", "9" }, new string?[] { "2", null, null, null, null, null, null } },
            1 => new[] { new[] { "3", "1", "false", "c", "2024-03-01T00:00:00Z", "[]", "0" }, new[] { "4", "1", "false", "d", "2024-03-01T00:00:00Z", "[]", "0" } },
            _ => new[] { new[] { "5", "1", "false", "e", "2024-03-01T00:00:00Z", "[]", "0" } },
        };
        var count = data.Length;
        if (id == "s-lossy" && index == 1) data = data[..1];
        var last = index == 2 || (id == "s-unlinked" && index == 1);
        return !last
            ? new { chunk_index = index, row_offset = index * 2, row_count = count, data_array = data, next_chunk_index = (int?)(index + 1), next_chunk_internal_link = (string?)$"/api/2.0/sql/statements/{id}/result/chunks/{index + 1}" }
            : new { chunk_index = index, row_offset = index * 2, row_count = count, data_array = data, next_chunk_index = (int?)null, next_chunk_internal_link = (string?)null };
    }

    private List<SourceRow> Read(string cs, string sql, Dictionary<string, object?>? parameters = null, NetworkCredential? credential = null, TimeSpan? timeout = null, CancellationToken token = default)
    {
        var query = new SourceQuery(sql) { CommandTimeout = timeout ?? TimeSpan.FromSeconds(30) };
        foreach (var p in parameters ?? new()) query.Parameters[p.Key] = p.Value;
        using var reader = SourceProviders.Create("Databricks", cs, credential, time: _time);
        return reader.Read(query, token).ToList();
    }

    [Fact]
    public void Double_reads_every_chunk_with_named_parameters_and_typed_values()
    {
        var rows = Read(Cs + ";Token=" + Token, "select * from t where id > :min and seen < :before",
            new() { ["min"] = 0, ["before"] = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc) });
        Assert.Equal(5, rows.Count);
        Assert.Equal(new[] { "id", "amount", "active", "name", "seen", "tags", "id_2" }, rows[0].Columns.Names);
        var v = rows[0].Values;
        Assert.Equal(1L, v[0]);
        Assert.Equal(12345678901234567890.123456m, v[1]);
        Assert.Equal(true, v[2]);
        Assert.Equal("Zoë 東京 🚀", v[3]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 20, 30, 123, DateTimeKind.Utc), v[4]);
        Assert.Equal("[\"a\",\"b\"]", v[5]);
        Assert.All(rows[1].Values.Skip(1), Assert.Null);
        var body = _double.Requests.First(r => r.Method == "POST").Json;
        Assert.Equal("wh-1", body.GetProperty("warehouse_id").GetString());
        Assert.Equal("JSON_ARRAY", body.GetProperty("format").GetString());
        Assert.Equal("INLINE", body.GetProperty("disposition").GetString());
        Assert.Equal("main", body.GetProperty("catalog").GetString());
        var min = body.GetProperty("parameters")[0];
        Assert.Equal("min", min.GetProperty("name").GetString());
        Assert.Equal("0", min.GetProperty("value").GetString());
        Assert.Equal("INT", min.GetProperty("type").GetString());
        Assert.Contains(_double.Requests, r => r.PathAndQuery == "/api/2.0/sql/statements/s-1/result/chunks/2");
    }

    [Fact]
    public void Double_token_from_credential_with_polling()
    {
        var rows = Read(Cs, "select slow", credential: new NetworkCredential("token", Token));
        Assert.Equal(5, rows.Count);
        Assert.Contains(_double.Requests, r => r.Method == "GET" && r.PathAndQuery == "/api/2.0/sql/statements/s-slow");
    }

    [Fact]
    public void Double_errors_are_clear_and_secret_free()
    {
        var syntax = Assert.Throws<SourceException>(() => Read(Cs + ";Token=" + Token, "selec 1"));
        Assert.Equal(ErrorIds.SourceQueryFailed, syntax.ErrorId);
        Assert.Contains("PARSE_SYNTAX_ERROR", syntax.Message);

        var bad = Assert.Throws<SourceException>(() => Read(Cs + ";Token=dapi-Wrong-Secret-77", "select 1"));
        Assert.Equal(ErrorIds.SourceAuthenticationFailed, bad.ErrorId);
        Assert.DoesNotContain("dapi-Wrong-Secret-77", bad.Message);

        var missing = Assert.Throws<SourceException>(() => Read(Cs + ";Token=" + Token, "select :a, :b::int, raw:field from t", new() { ["a"] = 1 }));
        Assert.Equal(ErrorIds.SourceMissingParameter, missing.ErrorId);
        Assert.Contains(":b", missing.Message);
        Assert.DoesNotContain(":field", missing.Message);
    }

    [Fact]
    public async Task Double_cancellation_and_timeout_cancel_the_statement()
    {
        // Cancel once the statement is being polled (its id known), whenever that is.
        using var cts = new CancellationTokenSource();
        var read = Task.Run(() => Read(Cs + ";Token=" + Token, "select forever", token: cts.Token));
        await _foreverPolled.Task;
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        // The deadline runs on the injected clock, which the polls' pauses move on.
        var timeout = Assert.Throws<SourceException>(() => Read(Cs + ";Token=" + Token, "select forever", timeout: TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorIds.SourceTimeout, timeout.ErrorId);
        Assert.Equal(2, _double.Requests.Count(r => r.PathAndQuery == "/api/2.0/sql/statements/s-forever/cancel"));
    }

    [Theory]
    [InlineData("select lossy", "Chunk 1 of statement s-lossy was announced with 2 rows, but 1 arrived")]
    [InlineData("select unlinked", "the manifest of statement s-unlinked lists 3 chunks, but only 2 arrived")]
    public void Double_a_chunk_short_of_its_rows_or_missing_fails_naming_it(string sql, string expected)
    {
        var ex = Assert.Throws<SourceException>(() => Read(Cs + ";Token=" + Token, sql));
        Assert.Equal(ErrorIds.SourceReadFailed, ex.ErrorId);
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain(Token, ex.Message);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public void Double_compressed_answers_are_read_whether_or_not_they_were_asked_for(string encoding)
    {
        _double.Encoding = encoding;
        Assert.Equal(5, Read(Cs + ";Token=" + Token, "select slow").Count);
    }
}
