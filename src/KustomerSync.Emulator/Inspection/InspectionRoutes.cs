using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Bulk;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Inspection;

/// <summary>
/// TEST-ONLY routes outside /v1 (no auth, never rate limited or faulted):
/// GET /_emulator/state, GET /_emulator/stats, POST /_emulator/reset, POST /_emulator/faults,
/// GET|PUT /_emulator/options.
/// </summary>
public static class InspectionRoutes
{
    private static readonly ObjectSchema FaultsBody = new ObjectSchema("faults")
        .Field("failNext", Rules.Number(nullable: false, min: 0, max: 1_000_000, integer: true))
        .Field("status", Rules.Number(nullable: false, min: 400, max: 599, integer: true))
        .Field("fault5xxRate", Rules.Number(nullable: false, min: 0, max: 1))
        .Field("faultLostCreateRate", Rules.Number(nullable: false, min: 0, max: 1))
        .Field("latencyMs", Rules.Number(nullable: false, min: 0, max: 600_000, integer: true));

    private static readonly ObjectSchema OptionsBody = new ObjectSchema("options")
        .Field("rateLimit", Rules.Number(nullable: false, min: 0, integer: true))
        .Field("rateWindowSeconds", Rules.Number(nullable: false, min: 1, integer: true))
        .Field("searchRateLimit", Rules.Number(nullable: false, min: 0, integer: true))
        .Field("kobjectCreateLimitPerCustomer", Rules.Number(nullable: false, min: 0, integer: true))
        .Field("latencyMs", Rules.Number(nullable: false, min: 0, integer: true))
        .Field("fault5xxRate", Rules.Number(nullable: false, min: 0, max: 1))
        .Field("faultLostCreateRate", Rules.Number(nullable: false, min: 0, max: 1))
        .Field("bulkDelayMs", Rules.Number(nullable: false, min: 0, integer: true))
        .Field("maxBodyBytes", Rules.Number(nullable: false, min: 1024, integer: true))
        .Field("unlinkCompanyOnOmit", Rules.Bool(false));

    public static void Map(IEndpointRouteBuilder app, EmulatorServices s)
    {
        var g = app.MapGroup("/_emulator");

        g.MapGet("/state", (HttpContext ctx) => JsonResponses.Json(State(s, RouteQueryBool(ctx, "items", true))));

        g.MapGet("/stats", () =>
        {
            var stats = s.Stats.ToJson();
            stats["faults"] = new JsonObject
            {
                ["injected5xx"] = Interlocked.Read(ref s.Faults.Injected5xx),
                ["lostCreates"] = Interlocked.Read(ref s.Faults.InjectedLostCreates),
                ["failNext"] = Interlocked.Read(ref s.Faults.InjectedFailNext),
                ["pendingFailNext"] = s.Faults.PendingFailNext,
            };
            return JsonResponses.Json(stats);
        });

        g.MapPost("/reset", () =>
        {
            s.Reset();
            return JsonResponses.Json(new JsonObject { ["reset"] = true });
        });

        g.MapPost("/faults", async (HttpContext ctx) =>
        {
            var body = await s.Body.ReadFlatObjectAsync(ctx);
            FaultsBody.Validate(body, "");
            if (body["failNext"] is JsonNode n) s.Faults.FailNext(n.GetValue<int>(), body["status"]?.GetValue<int>() ?? 503);
            s.Options.Update(o =>
            {
                if (body["fault5xxRate"] is JsonNode r) o.Fault5xxRate = r.GetValue<double>();
                if (body["faultLostCreateRate"] is JsonNode l) o.FaultLostCreateRate = l.GetValue<double>();
                if (body["latencyMs"] is JsonNode m) o.LatencyMs = m.GetValue<int>();
            });
            return JsonResponses.Json(new JsonObject
            {
                ["pendingFailNext"] = s.Faults.PendingFailNext,
                ["fault5xxRate"] = s.Options.Current.Fault5xxRate,
                ["faultLostCreateRate"] = s.Options.Current.FaultLostCreateRate,
                ["latencyMs"] = s.Options.Current.LatencyMs,
            });
        });

        g.MapGet("/options", () => JsonResponses.Json(OptionsJson(s.Options.Current)));

        g.MapPut("/options", async (HttpContext ctx) =>
        {
            var body = await s.Body.ReadFlatObjectAsync(ctx);
            OptionsBody.Validate(body, "");
            s.Options.Update(o =>
            {
                foreach (var (k, v) in body)
                {
                    switch (k)
                    {
                        case "rateLimit": o.RateLimit = v!.GetValue<int>(); break;
                        case "rateWindowSeconds": o.RateWindowSeconds = v!.GetValue<int>(); break;
                        case "searchRateLimit": o.SearchRateLimit = v!.GetValue<int>(); break;
                        case "kobjectCreateLimitPerCustomer": o.KObjectCreateLimitPerCustomer = v!.GetValue<int>(); break;
                        case "latencyMs": o.LatencyMs = v!.GetValue<int>(); break;
                        case "fault5xxRate": o.Fault5xxRate = v!.GetValue<double>(); break;
                        case "faultLostCreateRate": o.FaultLostCreateRate = v!.GetValue<double>(); break;
                        case "bulkDelayMs": o.BulkDelayMs = v!.GetValue<int>(); break;
                        case "maxBodyBytes": o.MaxBodyBytes = v!.GetValue<int>(); break;
                        case "unlinkCompanyOnOmit": o.UnlinkCompanyOnOmit = v!.GetValue<bool>(); break;
                    }
                }
            });
            if (body.ContainsKey("rateLimit") || body.ContainsKey("rateWindowSeconds") || body.ContainsKey("searchRateLimit")) s.RateLimiter.Reset();
            return JsonResponses.Json(OptionsJson(s.Options.Current));
        });
    }

    private static bool RouteQueryBool(HttpContext ctx, string name, bool fallback) =>
        ctx.Request.Query.TryGetValue(name, out var v) && bool.TryParse(v, out var b) ? b : fallback;

    private static JsonObject OptionsJson(EmulatorOptions o) =>
        (JsonObject)JsonSerializer.SerializeToNode(o, OptionsJsonContext.Default.EmulatorOptions)!;

    private static JsonObject State(EmulatorServices s, bool items)
    {
        lock (s.Store.Sync)
        {
            var customers = s.Store.Customers.Snapshot();
            var companies = s.Store.Companies.Snapshot(includeDeleted: true);
            var klasses = new JsonObject();
            foreach (var name in s.Store.KObjects.KlassNames())
            {
                var list = s.Store.KObjects.Snapshot(name);
                var k = new JsonObject { ["count"] = list.Count };
                if (items) k["items"] = new JsonArray(list.Select(r => (JsonNode)s.Presenter.KObject(r)).ToArray());
                klasses[name] = k;
            }
            var jobs = s.Store.BulkJobs.All();
            var state = new JsonObject
            {
                ["org"] = s.Options.Current.Org,
                ["customers"] = new JsonObject { ["count"] = customers.Count },
                ["companies"] = new JsonObject { ["count"] = companies.Count(c => !c.Deleted), ["deleted"] = companies.Count(c => c.Deleted) },
                ["kobjects"] = klasses,
                ["bulkJobs"] = new JsonObject { ["count"] = jobs.Count },
            };
            if (items)
            {
                state["customers"]!["items"] = new JsonArray(customers.Select(r => (JsonNode)s.Presenter.Customer(r)).ToArray());
                state["companies"]!["items"] = new JsonArray(companies.Select(r => (JsonNode)s.Presenter.Company(r)).ToArray());
                lock (s.Store.BulkJobs.Sync)
                    state["bulkJobs"]!["items"] = new JsonArray(jobs.Select(j => (JsonNode)BulkProcessor.PresentJob(j)).ToArray());
            }
            return state;
        }
    }
}
