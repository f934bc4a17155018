using System.Text.Json.Nodes;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;

namespace KustomerSync.Emulator.Routes;

/// <summary>GET /v1/auth/tokens/current — any valid key; the token record (MEL shape) with its roles.</summary>
public static class AuthRoutes
{
    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s) =>
        v1.MapGet("/auth/tokens/current", (HttpContext ctx) =>
        {
            var key = ctx.ApiKey();
            var roles = new JsonArray();
            foreach (var r in key.Roles) roles.Add(r);
            var attributes = new JsonObject
            {
                ["name"] = key.Name,
                ["lastTokenChars"] = key.LastTokenChars,
                ["roles"] = roles,
                ["ipAddress"] = ctx.Connection.RemoteIpAddress?.ToString(),
                ["userAgent"] = ctx.Request.Headers.UserAgent.ToString(),
                ["createdAt"] = ResourcePresenter.Timestamp(key.CreatedAt),
                ["updatedAt"] = ResourcePresenter.Timestamp(key.CreatedAt),
                ["lastAccessedAt"] = key.LastAccessedAt is { } t ? ResourcePresenter.Timestamp(t) : null,
            };
            var relationships = new JsonObject
            {
                ["org"] = s.Presenter.OrgLink(),
                ["user"] = ResourcePresenter.Link("user", key.UserId, $"/v1/users/{key.UserId}"),
            };
            return RouteHelpers.Single(ResourcePresenter.Resource("token", key.TokenId, attributes, relationships, "/v1/auth/tokens/current"));
        }).Roles(RouteRoles.AnyKey);
}
