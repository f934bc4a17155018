using System.Globalization;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Routes;

/// <summary>
/// /v1/klasses: list and define klasses; GET /klasses/{id-or-name} (a klass by id, else the klass's
/// KObjects by name); KObject create/get/externalId=/update/delete under /klasses/{name}.
/// </summary>
public static class KlassRoutes
{
    private static readonly ObjectSchema KlassCreate = new ObjectSchema("klass")
        .Field("name", Rules.Str(1, 64, nullable: false, KObjectStore.KlassNamePattern(), "letters, digits, _ and -"), required: true)
        .Field("displayName", Rules.Str(1, 256, nullable: false))
        .Field("description", Rules.Str(0, 1024))
        .Field("icon", Rules.Str(0, 64))
        .Field("color", Rules.Str(0, 32))
        .Field("status", Rules.Enum(false, "enabled", "disabled", "existing_only"));

    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s)
    {
        var kobjects = s.Store.KObjects;

        v1.MapGet("/klasses", (HttpContext ctx) =>
        {
            var paging = Paging.Parse(ctx.Request, defaultSize: 100, maxSize: 100);
            string? status = ctx.Request.Query.TryGetValue("status", out var st) ? st.ToString() : null;
            if (status is not null && status is not ("enabled" or "disabled" or "existing_only"))
                throw ApiException.BadParameter("status", "status must be enabled, disabled or existing_only");
            var (total, page) = kobjects.ListKlasses(status ?? "enabled", paging.Skip, paging.PageSize); // OAS: the default is enabled
            var extra = status is null ? null : new Dictionary<string, string> { ["status"] = status };
            return JsonResponses.Json(paging.ListBody("/v1/klasses", extra, total, RouteHelpers.ToArray(page)));
        }).Roles(RouteRoles.KlassRead);

        v1.MapPost("/klasses", async (HttpContext ctx) =>
        {
            var body = await s.Body.ReadFlatObjectAsync(ctx);
            KlassCreate.Validate(body, "");
            string? Str(string k) => WriteChecks.RefId(body, k);
            var created = kobjects.DefineKlass(Str("name")!, Str("displayName"), Str("icon"), Str("color"), Str("description"), Str("status") ?? "enabled");
            return RouteHelpers.Single(created, 201);
        }).Roles(RouteRoles.KlassCreate);

        v1.MapGet("/klasses/{name}", (HttpContext ctx, string name) =>
        {
            var klass = kobjects.FindKlass(name) ?? throw ApiException.NotFound($"klass '{name}' not found");
            if (klass.Id == name) return RouteHelpers.Single(kobjects.PresentKlass(klass));
            var paging = Paging.Parse(ctx.Request, defaultSize: 100, maxSize: 100);
            DateTimeOffset? from = null;
            var extra = new Dictionary<string, string>();
            if (ctx.Request.Query.TryGetValue("fromDate", out var fd))
            {
                if (!DateTimeOffset.TryParse(fd.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                    throw ApiException.BadParameter("fromDate", "fromDate must be an ISO-8601 date or date-time");
                from = parsed;
                extra["fromDate"] = fd.ToString();
            }
            var (total, page) = kobjects.List(klass.Name, from, paging.Skip, paging.PageSize);
            return JsonResponses.Json(paging.ListBody($"/v1/klasses/{klass.Name}", extra, total, RouteHelpers.ToArray(page)));
        }).Roles(RouteRoles.KlassRead);

        v1.MapPost("/klasses/{name}", (HttpContext ctx, string name) =>
        {
            RequireKlass(kobjects, name);
            return RouteHelpers.CreateAsync(s, ctx, s.Schemas.KObjectCreate(name), (body, userId) =>
            {
                s.RecordLimits.KObjectCreate(userId, body);
                return kobjects.Create(name, body, userId);
            });
        }).Roles(RouteRoles.KObjectCreate);

        // The customer's KObjects: create one linked to the customer of the path, and list them.
        v1.MapPost("/customers/{id}/klasses/{name}", (HttpContext ctx, string id, string name) =>
        {
            RequireKlass(kobjects, name);
            if (!s.Store.Customers.Exists(id)) throw ApiException.NotFound($"customer {id} not found");
            return RouteHelpers.CreateAsync(s, ctx, s.Schemas.KObjectCreate(name), (body, userId) =>
            {
                if (WriteChecks.RefId(body, "customer") is string other && other != id)
                    throw ApiException.BadRequest($"customer '{other}' differs from the customer of the path ({id})", "/customer");
                body["customer"] = id;
                s.RecordLimits.KObjectCreate(userId, body);
                return kobjects.Create(name, body, userId);
            });
        }).Roles(RouteRoles.KObjectCreate);

        v1.MapGet("/customers/{id}/klasses/{name}", (HttpContext ctx, string id, string name) =>
        {
            RequireKlass(kobjects, name);
            if (!s.Store.Customers.Exists(id)) throw ApiException.NotFound($"customer {id} not found");
            var paging = Paging.Parse(ctx.Request, defaultSize: 100, maxSize: 100);
            var (total, page) = kobjects.ListForCustomer(name, id, paging.Skip, paging.PageSize);
            return JsonResponses.Json(paging.ListBody($"/v1/customers/{id}/klasses/{name}", null, total, RouteHelpers.ToArray(page)));
        }).Roles(RouteRoles.CustomerRead);

        v1.MapGet("/klasses/{name}/externalId={externalId}", (string name, string externalId) =>
            RouteHelpers.Single(kobjects.GetByExternalId(name, externalId))).Roles(RouteRoles.KObjectRead);

        v1.MapGet("/klasses/{name}/{id}", (string name, string id) => RouteHelpers.Single(kobjects.Get(name, id))).Roles(RouteRoles.KObjectRead);

        v1.MapPut("/klasses/{name}/{id}", async (HttpContext ctx, string name, string id) =>
        {
            RequireKlass(kobjects, name);
            var body = await RouteHelpers.ReadValidBodyAsync(s, ctx, s.Schemas.KObjectUpdate(name));
            var userId = ctx.ApiKey().UserId;
            s.RecordLimits.Update(userId, "kobject", id);
            return RouteHelpers.Single(kobjects.Update(name, id, body, userId));
        }).Roles(RouteRoles.KObjectUpdate);

        v1.MapDelete("/klasses/{name}/{id}", (string name, string id) =>
        {
            kobjects.Delete(name, id);
            return JsonResponses.NoContent();
        }).Roles(RouteRoles.KObjectDelete);
    }

    private static void RequireKlass(KObjectStore kobjects, string name)
    {
        if (!kobjects.KlassExists(name)) throw ApiException.NotFound($"klass '{name}' not found");
    }
}
