using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.RateLimiting;

namespace KustomerSync.Emulator.Auth;

/// <summary>
/// /v1 requests need <c>Authorization: Bearer &lt;key&gt;</c> with a known, unexpired key of this pod; else 401.
/// A 401 still carries the x-ratelimit-* headers (peeked, not consumed).
/// </summary>
public sealed class AuthenticationMiddleware(KeyStore keys, RateLimiter limiter, LiveOptions options)
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.IsApiPath()) return next(context);

        var header = context.Request.Headers.Authorization.ToString();
        string? token = null;
        if (header.Length > 7 && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) token = header[7..];

        if (string.IsNullOrEmpty(token)) throw Unauthorized(context, "Missing API key: send Authorization: Bearer <API key>");
        var key = keys.Find(token) ?? throw Unauthorized(context, "Invalid API key");
        if (key.Expired) throw Unauthorized(context, "Expired token");
        if (!string.Equals(key.Pod, "prod1", StringComparison.Ordinal))
            throw Unauthorized(context, $"Auth token associated with pod {key.Pod} but request is being handled by prod1");

        key.Touch();
        context.SetApiKey(key);
        return next(context);
    }

    private ApiException Unauthorized(HttpContext context, string detail)
    {
        if (limiter.Enabled) RateLimitHeaders.Write(context.Response, limiter.PeekOrg(), options.Current);
        return new ApiException(401, "unauthorized", "Unauthorized", detail);
    }
}
