using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Routes;

/// <summary>
/// /v1/companies: POST, GET /{id}, GET ?externalId= | ?filter= (a list; both given ⇒ both ignored),
/// PUT /{id} (merge; <c>deleted:true</c> deletes; no createdAt/importedAt). No PATCH and no DELETE (routing answers 405).
/// </summary>
public static class CompanyRoutes
{
    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s)
    {
        var companies = s.Store.Companies;

        v1.MapPost("/companies", async (HttpContext ctx) =>
        {
            return await RouteHelpers.CreateAsync(s, ctx, s.Schemas.CompanyCreate, companies.Create);
        }).Roles(RouteRoles.CompanyCreate);

        v1.MapGet("/companies", (HttpContext ctx) =>
        {
            var paging = Paging.Parse(ctx.Request, defaultSize: 100, maxSize: 100);
            var q = ctx.Request.Query;
            string? externalId = q.TryGetValue("externalId", out var e) ? e.ToString() : null;
            string? filter = q.TryGetValue("filter", out var f) ? f.ToString() : null;
            var extra = new Dictionary<string, string>();
            if (externalId is not null && filter is not null) { externalId = null; filter = null; } // documented: both ⇒ both ignored
            if (externalId is not null) extra["externalId"] = externalId;
            if (filter is not null) extra["filter"] = filter;
            Func<CompanyRecord, bool> predicate = c =>
                !c.Deleted &&
                (externalId is null || WriteChecks.RefId(c.Doc, "externalId") == externalId) &&
                (filter is null || (WriteChecks.RefId(c.Doc, "name")?.Contains(filter, StringComparison.OrdinalIgnoreCase) ?? false));
            var (total, page) = companies.List(predicate, paging.Skip, paging.PageSize);
            return JsonResponses.Json(paging.ListBody("/v1/companies", extra, total, RouteHelpers.ToArray(page)));
        }).Roles(RouteRoles.CompanyRead);

        v1.MapGet("/companies/{id}", (string id) => RouteHelpers.Single(companies.Get(id))).Roles(RouteRoles.CompanyRead);

        v1.MapPut("/companies/{id}", async (HttpContext ctx, string id) =>
        {
            var body = await RouteHelpers.ReadValidBodyAsync(s, ctx, s.Schemas.CompanyUpdate);
            var userId = ctx.ApiKey().UserId;
            s.RecordLimits.Update(userId, "company", id);
            return RouteHelpers.Single(companies.Update(id, body, userId));
        }).Roles(RouteRoles.CompanyUpdate);
    }
}
