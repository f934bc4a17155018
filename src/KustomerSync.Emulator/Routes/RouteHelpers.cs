using System.Text.Json.Nodes;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;

namespace KustomerSync.Emulator.Routes;

/// <summary>Small helpers shared by the route classes.</summary>
public static class RouteHelpers
{
    public static RouteHandlerBuilder Roles(this RouteHandlerBuilder builder, RouteRoles roles) => builder.WithMetadata(roles);

    public static IResult Single(JsonObject resource, int status = 200) => JsonResponses.Json(ResourcePresenter.Single(resource), status);

    /// <summary>Parses an optional boolean query parameter strictly (true/false only).</summary>
    public static bool QueryBool(HttpRequest request, string name, bool fallback)
    {
        if (!request.Query.TryGetValue(name, out var v)) return fallback;
        if (v.Count == 1 && bool.TryParse(v[0], out var b)) return b;
        throw ApiException.BadParameter(name, $"{name} must be true or false");
    }

    public static JsonArray ToArray(IEnumerable<JsonObject> items)
    {
        var arr = new JsonArray();
        foreach (var i in items) arr.Add(i);
        return arr;
    }
}
