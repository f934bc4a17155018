namespace KustomerSync.Emulator.RateLimiting;

/// <summary>Endpoint metadata: the route also draws from the search budget.</summary>
public sealed class SearchBudget
{
    public static readonly SearchBudget Instance = new();
}
