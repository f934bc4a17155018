using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;

namespace KustomerSync.Emulator.Routes;

/// <summary>GET /health — no auth, never rate limited or faulted.</summary>
public static class HealthRoutes
{
    public static void Map(IEndpointRouteBuilder app, EmulatorServices s) =>
        app.MapGet("/health", () => JsonResponses.Json(new JsonObject { ["status"] = "ok", ["org"] = s.Options.Current.Org }));
}
