using System.Text.Json;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// Google APIs' authentication, shared by BigQuery and Google Sheets: an access token as it is
/// (AccessToken=... or -Credential's password), or a service-account key file (ServiceAccountKeyFile=...) whose
/// private key signs a JWT exchanged at the key's token_uri (JWT bearer grant) for an access token.
/// </summary>
public abstract class GoogleSource : RestSource
{
    private readonly string? _accessToken;
    private readonly ServiceAccount? _account;
    private readonly string _scope;
    private string? _token;
    private DateTime _tokenExpires;

    protected GoogleSource(RestSettings settings, HttpMessageHandler? handler, string scope, bool allowApiKey) : base(settings, handler)
    {
        _scope = scope;
        var keyFile = settings.Get("ServiceAccountKeyFile", "KeyFile", "CredentialsFile", "Credentials");
        if (keyFile is not null) _account = ServiceAccount.Load(keyFile, settings);
        else
        {
            ApiKey = allowApiKey ? settings.Get("ApiKey", "Key") : null;
            _accessToken = settings.Get("AccessToken", "Token") ?? (ApiKey is null ? settings.Secret() : null);
            if (_accessToken is null && ApiKey is null)
                throw SourceErrors.Invalid(SourceErrors.InvalidConnectionString,
                    $"The {settings.Provider} connection string needs ServiceAccountKeyFile=... (a service account's JSON key) or AccessToken=...{(allowApiKey ? " or ApiKey=..." : "")}; the token may also come as -Credential's password.");
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
        if (_token is not null && DateTime.UtcNow < _tokenExpires) return _token;
        var now = DateTime.UtcNow;
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
        }, cancellationToken);
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

    /// <summary>The standard Google error body: {"error": {"code", "message", "status", "errors": [...]}}.</summary>
    protected static string? GoogleError(JsonElement root)
    {
        var error = Property(root, "error");
        if (error is not { ValueKind: JsonValueKind.Object } e) return error is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
        var message = StringOf(e, "message");
        var reason = Property(e, "errors") is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0 ? StringOf(list[0], "reason") : StringOf(e, "status");
        return reason is null ? message : $"{message} ({reason})";
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
                throw SourceErrors.Invalid(SourceErrors.InvalidConnectionString, $"The {settings.Provider} service account key file '{path}' could not be read: {ex.Message}");
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
                throw SourceErrors.Invalid(SourceErrors.InvalidConnectionString,
                    $"The {settings.Provider} service account key file '{path}' is not a service account JSON key (it needs client_email, private_key and token_uri).");
            }
        }
    }
}
