namespace KustomerSync.Emulator.Auth;

/// <summary>An API key and the machine user behind it. Roles are fixed (Kustomer keys cannot be edited).</summary>
public sealed class ApiKey
{
    public required string Key { get; init; }
    public required string Name { get; init; }
    public required IReadOnlyList<string> Roles { get; init; }
    /// <summary>An expired key answers 401 "Expired token".</summary>
    public bool Expired { get; init; }
    /// <summary>Region pod that issued the key; anything but <c>prod1</c> answers the region-mismatch 401.</summary>
    public string Pod { get; init; } = "prod1";
    public required string TokenId { get; init; }
    public required string UserId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    private long _lastAccessedTicks;
    public DateTimeOffset? LastAccessedAt =>
        Interlocked.Read(ref _lastAccessedTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;
    public void Touch() => Interlocked.Exchange(ref _lastAccessedTicks, DateTimeOffset.UtcNow.UtcTicks);
    public string LastTokenChars => Key.Length <= 4 ? Key : Key[^4..];
}
