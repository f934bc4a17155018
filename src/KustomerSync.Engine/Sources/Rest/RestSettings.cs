using System.Data.Common;
using System.Net;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// The connection string of a REST provider ("Account=xy;User=...;PrivateKeyFile=...;Endpoint=..."), parsed with
/// DbConnectionStringBuilder (keys are case-insensitive), with the -Credential merged in.
/// </summary>
public sealed class RestSettings
{
    private readonly DbConnectionStringBuilder _builder;

    private RestSettings(string provider, DbConnectionStringBuilder builder, NetworkCredential? credential)
    {
        Provider = provider;
        _builder = builder;
        Credential = credential;
        Mask = new SecretMask().AddFrom(builder).Add(credential?.Password);
    }

    public string Provider { get; }
    public NetworkCredential? Credential { get; }
    public SecretMask Mask { get; }

    public static RestSettings Parse(string provider, string connectionString, NetworkCredential? credential) =>
        new(provider, ConnectionStrings.Parse(provider, connectionString), credential);

    /// <summary>The first of the keys that is set, or null.</summary>
    public string? Get(params string[] keys)
    {
        foreach (var key in keys)
            if (_builder.TryGetValue(key, out var value) && value is not null && Convert.ToString(value) is { Length: > 0 } text)
                return text;
        return null;
    }

    public string Require(string what, params string[] keys) => Get(keys) ?? throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
        $"The {Provider} connection string needs {keys[0]}=... ({what}).");

    public int GetInt(int fallback, params string[] keys)
    {
        var text = Get(keys);
        if (text is null) return fallback;
        if (int.TryParse(text, out var value) && value > 0) return value;
        throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, $"The {Provider} connection string's {keys[0]} must be a positive whole number.");
    }

    /// <summary>The user name: from -Credential, else from the connection string.</summary>
    public string? User(params string[] keys) =>
        !string.IsNullOrEmpty(Credential?.UserName) ? Credential!.UserName : Get(keys);

    /// <summary>A secret: from the connection string, else the -Credential's password.</summary>
    public string? Secret(params string[] keys) => Get(keys) ?? (string.IsNullOrEmpty(Credential?.Password) ? null : Credential!.Password);

    /// <summary>
    /// The base URL of the API: Endpoint=... when set (tests point it at local doubles), else the vendor's default.
    /// HTTPS only, except loopback.
    /// </summary>
    public Uri Endpoint(string? defaultUrl)
    {
        var text = Get("Endpoint", "Url", "BaseUrl", "Host") ?? defaultUrl ?? throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
            $"The {Provider} connection string needs Endpoint=https://...");
        if (!text.Contains("://")) text = "https://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, $"The {Provider} endpoint '{Mask.Mask(text)}' is not a valid URL.");
        return RequireSecure(uri, "endpoint");
    }

    public Uri RequireSecure(Uri uri, string what)
    {
        if (uri.Scheme == Uri.UriSchemeHttps) return uri;
        if (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback) return uri;
        throw SourceErrors.Invalid(ErrorIds.SourceInsecureEndpoint,
            $"The {Provider} {what} {uri.Scheme}://{uri.Authority} is not HTTPS: only https:// URLs are allowed (plain http only to loopback test doubles).");
    }
}
