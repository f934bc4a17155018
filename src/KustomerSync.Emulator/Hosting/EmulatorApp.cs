using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Faults;
using KustomerSync.Emulator.Http.Pipeline;
using KustomerSync.Emulator.Inspection;
using KustomerSync.Emulator.RateLimiting;
using KustomerSync.Emulator.Routes;

namespace KustomerSync.Emulator.Hosting;

/// <summary>Wires the request pipeline and maps every route onto a built <see cref="WebApplication"/>.</summary>
public static class EmulatorApp
{
    /// <summary>
    /// Pipeline (outer → inner): stats → errors → routing → latency → authentication (401) →
    /// rate limit (429) → faults (5xx) → authorization (403, or 401 by option) → endpoint.
    /// /health and /_emulator/* pass every /v1-only stage untouched.
    /// </summary>
    public static void Configure(WebApplication app, EmulatorServices s)
    {
        var stats = new StatsMiddleware(s.Stats);
        var errors = new ErrorMiddleware(s.Options);
        var latency = new LatencyMiddleware(s.Options, s.Clock);
        var authn = new AuthenticationMiddleware(s.Keys, s.RateLimiter, s.Options);
        var rate = new RateLimitMiddleware(s.RateLimiter, s.Options, s.Stats);
        var faults = new FaultMiddleware(s.Faults);
        var authz = new AuthorizationMiddleware(s.Options);

        app.Use((ctx, next) => stats.InvokeAsync(ctx, next));
        app.Use((ctx, next) => errors.InvokeAsync(ctx, next));
        app.UseRouting();
        app.Use((ctx, next) => latency.InvokeAsync(ctx, next));
        app.Use((ctx, next) => authn.InvokeAsync(ctx, next));
        app.Use((ctx, next) => rate.InvokeAsync(ctx, next));
        app.Use((ctx, next) => faults.InvokeAsync(ctx, next));
        app.Use((ctx, next) => authz.InvokeAsync(ctx, next));

        HealthRoutes.Map(app, s);
        InspectionRoutes.Map(app, s);

        var v1 = app.MapGroup("/v1");
        AuthRoutes.Map(v1, s);
        CustomerRoutes.Map(v1, s);
        SearchRoutes.Map(v1, s);
        CompanyRoutes.Map(v1, s);
        KlassRoutes.Map(v1, s);
        MetadataRoutes.Map(v1, s);
        BulkRoutes.Map(v1, s);
    }
}
