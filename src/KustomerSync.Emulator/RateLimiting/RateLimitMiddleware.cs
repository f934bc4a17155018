using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Inspection;

namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// One unit of the org budget per authenticated /v1 request (a bulk request is one request, so one
/// unit); search routes also draw from the search budget. Headers on every /v1 response; 429 when
/// either budget is exhausted. Off when the rate limit is 0.
/// </summary>
public sealed class RateLimitMiddleware(RateLimiter limiter, RequestStats stats)
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.IsApiPath() || !limiter.Enabled) return next(context);

        var org = limiter.AcquireOrg();
        RateLimitHeaders.Write(context.Response, org);
        if (!org.Allowed)
        {
            stats.RateLimited(search: false);
            throw TooMany($"Org rate limit of {org.Limit} requests per window reached; retry in {org.ResetSeconds}s");
        }

        if (context.GetEndpoint()?.Metadata.GetMetadata<SearchBudget>() is not null && limiter.AcquireSearch() is { } search)
        {
            RateLimitHeaders.Write(context.Response, search, "x-ratelimit-search-");
            if (!search.Allowed)
            {
                stats.RateLimited(search: true);
                throw TooMany($"Search rate limit of {search.Limit} requests per window reached; retry in {search.ResetSeconds}s");
            }
        }
        return next(context);
    }

    private static ApiException TooMany(string detail) => new(429, "rate_limited", "Too Many Requests", detail);
}
