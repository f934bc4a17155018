using KustomerSync.Emulator.Inspection;

namespace KustomerSync.Emulator.Http.Pipeline;

/// <summary>Counts every /v1 request by "METHOD route-template" and final status.</summary>
public sealed class StatsMiddleware(RequestStats stats)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.IsApiPath()) { await next(context); return; }
        try
        {
            await next(context);
        }
        finally
        {
            var template = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            var route = template is null ? "(unmatched)" : context.Request.Method + " " + template;
            stats.Record(route, context.Response.StatusCode);
        }
    }
}
