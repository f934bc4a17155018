using System.Text.Json.Nodes;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Faults;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Routes;

/// <summary>Small helpers shared by the route classes.</summary>
public static class RouteHelpers
{
    public static RouteHandlerBuilder Roles(this RouteHandlerBuilder builder, RouteRoles roles) => builder.WithMetadata(roles);

    public static IResult Single(JsonObject resource, int status = 200) => JsonResponses.Json(ResourcePresenter.Single(resource), status);

    /// <summary>Reads a write's flat JSON body and validates it against <paramref name="schema"/>.</summary>
    public static async Task<JsonObject> ReadValidBodyAsync(EmulatorServices s, HttpContext ctx, ObjectSchema schema)
    {
        var body = await s.Body.ReadFlatObjectAsync(ctx);
        schema.Validate(body, "");
        return body;
    }

    /// <summary>A POST that creates an object as the caller and answers 201, unless a LostCreate fault loses the answer after the write.</summary>
    /// <remarks>Call it from a block-bodied lambda: an expression-bodied one binds to RequestDelegate, which drops the result.</remarks>
    public static async Task<IResult> CreateAsync(EmulatorServices s, HttpContext ctx, ObjectSchema schema, Func<JsonObject, string, JsonObject> create)
    {
        var body = await ReadValidBodyAsync(s, ctx, schema);
        var created = create(body, ctx.ApiKey().UserId);
        LostCreate.ThrowIfInjected(s.Faults);
        return Single(created, 201);
    }

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
