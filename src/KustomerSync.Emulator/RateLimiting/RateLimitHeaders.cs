using System.Globalization;
using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset. The reset value's format is a setting
/// (<see cref="EmulatorOptions.RateResetFormat"/>: epoch seconds, epoch milliseconds or seconds to go), and it is
/// sent on 429s only unless <see cref="EmulatorOptions.RateResetOnSuccess"/> is set (§10: unit and presence undocumented).
/// </summary>
public static class RateLimitHeaders
{
    public static void Write(HttpResponse response, FixedWindowCounter.Decision d, EmulatorOptions o, string prefix = "x-ratelimit-")
    {
        response.Headers[prefix + "limit"] = d.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers[prefix + "remaining"] = d.Remaining.ToString(CultureInfo.InvariantCulture);
        if (!d.Allowed || o.RateResetOnSuccess) WriteReset(response, d, o, prefix);
    }

    /// <summary>Adds the reset header (a 429 always carries it).</summary>
    public static void WriteReset(HttpResponse response, FixedWindowCounter.Decision d, EmulatorOptions o, string prefix = "x-ratelimit-")
    {
        var value = o.RateResetFormat switch
        {
            "epoch-ms" => d.ResetAt.ToUnixTimeMilliseconds(),
            "seconds" => d.ResetSeconds,
            _ => (long)Math.Ceiling(d.ResetAt.ToUnixTimeMilliseconds() / 1000.0),
        };
        response.Headers[prefix + "reset"] = value.ToString(CultureInfo.InvariantCulture);
    }
}
