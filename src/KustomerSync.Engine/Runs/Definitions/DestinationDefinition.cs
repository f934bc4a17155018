namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>The Kustomer organization and where its key comes from.</summary>
public sealed record DestinationDefinition
{
    public string? Organization { get; init; }
    public string? Region { get; init; }
    public Uri BaseUri { get; init; } = null!;
    public SecretReference ApiKey { get; init; } = null!;
}
