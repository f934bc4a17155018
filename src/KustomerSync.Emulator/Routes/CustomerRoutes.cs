using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Routes;

/// <summary>/v1/customers: create, get by id / externalId= / email= / phone=, list, PATCH, PUT (replace), DELETE.</summary>
public static class CustomerRoutes
{
    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s)
    {
        var customers = s.Store.Customers;

        v1.MapPost("/customers", async (HttpContext ctx) =>
        {
            return await RouteHelpers.CreateAsync(s, ctx, s.Schemas.CustomerWrite, customers.Create);
        }).Roles(RouteRoles.CustomerCreate);

        v1.MapGet("/customers", (HttpContext ctx) =>
        {
            var paging = Paging.Parse(ctx.Request, defaultSize: 30, maxSize: 100);
            var (total, page) = customers.List(paging.Skip, paging.PageSize);
            return JsonResponses.Json(paging.ListBody("/v1/customers", null, total, RouteHelpers.ToArray(page)));
        }).Roles(RouteRoles.CustomerRead);

        v1.MapGet("/customers/externalId={externalId}", (string externalId) =>
            RouteHelpers.Single(customers.GetByIdentity(CustomerIdentities.ExternalIdKey(externalId), $"externalId '{externalId}'")))
            .Roles(RouteRoles.CustomerRead);

        v1.MapGet("/customers/email={email}", (string email) =>
            RouteHelpers.Single(customers.GetByIdentity(CustomerIdentities.EmailKey(email), $"email '{email}'")))
            .Roles(RouteRoles.CustomerRead);

        v1.MapGet("/customers/phone={phone}", (string phone) =>
            RouteHelpers.Single(customers.GetByIdentity(CustomerIdentities.PhoneKey(phone), $"phone '{phone}'")))
            .Roles(RouteRoles.CustomerRead);

        v1.MapGet("/customers/{id}", (string id) => RouteHelpers.Single(customers.Get(id))).Roles(RouteRoles.CustomerRead);

        async Task<IResult> Update(HttpContext ctx, string id, WriteMode mode)
        {
            var body = await RouteHelpers.ReadValidBodyAsync(s, ctx, s.Schemas.CustomerWrite);
            var userId = ctx.ApiKey().UserId;
            s.RecordLimits.Update(userId, "customer", id);
            return RouteHelpers.Single(customers.Update(id, body, mode, s.Options.Current.UnlinkCompanyOnOmit, userId));
        }

        v1.MapPatch("/customers/{id}", (HttpContext ctx, string id) => Update(ctx, id, WriteMode.Merge)).Roles(RouteRoles.CustomerUpdate);

        v1.MapPut("/customers/{id}", (HttpContext ctx, string id) =>
        {
            var replace = RouteHelpers.QueryBool(ctx.Request, "replace", false);
            return Update(ctx, id, replace ? WriteMode.Replace : WriteMode.Merge);
        }).Roles(RouteRoles.CustomerUpdate);

        v1.MapDelete("/customers/{id}", (string id) =>
        {
            customers.Delete(id);
            return JsonResponses.NoContent();
        }).Roles(RouteRoles.CustomerDelete);
    }
}
