using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// Snowflake through its SQL API v2: POST /api/v2/statements with positional bindings (?), key-pair JWT or OAuth
/// token, 202 answers polled until done, result partitions fetched one at a time (GET ...?partition=N; Snowflake
/// gzips every partition after the first), each checked against its announced row count and the whole against
/// numRows, and the statement cancelled (POST .../cancel) on Ctrl+C or timeout.
/// Connection string: Account=myorg-myaccount;User=SYNC_USER;PrivateKeyFile=/keys/rsa_key.p8;[PrivateKeyPassphrase=...;]
/// Warehouse=WH;Database=DB;Schema=PUBLIC;Role=R  — or Token=... (OAuth) instead of the key; Endpoint=https://... overrides the URL.
/// </summary>
public sealed class SnowflakeSource : RestSource
{
    private readonly Uri _endpoint;
    private readonly string _account;
    private readonly string? _user;
    private readonly string? _oauthToken;
    private readonly string? _keyFile;
    private readonly string? _passphrase;
    private string? _jwt;
    private DateTime _jwtExpires;

    public SnowflakeSource(RestSettings settings, HttpMessageHandler? handler = null, TimeProvider? time = null) : base(settings, handler, time)
    {
        _account = settings.Get("Account") ?? "";
        var defaultUrl = _account.Length == 0 ? null : $"https://{_account.ToLowerInvariant().Replace('_', '-')}.snowflakecomputing.com";
        if (defaultUrl is null && settings.Get("Endpoint", "Url", "Host") is null)
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, "The Snowflake connection string needs Account=... (your account identifier, e.g. myorg-myaccount).");
        _endpoint = settings.Endpoint(defaultUrl);
        _user = settings.User("User", "Username", "User ID", "UID");
        _keyFile = settings.Get("PrivateKeyFile", "private_key_file");
        _passphrase = _keyFile is null ? null : settings.Secret("PrivateKeyPassphrase", "PrivateKeyPwd", "private_key_file_pwd");
        _oauthToken = _keyFile is null ? settings.Secret("Token", "OAuthToken", "AccessToken") : settings.Get("Token", "OAuthToken");
        if (_keyFile is null && _oauthToken is null)
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
                "The Snowflake connection string needs PrivateKeyFile=... (key-pair authentication, with User=...) or Token=... (OAuth); the token may also come as the credential's password.");
        if (_keyFile is not null && string.IsNullOrEmpty(_user))
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, "Snowflake key-pair authentication needs User=... (or the credential's user name).");
        Mask.Add(_oauthToken).Add(_passphrase);
    }

    public override string Provider => "Snowflake";
    public override string Target => Authority(_endpoint);

    /// <summary>The account part of the JWT's issuer and subject: upper case, without region or cloud suffix.</summary>
    public static string JwtAccount(string account)
    {
        var a = account.Trim().ToUpperInvariant();
        var dot = a.IndexOf('.');
        if (dot > 0) a = a.Substring(0, dot);
        return a;
    }

    /// <summary>The key-pair JWT: iss = ACCOUNT.USER.SHA256:fingerprint, sub = ACCOUNT.USER, one hour at most.</summary>
    public static string CreateKeyPairJwt(RSA key, string account, string user, DateTime nowUtc)
    {
        var qualified = JwtAccount(account) + "." + user.ToUpperInvariant();
        byte[] hash;
        using (var sha = SHA256.Create()) hash = sha.ComputeHash(Jwt.PublicKeyInfo(key));
        var fingerprint = "SHA256:" + Convert.ToBase64String(hash);
        return Jwt.CreateRs256(key, new Dictionary<string, object>
        {
            ["iss"] = qualified + "." + fingerprint,
            ["sub"] = qualified,
            ["iat"] = Jwt.UnixTime(nowUtc),
            ["exp"] = Jwt.UnixTime(nowUtc.AddMinutes(59)),
        });
    }

    private (string Token, string Type) Authorization()
    {
        if (_keyFile is null) return (_oauthToken!, "OAUTH");
        if (_jwt is null || UtcNow > _jwtExpires)
        {
            string pem;
            try
            {
                pem = File.ReadAllText(_keyFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, $"The Snowflake private key file '{_keyFile}' could not be read: {ex.Message}");
            }
            using var rsa = Jwt.LoadRsaPrivateKey(pem, _passphrase, "Snowflake", "private key file");
            var now = UtcNow;
            _jwt = CreateKeyPairJwt(rsa, _account, _user!, now);
            _jwtExpires = now.AddMinutes(50);
            Mask.Add(_jwt);
        }
        return (_jwt, "KEYPAIR_JWT");
    }

    /// <summary>A key-pair JWT is minted here (it lives an hour at most): a 401 mid-read gets a fresh one.</summary>
    protected override bool RenewCredentials()
    {
        if (_keyFile is null || _jwt is null) return false;
        _jwt = null;
        return true;
    }

    private HttpRequestMessage Request(HttpMethod method, string path, object? body)
    {
        var request = Json(method, Combine(_endpoint, path), body);
        var (token, type) = Authorization();
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Snowflake-Authorization-Token-Type", type);
        return request;
    }

    /// <summary>The bindings object: "1", "2", ... each with a Snowflake type and the value as text.</summary>
    public static Dictionary<string, object?> Bindings(IReadOnlyList<KeyValuePair<string, object?>> parameters)
    {
        var bindings = new Dictionary<string, object?>();
        for (var i = 0; i < parameters.Count; i++)
        {
            var value = parameters[i].Value;
            var type = value switch
            {
                _ when RestValues.IsInteger(value) => "FIXED",
                decimal => "FIXED",
                double or float => "REAL",
                bool => "BOOLEAN",
                byte[] => "BINARY",
                DateTime or DateTimeOffset => "TEXT",
                _ => "TEXT",
            };
            var text = value is byte[] bytes ? BitConverter.ToString(bytes).Replace("-", "") : RestValues.ParameterText(value);
            bindings[(i + 1).ToString(CultureInfo.InvariantCulture)] = new Dictionary<string, object?> { ["type"] = type, ["value"] = text };
        }
        return bindings;
    }

    public override IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken)
    {
        var parameters = query.PositionalParameters(Provider);
        QueryPlaceholders.RequirePositional(Provider, query.Query, parameters.Count);
        var body = new Dictionary<string, object?>
        {
            ["statement"] = query.Query,
            ["parameters"] = new Dictionary<string, object?> { ["TIMEZONE"] = "UTC", ["QUERY_TAG"] = "KustomerSync" },
        };
        if (query.CommandTimeout is { } timeout && timeout > TimeSpan.Zero) body["timeout"] = (long)Math.Ceiling(timeout.TotalSeconds);
        foreach (var (key, field) in new[] { ("Warehouse", "warehouse"), ("Database", "database"), ("Schema", "schema"), ("Role", "role") })
            if (Settings.Get(key) is { } v) body[field] = v;
        if (parameters.Count > 0) body["bindings"] = Bindings(parameters);

        var requestId = Guid.NewGuid().ToString();
        var reply = Send(() => Request(HttpMethod.Post, $"/api/v2/statements?requestId={requestId}", body), "the answer to the statement", cancellationToken);
        var handle = StringOf(reply.Root, "statementHandle");
        var statement = new RunningStatement(query, $"statement {handle}",
            Running: r => r.Status == System.Net.HttpStatusCode.Accepted,
            Poll: () => Request(HttpMethod.Get, $"/api/v2/statements/{Uri.EscapeDataString(handle ?? "")}", null),
            Cancel: () => Cancel(handle))
        {
            Finished = r => { if (!r.Ok) throw StatementFailure(r); },
        };
        return Rows(AwaitFinished(reply, statement, cancellationToken), handle, cancellationToken);
    }

    private IEnumerable<SourceRow> Rows(Reply first, string? handle, CancellationToken cancellationToken)
    {
        using (first)
        {
            var meta = Property(first.Root, "resultSetMetaData") ?? throw ReadFailed($"the answer to statement {handle} has no resultSetMetaData");
            var columns = new ResultColumns(Property(meta, "rowType"),
                column => Converter(StringOf(column, "type") ?? "text", Property(column, "scale")?.GetInt32() ?? 0));
            // Each partition's announced row count, in order; a result without partitionInfo is one partition.
            var announced = Property(meta, "partitionInfo") is { ValueKind: JsonValueKind.Array } info
                ? info.EnumerateArray().Select(p => LongOf(p, "rowCount")).ToList()
                : new List<long?> { null };
            var numRows = LongOf(meta, "numRows");
            // 391908: the result set is too large for one answer; the counts below tell whether it all arrived.
            var tooLarge = StringOf(first.Root, "code") == "391908" ? " (Snowflake answered code 391908: the result set is too large)" : "";
            long total = 0;
            long read = 0;
            foreach (var row in columns.ArrayRows(first.Root, "data"))
            {
                read++;
                yield return row;
            }
            first.Dispose();
            CheckCount($"Partition 0 of statement {handle}{tooLarge}", announced[0], read);
            total += read;
            for (var partition = 1; partition < announced.Count; partition++)
            {
                var path = $"/api/v2/statements/{Uri.EscapeDataString(handle ?? "")}?partition={partition}";
                var what = $"partition {partition} of {announced.Count} of statement {handle}";
                using var page = SendOrCancel(() => Request(HttpMethod.Get, path, null), what, () => Cancel(handle), cancellationToken);
                if (!page.Ok) throw StatementFailure(page);
                read = 0;
                foreach (var row in columns.ArrayRows(page.Root, "data"))
                {
                    read++;
                    yield return row;
                }
                CheckCount($"Partition {partition} of statement {handle}", announced[partition], read);
                total += read;
            }
            CheckCount($"The result of statement {handle}{tooLarge}", numRows, total);
        }
    }

    /// <summary>How a jsonv2 cell (always text) of a Snowflake type becomes a value.</summary>
    public static Func<JsonElement, object?> Converter(string type, int scale) => type.ToUpperInvariant() switch
    {
        "FIXED" or "NUMBER" when scale == 0 => RestValues.Integer,
        "FIXED" or "NUMBER" or "DECFLOAT" => RestValues.Decimal,
        "REAL" or "FLOAT" or "DOUBLE" => RestValues.Double,
        "BOOLEAN" => RestValues.Boolean,
        "DATE" => c => long.TryParse(RestValues.Text(c), NumberStyles.Integer, CultureInfo.InvariantCulture, out var days) ? RestValues.FromEpochDays(days) : RestValues.IsoDate(c),
        "TIME" => c => TimeSpan.FromTicks((long)decimal.Round(decimal.Parse(RestValues.Text(c)!, NumberStyles.Float, CultureInfo.InvariantCulture) * TimeSpan.TicksPerSecond)),
        "TIMESTAMP_NTZ" or "TIMESTAMP_LTZ" or "TIMESTAMP_TZ" => c =>
        {
            var text = RestValues.Text(c)!;
            var space = text.IndexOf(' ');
            return RestValues.FromEpochSeconds(space > 0 ? text.Substring(0, space) : text);
        },
        "BINARY" => RestValues.Hex,
        _ => RestValues.Text, // TEXT, VARIANT, OBJECT, ARRAY (JSON text), GEOGRAPHY, ...
    };

    private SourceException StatementFailure(Reply reply)
    {
        var message = StringOf(reply.Root, "message");
        var sqlState = StringOf(reply.Root, "sqlState");
        var code = StringOf(reply.Root, "code");
        var detail = message is null ? null : $"{message}{(code is null ? "" : $" (code {code}{(sqlState is null ? "" : $", SQL state {sqlState}")})")}";
        return (int)reply.Status == 422 ? SourceErrors.Query($"The Snowflake query failed: {Mask.Mask(detail ?? reply.Status.ToString())}") : Failure(reply, detail, "running the statement");
    }

    private void Cancel(string? handle)
    {
        if (string.IsNullOrEmpty(handle)) return;
        TryCancel(() => Request(HttpMethod.Post, $"/api/v2/statements/{Uri.EscapeDataString(handle!)}/cancel", null));
    }
}
