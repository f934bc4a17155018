using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace KustomerSync.Sources.Tests.Doubles;

/// <summary>
/// A double of the Snowflake SQL API v2: POST /api/v2/statements (key-pair JWT checked against the registered public
/// key's SHA256 fingerprint, or an OAuth token), 200 ResultSet with jsonv2 cells and three partitions, 202 QueryStatus
/// for statements containing "slow" (one poll) or "forever", GET ?partition=N, POST .../cancel, 422 for "selec",
/// 401 for bad credentials.
/// </summary>
public sealed class SnowflakeDouble : IDisposable
{
    public const string OAuthToken = "sf-oauth-Secret-Token-91";
    private readonly DoubleServer _server;
    private readonly ConcurrentDictionary<string, int> _polls = new();

    public SnowflakeDouble(RSA publicKey, string account, string user)
    {
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
                if (statement.Contains("forever") || statement.Contains("slow"))
                {
                    var handle = statement.Contains("forever") ? "h-forever" : "h-slow-" + Guid.NewGuid().ToString("N");
                    return Accepted(handle);
                }
                return Results.Json(ResultSet("h-1"));
            });
            app.MapGet("/api/v2/statements/{handle}", (HttpRequest request, string handle, int? partition) =>
            {
                if (Unauthorized(request, publicKey, qualified, fingerprint) is { } denied) return denied;
                if (partition is { } n) return Results.Json(new { data = Partition(n) });
                if (handle == "h-forever") return Accepted(handle);
                return _polls.AddOrUpdate(handle, 1, (_, c) => c + 1) < 2 ? Accepted(handle) : Results.Json(ResultSet(handle));
            });
            app.MapPost("/api/v2/statements/{handle}/cancel", (string handle) => Results.Json(new { code = "000604", message = "successfully canceled", statementHandle = handle }));
        });
    }

    public Uri Url => _server.Url;
    public ConcurrentQueue<RecordedRequest> Requests => _server.Requests;

    public static readonly DateTime Born = new(2024, 2, 29, 0, 0, 0, DateTimeKind.Utc);

    private static IResult Accepted(string handle) => DoubleServer.Json(202, new
    {
        code = "333334",
        message = "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
        statementHandle = handle,
        statementStatusUrl = "/api/v2/statements/" + handle,
    });

    private static IResult? Unauthorized(HttpRequest request, RSA publicKey, string qualified, string fingerprint)
    {
        var header = request.Headers.Authorization.ToString();
        var type = request.Headers["X-Snowflake-Authorization-Token-Type"].ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)) return DoubleServer.Json(401, new { code = "390101", message = "Authorization header not found in the request data." });
        var token = header.Substring(7);
        if (type == "OAUTH")
            return token == OAuthToken ? null : DoubleServer.Json(401, new { code = "390303", message = "Invalid OAuth access token. [" + token + "]" });
        if (type != "KEYPAIR_JWT") return DoubleServer.Json(401, new { code = "390100", message = "Unsupported token type." });
        var claims = DoubleServer.VerifyJwt(token, publicKey);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (claims is not { } c || c.GetProperty("iss").GetString() != qualified + "." + fingerprint || c.GetProperty("sub").GetString() != qualified
            || c.GetProperty("exp").GetInt64() <= now || c.GetProperty("exp").GetInt64() - c.GetProperty("iat").GetInt64() > 3600)
            return DoubleServer.Json(401, new { code = "390144", message = "JWT token is invalid. [" + token + "]" });
        return null;
    }

    private static object ResultSet(string handle) => new
    {
        resultSetMetaData = new
        {
            numRows = 5,
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
            partitionInfo = new object[] { new { rowCount = 2, uncompressedSize = 300 }, new { rowCount = 2, uncompressedSize = 300 }, new { rowCount = 1, uncompressedSize = 150 } },
        },
        data = Partition(0),
        code = "090001",
        statementStatusUrl = "/api/v2/statements/" + handle + "?requestId=x",
        sqlState = "00000",
        statementHandle = handle,
        message = "Statement executed successfully.",
        createdOn = 1709288430000L,
    };

    private static string?[][] Partition(int n)
    {
        var days = ((int)(Born - DateTime.UnixEpoch).TotalDays).ToString();
        return n switch
        {
            0 => new[]
            {
                new[] { "1", "12345678901234567.89", "1.5", "true", "Zoë 東京 🚀", days, "1709288430.123456789", "1709288430.000000000 1560", "{\n  \"a\": [1, 2]\n}", "DEADBEEF", "dup" },
                new[] { "2", null, null, null, null, null, null, null, null, null, null },
            },
            1 => new[] { Row(3), Row(4) },
            2 => new[] { Row(5) },
            _ => Array.Empty<string?[]>(),
        };
    }

    private static string?[] Row(int id) => new[] { id.ToString(), "1.00", "0", "false", "row " + id, "0", "0.000000000", "0.000000000 1440", "[]", "", "x" };

    public void Dispose() => _server.Dispose();
}
