using System.Globalization;

namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset (whole seconds until the window
/// resets, never an epoch). Search responses add x-ratelimit-search-* for the search budget.
/// </summary>
public static class RateLimitHeaders
{
    public static void Write(HttpResponse response, FixedWindowCounter.Decision d, string prefix = "x-ratelimit-")
    {
        response.Headers[prefix + "limit"] = d.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers[prefix + "remaining"] = d.Remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers[prefix + "reset"] = d.ResetSeconds.ToString(CultureInfo.InvariantCulture);
    }
}
