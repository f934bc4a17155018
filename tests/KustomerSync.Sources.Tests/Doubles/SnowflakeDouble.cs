using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace KustomerSync.Sources.Tests.Doubles;

/// <summary>
/// A double of the Snowflake SQL API v2: POST /api/v2/statements (key-pair JWT checked against the registered public
/// key's SHA256 fingerprint and its lifetime on the double's clock, or an OAuth token), 200 ResultSet with jsonv2
/// cells, partitionInfo row counts and numRows, 202 QueryStatus for statements containing "slow" (one poll) or
/// "forever", GET ?partition=N, POST .../cancel, 422 for "selec", 401 for bad credentials. As the real service does,
/// every partition after the first is gzipped (Content-Encoding: gzip) whether or not the client asked for it.
/// Statements naming "big" get 2,500 rows in partitions of 500/1,000/1,000; the faults a proxy or a broken
/// connection can cause are asked for by name: "lossy" (partition 1 loses a row), "garbled" (partition 1's gzip
/// body is cut short), "html" (partition 2 is a 200 HTML page); "busy" is answered 429 with Retry-After: 7 once.
/// </summary>
public sealed class SnowflakeDouble : IDisposable
{
    public const string OAuthToken = "sf-oauth-Secret-Token-91";
    private readonly DoubleServer _server;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, int> _polls = new();
    private readonly TaskCompletionSource _foreverPolled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SnowflakeDouble(RSA publicKey, string account, string user, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(publicKey.ExportSubjectPublicKeyInfo()));
        var qualified = account.ToUpperInvariant() + "." + user.ToUpperInvariant();
        _server = DoubleServer.Start(app =>
        {
            app.MapPost("/api/v2/statements", async (HttpRequest request) =>
            {
                if (Unauthorized(request, publicKey, qualified, fingerprint) is { } denied) return denied;
                var body = await DoubleServer.BodyJson(request);
                var statement = body.GetProperty("statement").GetString()!;
                if (statement.StartsWith("selec ", StringComparison.Ordinal))
                    return DoubleServer.Json(422, new { code = "001003", message = "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'selec'.", sqlState = "42000", statementHandle = "h-err" });
                if (statement.Contains("busy") && _polls.AddOrUpdate("busy", 1, (_, c) => c + 1) == 1)
                    return new DoubleServer.WithHeader(DoubleServer.Json(429, new { code = "000605", message = "Too many requests." }), "Retry-After", "7");
                if (statement.Contains("forever") || statement.Contains("slow"))
                {
                    var handle = statement.Contains("forever") ? "h-forever" : "h-slow-" + Guid.NewGuid().ToString("N");
                    return Accepted(handle);
                }
                var kind = new[] { "lossy", "garbled", "html", "big" }.FirstOrDefault(statement.Contains) ?? "1";
                return Results.Json(ResultSet("h-" + kind));
            });
            app.MapGet("/api/v2/statements/{handle}", (HttpRequest request, string handle, int? partition) =>
            {
                if (Unauthorized(request, publicKey, qualified, fingerprint) is { } denied) return denied;
                if (partition is { } n) return PartitionAnswer(handle, n);
                if (handle == "h-forever")
                {
                    _foreverPolled.TrySetResult();
                    return Accepted(handle);
                }
                return _polls.AddOrUpdate(handle, 1, (_, c) => c + 1) < 2 ? Accepted(handle) : Results.Json(ResultSet(handle));
            });
            app.MapPost("/api/v2/statements/{handle}/cancel", (string handle) => Results.Json(new { code = "000604", message = "successfully canceled", statementHandle = handle }));
        });
    }

    public Uri Url => _server.Url;
    public ConcurrentQueue<RecordedRequest> Requests => _server.Requests;
    public DoubleServer Server => _server;

    /// <summary>Completes when the "forever" statement is first polled (its handle is known to the client).</summary>
    public Task ForeverPolled => _foreverPolled.Task;

    public static readonly DateTime Born = new(2024, 2, 29, 0, 0, 0, DateTimeKind.Utc);

    private static IResult Accepted(string handle) => DoubleServer.Json(202, new
    {
        code = "333334",
        message = "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
        statementHandle = handle,
        statementStatusUrl = "/api/v2/statements/" + handle,
    });

    private IResult? Unauthorized(HttpRequest request, RSA publicKey, string qualified, string fingerprint)
    {
        var header = request.Headers.Authorization.ToString();
        var type = request.Headers["X-Snowflake-Authorization-Token-Type"].ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)) return DoubleServer.Json(401, new { code = "390101", message = "Authorization header not found in the request data." });
        var token = header.Substring(7);
        if (type == "OAUTH")
            return token == OAuthToken ? null : DoubleServer.Json(401, new { code = "390303", message = "Invalid OAuth access token. [" + token + "]" });
        if (type != "KEYPAIR_JWT") return DoubleServer.Json(401, new { code = "390100", message = "Unsupported token type." });
        var claims = DoubleServer.VerifyJwt(token, publicKey);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (claims is not { } c || c.GetProperty("iss").GetString() != qualified + "." + fingerprint || c.GetProperty("sub").GetString() != qualified
            || c.GetProperty("exp").GetInt64() - c.GetProperty("iat").GetInt64() > 3600)
            return DoubleServer.Json(401, new { code = "390144", message = "JWT token is invalid. [" + token + "]" });
        if (c.GetProperty("exp").GetInt64() <= now)
            return DoubleServer.Json(401, new { code = "390318", message = "JWT token has expired. [" + token + "]" });
        return null;
    }

    /// <summary>The rows of each partition of a statement, by its handle.</summary>
    private static string?[][][] Partitions(string handle)
    {
        if (handle == "h-big")
        {
            var id = 0;
            return new[] { 500, 1000, 1000 }.Select(n => Enumerable.Range(0, n).Select(_ => Row(++id)).ToArray()).ToArray();
        }
        var days = ((int)(Born - DateTime.UnixEpoch).TotalDays).ToString();
        return new[]
        {
            new[]
            {
                new[] { "1", "12345678901234567.89", "1.5", "true", "Zoë 東京 🚀", days, "1709288430.123456789", "1709288430.000000000 1560", "{\n  \"a\": [1, 2]\n}", "DEADBEEF", "dup" },
                new[] { "2", null, null, null, null, null, null, null, null, null, null },
            },
            new[] { Row(3), Row(4) },
            new[] { Row(5) },
        };
    }

    private static IResult PartitionAnswer(string handle, int n)
    {
        var partitions = Partitions(handle);
        var rows = n < partitions.Length ? partitions[n] : Array.Empty<string?[]>();
        if (n == 0) return Results.Json(new { data = rows });
        if (handle == "h-lossy" && n == 1) rows = rows.SkipLast(1).ToArray();
        if (handle == "h-html" && n == 2) return Results.Content("<html><body>Down for maintenance</body></html>", "text/html");
        if (handle == "h-garbled" && n == 1)
        {
            var gzip = DoubleServer.Compress(JsonSerializer.SerializeToUtf8Bytes(new { data = rows }), "gzip");
            return new DoubleServer.WithHeader(Results.Bytes(gzip[..(gzip.Length / 2)], "application/json"), "Content-Encoding", "gzip");
        }
        return DoubleServer.CompressedJson(new { data = rows }, "gzip");
    }

    private static object ResultSet(string handle)
    {
        var partitions = Partitions(handle);
        return new
        {
            resultSetMetaData = new
            {
                numRows = partitions.Sum(p => p.Length),
                format = "jsonv2",
                rowType = new object[]
                {
                    new { name = "ID", type = "fixed", scale = 0, precision = 38, nullable = false },
                    new { name = "AMOUNT", type = "fixed", scale = 2, precision = 38, nullable = true },
                    new { name = "RATIO", type = "real", nullable = true },
                    new { name = "ACTIVE", type = "boolean", nullable = true },
                    new { name = "NAME", type = "text", nullable = true },
                    new { name = "BORN", type = "date", nullable = true },
                    new { name = "SEEN", type = "timestamp_ntz", scale = 9, nullable = true },
                    new { name = "SEEN_TZ", type = "timestamp_tz", scale = 9, nullable = true },
                    new { name = "DOC", type = "variant", nullable = true },
                    new { name = "RAW", type = "binary", nullable = true },
                    new { name = "NAME", type = "text", nullable = true },
                },
                partitionInfo = partitions.Select(p => new { rowCount = p.Length, uncompressedSize = p.Length * 150 }).ToArray(),
            },
            data = partitions[0],
            code = "090001",
            statementStatusUrl = "/api/v2/statements/" + handle + "?requestId=x",
            sqlState = "00000",
            statementHandle = handle,
            message = "Statement executed successfully.",
            createdOn = 1709288430000L,
        };
    }

    private static string?[] Row(int id) => new[] { id.ToString(), "1.00", "0", "false", "row " + id, "0", "0.000000000", "0.000000000 1440", "[]", "", "x" };

    public void Dispose() => _server.Dispose();
}
