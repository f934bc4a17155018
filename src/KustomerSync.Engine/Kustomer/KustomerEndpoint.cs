using System.Net;

namespace KustomerSync.Engine.Kustomer;

/// <summary>Where an org's API lives: the org host, a regional host, or an explicit base URI (the emulator).</summary>
public static class KustomerEndpoint
{
    public static readonly IReadOnlyDictionary<string, string> RegionHosts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["US"] = "api.kustomerapp.com",
        ["EU"] = "api.prod2.kustomerapp.com",
        ["IN"] = "api.prod4.kustomerapp.com",
    };

    /// <summary>The org host routes to the org's region by itself; a region picks a regional host instead.</summary>
    public static Uri ForOrganization(string organization, string? region)
    {
        if (string.IsNullOrWhiteSpace(organization) || organization.IndexOfAny(new[] { '/', ':', '.', ' ' }) >= 0)
            throw new ArgumentException($"'{organization}' is not a Kustomer organization name: give the subdomain of <org>.kustomerapp.com, for example 'acme'.", nameof(organization));
        if (string.IsNullOrEmpty(region))
            return new Uri($"https://{organization.ToLowerInvariant()}.api.kustomerapp.com/");
        if (!RegionHosts.TryGetValue(region!, out var host))
            throw new ArgumentException($"Unknown region '{region}'. Known regions: {string.Join(", ", RegionHosts.Keys)}.", nameof(region));
        return new Uri($"https://{host}/");
    }

    /// <summary>Checks an explicit base URI: HTTPS, or plain HTTP on loopback only (the emulator).</summary>
    public static Uri Normalize(Uri baseUri)
    {
        if (!baseUri.IsAbsoluteUri)
            throw new ArgumentException($"'{baseUri}' is not an absolute URI.", nameof(baseUri));
        if (baseUri.Scheme != Uri.UriSchemeHttps && !(baseUri.Scheme == Uri.UriSchemeHttp && IsLoopback(baseUri)))
            throw new ArgumentException($"'{baseUri}' is not HTTPS. Kustomer keys are only sent over HTTPS, or over HTTP to a loopback address (the emulator).", nameof(baseUri));
        var text = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (text.EndsWith("/v1", StringComparison.OrdinalIgnoreCase)) text = text.Substring(0, text.Length - 3);
        return new Uri(text + "/");
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
}
