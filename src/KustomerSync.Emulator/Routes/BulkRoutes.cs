using System.Text.Json.Nodes;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Bulk;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Routes;

/// <summary>
/// Bulk submit routes (POST/PUT/DELETE /customers/bulk, POST/PUT /companies/bulk, POST/PUT/DELETE
/// /klasses/{name}/bulk) answering 201 with a queued job, and GET /bulk/{id}, GET /bulk/{id}/batches.
/// </summary>
public static class BulkRoutes
{
    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s)
    {
        var processor = new BulkProcessor(s.Store, s.Options);

        void Submit(string method, string pattern, RouteRoles roles, BulkObjectKind kind, BulkOperation op, string context, Func<string?, ObjectSchema?> schema)
        {
            v1.MapMethods(pattern, [method], async (HttpContext ctx) =>
            {
                var klass = ctx.Request.RouteValues.TryGetValue("name", out var n) ? n as string : null;
                if (klass is not null && !s.Store.KObjects.KlassExists(klass)) throw ApiException.NotFound($"klass '{klass}' not found");
                JsonNode? body = null;
                if (op != BulkOperation.Delete) body = await s.Body.ReadAsync(ctx);
                var (items, usesClientRef, payload, ids) = BulkRequestParser.Parse(ctx.Request, body, op, schema(klass));
                var now = DateTimeOffset.UtcNow;
                var job = new BulkJob
                {
                    Id = ObjectIds.NewId(),
                    BatchId = ObjectIds.NewId(),
                    Kind = kind,
                    Klass = klass,
                    Operation = op,
                    Context = klass is null ? context : context.Replace("{klass}", klass, StringComparison.Ordinal),
                    Items = items,
                    UsesClientRef = usesClientRef,
                    Payload = payload,
                    Ids = ids,
                    UserId = ctx.ApiKey().UserId,
                    CreatedAt = now,
                    UpdatedAt = now,
                };
                s.Store.BulkJobs.Add(job);
                JsonObject presented;
                lock (s.Store.BulkJobs.Sync) presented = BulkProcessor.PresentJob(job);
                processor.Start(job);
                return RouteHelpers.Single(presented, 201);
            }).Roles(roles);
        }

        Submit("POST", "/customers/bulk", RouteRoles.CustomerCreate, BulkObjectKind.Customer, BulkOperation.Create, "api.sobjects.customers.bulk-create", _ => s.Schemas.CustomerWrite);
        Submit("PUT", "/customers/bulk", RouteRoles.CustomerUpdate, BulkObjectKind.Customer, BulkOperation.Update, "api.sobjects.customers.bulk-update", _ => s.Schemas.CustomerWrite);
        Submit("DELETE", "/customers/bulk", RouteRoles.CustomerDelete, BulkObjectKind.Customer, BulkOperation.Delete, "api.sobjects.customers.bulk-delete", _ => null);
        Submit("POST", "/companies/bulk", RouteRoles.CompanyCreate, BulkObjectKind.Company, BulkOperation.Create, "api.sobjects.companies.bulk-create", _ => s.Schemas.CompanyCreate);
        Submit("PUT", "/companies/bulk", RouteRoles.CompanyUpdate, BulkObjectKind.Company, BulkOperation.Update, "api.sobjects.companies.bulk-update", _ => s.Schemas.CompanyUpdate);
        Submit("POST", "/klasses/{name}/bulk", RouteRoles.KObjectCreate, BulkObjectKind.KObject, BulkOperation.Create, "api.kobjects.{klass}.bulk-create", k => s.Schemas.KObjectCreate(k!));
        Submit("PUT", "/klasses/{name}/bulk", RouteRoles.KObjectUpdate, BulkObjectKind.KObject, BulkOperation.Update, "api.kobjects.{klass}.bulk-update", k => s.Schemas.KObjectUpdate(k!));
        Submit("DELETE", "/klasses/{name}/bulk", RouteRoles.KObjectDelete, BulkObjectKind.KObject, BulkOperation.Delete, "api.kobjects.{klass}.bulk-delete", _ => null);

        v1.MapGet("/bulk/{id}", (string id) =>
        {
            var job = s.Store.BulkJobs.Get(id) ?? throw ApiException.NotFound($"bulk operation {id} not found");
            lock (s.Store.BulkJobs.Sync) return RouteHelpers.Single(BulkProcessor.PresentJob(job));
        }).Roles(RouteRoles.BulkRead);

        v1.MapGet("/bulk/{id}/batches", (HttpContext ctx, string id) =>
        {
            var job = s.Store.BulkJobs.Get(id) ?? throw ApiException.NotFound($"bulk operation {id} not found");
            var paging = Paging.Parse(ctx.Request, defaultSize: 100, maxSize: 100);
            JsonArray data = [];
            lock (s.Store.BulkJobs.Sync)
                if (paging.Page == 1) data.Add(BulkProcessor.PresentBatch(job));
            return JsonResponses.Json(paging.ListBody($"/v1/bulk/{id}/batches", null, 1, data));
        }).Roles(RouteRoles.BulkRead);
    }
}
