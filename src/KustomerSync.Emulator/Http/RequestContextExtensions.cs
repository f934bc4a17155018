using KustomerSync.Emulator.Auth;

namespace KustomerSync.Emulator.Http;

/// <summary>Per-request values set by the pipeline.</summary>
public static class RequestContextExtensions
{
    private static readonly object KeySlot = new();

    public static bool IsApiPath(this HttpContext context) => context.Request.Path.StartsWithSegments("/v1");

    public static void SetApiKey(this HttpContext context, ApiKey key) => context.Items[KeySlot] = key;

    /// <summary>The authenticated key (only on /v1 routes, after authentication).</summary>
    public static ApiKey ApiKey(this HttpContext context) =>
        context.Items[KeySlot] as ApiKey ?? throw new InvalidOperationException("request is not authenticated");
}
