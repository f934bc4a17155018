using System.Security;

namespace KustomerSync;

/// <summary>A Kustomer organization registered in this runspace by Connect-KustomerDestination.</summary>
public sealed class KustomerDestination
{
    public KustomerDestination(string name, string organization, Uri baseUri, string region, SecureString apiKey, string keySource)
    {
        Name = name;
        Organization = organization;
        BaseUri = baseUri;
        Region = region;
        ApiKey = apiKey;
        KeySource = keySource;
        ConnectedAt = DateTime.UtcNow;
    }

    /// <summary>The name this destination is registered under (defaults to the organization).</summary>
    public string Name { get; }

    public string Organization { get; }

    /// <summary>The API root, without the /v1 segment.</summary>
    public Uri BaseUri { get; }

    public string Region { get; }

    /// <summary>Where the key came from (ApiKey, Credential, an environment variable's name); never the key.</summary>
    public string KeySource { get; }

    public DateTime ConnectedAt { get; }

    /// <summary>True for the destination that cmdlets use when -Destination is not given.</summary>
    public bool IsDefault { get; set; }

    internal SecureString ApiKey { get; }

    /// <summary>Hands the key to code that must send it; kept off the public surface so it is never formatted.</summary>
    public static SecureString GetApiKey(KustomerDestination destination) => destination.ApiKey;

    public override string ToString() => Name;
}
