namespace KustomerSync;

/// <summary>What Test-KustomerConnection learned about a key.</summary>
public sealed class ConnectionTestResult
{
    public string Destination { get; set; } = "";
    public Uri? BaseUri { get; set; }
    public bool Succeeded { get; set; }
    public string? TokenName { get; set; }
    public string[] Roles { get; set; } = Array.Empty<string>();
    public ObjectAccess[] Objects { get; set; } = Array.Empty<ObjectAccess>();

    /// <summary>True when the key can follow bulk jobs (GET /v1/bulk/{id}); without it syncs use single-record writes.</summary>
    public bool CanUseBulk { get; set; }

    public double LatencyMs { get; set; }
    public int? RateLimit { get; set; }
    public int? RateLimitRemaining { get; set; }
    /// <summary>Requests a window a sync uses by default: its default share of <see cref="RateLimit"/>, leaving the rest to the org's other apps.</summary>
    public int? RateBudget { get; set; }
    /// <summary>The most requests this process's syncs sent to the org in one rate window so far.</summary>
    public int RateUsedBySyncs { get; set; }
    public string? Message { get; set; }
}

/// <summary>Whether a key can sync one kind of object, and which roles it lacks for that.</summary>
public sealed class ObjectAccess
{
    public string Object { get; set; } = "";
    public bool CanRead { get; set; }
    public bool CanCreate { get; set; }
    public bool CanUpdate { get; set; }
    public bool CanSync => CanRead && CanCreate && CanUpdate;
    public string[] MissingRoles { get; set; } = Array.Empty<string>();

    public override string ToString() => CanSync ? $"{Object}: can sync" : $"{Object}: missing {string.Join(", ", MissingRoles)}";
}
