using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;

namespace KustomerSync.Emulator.Faults;

/// <summary>Adds the configured latency to every /v1 request (timed by the emulator clock's time source).</summary>
public sealed class LatencyMiddleware(LiveOptions options, TimeProvider clock)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var ms = options.Current.LatencyMs;
        if (ms > 0 && context.IsApiPath()) await Task.Delay(TimeSpan.FromMilliseconds(ms), clock, context.RequestAborted);
        await next(context);
    }
}
