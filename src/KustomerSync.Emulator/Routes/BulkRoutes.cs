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
/// /klasses/{name}/bulk) answering 201 with a queued job, and GET /bulk/{id}, GET /bulk/{id}/batches
/// (a bare array, or a paged data[] list, by option).
/// </summary>
public static class BulkRoutes
{
    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s)
    {
        var processor = s.Bulk;

        // documentedClientRef: §9 documents _clientRef for customer bulk create/update and company bulk create only.
        void Submit(string method, string pattern, RouteRoles roles, BulkObjectKind kind, BulkOperation op, string context,
            Func<string?, ObjectSchema?> schema, bool documentedClientRef = true)
        {
            v1.MapMethods(pattern, [method], async (HttpContext ctx) =>
            {
                var o = s.Options.Current;
                var klass = ctx.Request.RouteValues.TryGetValue("name", out var n) ? n as string : null;
                if (klass is not null && !s.Store.KObjects.KlassExists(klass)) throw ApiException.NotFound($"klass '{klass}' not found");
                JsonNode? body = null;
                if (op != BulkOperation.Delete) body = await s.Body.ReadAsync(ctx);
                var policy = documentedClientRef ? BulkRequestParser.ClientRefPolicy.Accept : BulkRequestParser.PolicyOf(o.UndocumentedClientRef);
                var (items, usesClientRef, payload, ids) = BulkRequestParser.Parse(ctx.Request, body, op, schema(klass), policy);
                var now = s.Clock.GetUtcNow();
                var batches = new List<BulkBatch>();
                for (var start = 0; start < items.Count; start += o.BulkBatchItems)
                    batches.Add(new BulkBatch { Id = ObjectIds.NewId(), Start = start, Count = Math.Min(o.BulkBatchItems, items.Count - start) });
                var job = new BulkJob
                {
                    Id = ObjectIds.NewId(),
                    Kind = kind,
                    Klass = klass,
                    Operation = op,
                    Context = klass is null ? context : context.Replace("{klass}", klass, StringComparison.Ordinal),
                    Items = items,
                    Batches = batches,
                    UsesClientRef = usesClientRef,
                    Payload = payload,
                    Ids = ids,
                    UserId = ctx.ApiKey().UserId,
                    CreatedAt = now,
                    UpdatedAt = now,
                    Delay = TimeSpan.FromMilliseconds(o.BulkDelayMs),
                    UnlinkCompanyOnOmit = o.UnlinkCompanyOnBulkOmit,
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
        Submit("PUT", "/companies/bulk", RouteRoles.CompanyUpdate, BulkObjectKind.Company, BulkOperation.Update, "api.sobjects.companies.bulk-update", _ => s.Schemas.CompanyBulkUpdate, documentedClientRef: false);
        Submit("POST", "/klasses/{name}/bulk", RouteRoles.KObjectCreate, BulkObjectKind.KObject, BulkOperation.Create, "api.kobjects.{klass}.bulk-create", k => s.Schemas.KObjectCreate(k!), documentedClientRef: false);
        Submit("PUT", "/klasses/{name}/bulk", RouteRoles.KObjectUpdate, BulkObjectKind.KObject, BulkOperation.Update, "api.kobjects.{klass}.bulk-update", k => s.Schemas.KObjectUpdate(k!), documentedClientRef: false);
        Submit("DELETE", "/klasses/{name}/bulk", RouteRoles.KObjectDelete, BulkObjectKind.KObject, BulkOperation.Delete, "api.kobjects.{klass}.bulk-delete", _ => null);

        BulkJob Job(string id)
        {
            var job = s.Store.BulkJobs.Get(id) ?? throw ApiException.NotFound($"bulk operation {id} not found");
            processor.CatchUp(job);
            return job;
        }

        v1.MapGet("/bulk/{id}", (string id) =>
        {
            var job = Job(id);
            lock (s.Store.BulkJobs.Sync) return RouteHelpers.Single(BulkProcessor.PresentJob(job));
        }).Roles(RouteRoles.BulkRead);

        v1.MapGet("/bulk/{id}/batches", (HttpContext ctx, string id) =>
        {
            var job = Job(id);
            var o = s.Options.Current;
            if (o.BatchesEnvelope == "array")
            {
                var all = new JsonArray();
                lock (s.Store.BulkJobs.Sync)
                    foreach (var batch in job.Batches)
                    {
                        var flat = new JsonObject { ["id"] = batch.Id };
                        foreach (var (k, v) in BulkProcessor.BatchAttributes(job, batch)) flat[k] = v?.DeepClone();
                        all.Add(flat);
                    }
                return JsonResponses.Json(all);
            }
            var paging = Paging.Parse(ctx.Request, defaultSize: o.BatchesPageSize, maxSize: 100);
            var data = new JsonArray();
            lock (s.Store.BulkJobs.Sync)
                foreach (var batch in job.Batches.Skip(paging.Skip).Take(paging.PageSize)) data.Add(BulkProcessor.PresentBatch(job, batch));
            return JsonResponses.Json(paging.ListBody($"/v1/bulk/{id}/batches", null, job.Batches.Count, data));
        }).Roles(RouteRoles.BulkRead);
    }
}
