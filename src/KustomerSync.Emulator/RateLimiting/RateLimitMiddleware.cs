using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Inspection;

namespace KustomerSync.Emulator.RateLimiting;

/// <summary>
/// One unit of the org budget per authenticated /v1 request (a bulk request is one request, so one unit); search
/// routes also draw from the key's search budget. Headers on every /v1 response (on search responses they describe
/// the budget <see cref="EmulatorOptions.SearchRateHeaders"/> names); 429 when either budget is exhausted. Off when
/// the rate limit is 0.
/// </summary>
public sealed class RateLimitMiddleware(RateLimiter limiter, LiveOptions options, RequestStats stats)
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.IsApiPath() || !limiter.Enabled) return next(context);

        var o = options.Current;
        var org = limiter.AcquireOrg();
        RateLimitHeaders.Write(context.Response, org, o);
        if (!org.Allowed)
        {
            stats.RateLimited(search: false);
            throw TooMany($"Org rate limit of {org.Limit} requests per window reached; retry in {org.ResetSeconds}s");
        }

        if (context.GetEndpoint()?.Metadata.GetMetadata<SearchBudget>() is not null
            && limiter.AcquireSearch(context.ApiKey().UserId) is { } search)
        {
            switch (o.SearchRateHeaders)
            {
                case "search": RateLimitHeaders.Write(context.Response, search, o); break;
                case "both": RateLimitHeaders.Write(context.Response, search, o, "x-ratelimit-search-"); break;
                default: if (!search.Allowed) RateLimitHeaders.WriteReset(context.Response, org, o); break;
            }
            if (!search.Allowed)
            {
                stats.RateLimited(search: true);
                throw TooMany($"Search rate limit of {search.Limit} searches per window for this API key reached; retry in {search.ResetSeconds}s");
            }
        }
        return next(context);
    }

    private static ApiException TooMany(string detail) => new(429, "rate_limited", "Too Many Requests", detail);
}
