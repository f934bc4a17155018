using System.Text.Json;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// Google APIs' authentication, shared by BigQuery and Google Sheets: an access token as it is
/// (AccessToken=... or -Credential's password), or a service-account key file (ServiceAccountKeyFile=...) whose
/// private key signs a JWT exchanged at the key's token_uri (JWT bearer grant) for an access token with the scope the
/// API needs. That token lives an hour: it is renewed two minutes before it expires, and once more on a 401, so a
/// long read does not fail at minute 60.
/// </summary>
public abstract class GoogleSource : RestSource
{
    private readonly string? _accessToken;
    private readonly ServiceAccount? _account;
    private readonly string _scope;
    private string? _token;
    private DateTime _tokenExpires;

    protected GoogleSource(RestSettings settings, HttpMessageHandler? handler, TimeProvider? time, string scope, bool allowApiKey) : base(settings, handler, time)
    {
        _scope = scope;
        var keyFile = settings.Get("ServiceAccountKeyFile", "KeyFile", "CredentialsFile", "Credentials");
        if (keyFile is not null) _account = ServiceAccount.Load(keyFile, settings);
        else
        {
            ApiKey = allowApiKey ? settings.Get("ApiKey", "Key") : null;
            _accessToken = settings.Get("AccessToken", "Token") ?? (ApiKey is null ? settings.Secret() : null);
            if (_accessToken is null && ApiKey is null)
                throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
                    $"The {settings.Provider} connection string needs ServiceAccountKeyFile=... (a service account's JSON key) or AccessToken=...{(allowApiKey ? " or ApiKey=..." : "")}; the token may also come as the credential's password.");
        }
        Mask.Add(_accessToken).Add(ApiKey).Add(_account?.PrivateKeyPem);
    }

    protected string? ApiKey { get; }

    /// <summary>The project of the service account key, if one was given.</summary>
    protected string? KeyProject => _account?.ProjectId;

    /// <summary>Adds the Authorization header (nothing when only an API key is used).</summary>
    protected void Authorize(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = AccessToken(cancellationToken);
        if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
    }

    private string? AccessToken(CancellationToken cancellationToken)
    {
        if (_account is null) return _accessToken;
        if (_token is not null && UtcNow < _tokenExpires) return _token;
        var now = UtcNow;
        string assertion;
        using (var rsa = Jwt.LoadRsaPrivateKey(_account.PrivateKeyPem, null, Provider, "service account key's private_key"))
        {
            assertion = Jwt.CreateRs256(rsa, new Dictionary<string, object>
            {
                ["iss"] = _account.ClientEmail,
                ["scope"] = _scope,
                ["aud"] = _account.TokenUri.AbsoluteUri,
                ["iat"] = Jwt.UnixTime(now),
                ["exp"] = Jwt.UnixTime(now.AddHours(1)),
            }, _account.PrivateKeyId);
        }
        Mask.Add(assertion);
        using var reply = Send(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, _account.TokenUri)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    ["assertion"] = assertion,
                }),
            };
            return request;
        }, "the token endpoint's answer", cancellationToken);
        var token = StringOf(reply.Root, "access_token");
        if (!reply.Ok || token is null)
        {
            var error = StringOf(reply.Root, "error_description") ?? StringOf(reply.Root, "error") ?? reply.Text ?? reply.Status.ToString();
            throw SourceErrors.Authentication($"{Provider}: the token endpoint {Authority(_account.TokenUri)} refused the service account {_account.ClientEmail}: {Mask.Mask(error)}");
        }
        var lifetime = Property(reply.Root, "expires_in") is { ValueKind: JsonValueKind.Number } e ? e.GetInt32() : 3600;
        _token = token;
        _tokenExpires = now.AddSeconds(Math.Max(60, lifetime - 120));
        Mask.Add(token);
        return token;
    }

    protected override bool RenewCredentials()
    {
        if (_account is null || _token is null) return false;
        _token = null;
        return true;
    }

    /// <summary>
    /// The stable error for a failed Google reply. Besides 401/403, a bad API key is an authentication failure: Google
    /// answers it 400 INVALID_ARGUMENT with the reason API_KEY_INVALID (or another API_KEY_* reason) in error.details.
    /// </summary>
    protected SourceException GoogleFailure(Reply reply, string doing)
    {
        var reasons = Reasons(reply.Root).ToList();
        var apiKey = reasons.Any(r => r.StartsWith("API_KEY_", StringComparison.Ordinal) || r is "keyInvalid" or "keyExpired");
        var scope = reasons.Contains("ACCESS_TOKEN_SCOPE_INSUFFICIENT") ? $" The token lacks the scope {_scope}." : "";
        var message = GoogleError(reply.Root);
        return Failure(reply, message is null ? null : message + scope, doing, authentication: apiKey);
    }

    /// <summary>The standard Google error body: {"error": {"code", "message", "status", "errors": [...], "details": [...]}}.</summary>
    private static string? GoogleError(JsonElement root)
    {
        var error = Property(root, "error");
        if (error is not { ValueKind: JsonValueKind.Object } e) return error is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
        var message = StringOf(e, "message");
        var reason = Reasons(root).FirstOrDefault() ?? StringOf(e, "status");
        return reason is null ? message : $"{message} ({reason})";
    }

    /// <summary>The reasons of an error body, the specific ones (google.rpc.ErrorInfo in details) first, then the legacy errors[].reason.</summary>
    private static IEnumerable<string> Reasons(JsonElement root)
    {
        var error = Property(root, "error") ?? default;
        foreach (var list in new[] { "details", "errors" })
            if (Property(error, list) is { ValueKind: JsonValueKind.Array } items)
                foreach (var item in items.EnumerateArray())
                    if (StringOf(item, "reason") is { } reason) yield return reason;
    }

    private sealed class ServiceAccount
    {
        public string ClientEmail { get; private set; } = "";
        public string PrivateKeyPem { get; private set; } = "";
        public string? PrivateKeyId { get; private set; }
        public string? ProjectId { get; private set; }
        public Uri TokenUri { get; private set; } = new("https://oauth2.googleapis.com/token");

        public static ServiceAccount Load(string path, RestSettings settings)
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, $"The {settings.Provider} service account key file '{path}' could not be read: {ex.Message}");
            }
            try
            {
                using var json = JsonDocument.Parse(text);
                var root = json.RootElement;
                var account = new ServiceAccount
                {
                    ClientEmail = StringOf(root, "client_email") ?? throw new FormatException("client_email"),
                    PrivateKeyPem = StringOf(root, "private_key") ?? throw new FormatException("private_key"),
                    PrivateKeyId = StringOf(root, "private_key_id"),
                    ProjectId = StringOf(root, "project_id"),
                };
                if (StringOf(root, "token_uri") is { } uri)
                    account.TokenUri = settings.RequireSecure(new Uri(uri), "token_uri");
                return account;
            }
            catch (Exception ex) when (ex is JsonException or FormatException or UriFormatException)
            {
                throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
                    $"The {settings.Provider} service account key file '{path}' is not a service account JSON key (it needs client_email, private_key and token_uri).");
            }
        }
    }
}
