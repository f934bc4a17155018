using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;

namespace KustomerSync.Emulator.Faults;

/// <summary>Adds the configured latency to every /v1 request.</summary>
public sealed class LatencyMiddleware(LiveOptions options)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var ms = options.Current.LatencyMs;
        if (ms > 0 && context.IsApiPath()) await Task.Delay(ms, context.RequestAborted);
        await next(context);
    }
}
