using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Bulk;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Inspection;

/// <summary>
/// TEST-ONLY routes outside /v1 (no auth, never rate limited or faulted):
/// GET /_emulator/state, GET /_emulator/stats, POST /_emulator/reset, POST /_emulator/faults,
/// GET|PUT /_emulator/options, GET|POST /_emulator/clock, PUT /_emulator/klasses/{name},
/// POST /_emulator/records/times.
/// </summary>
public static class InspectionRoutes
{
    private static readonly ObjectSchema FaultsBody = new ObjectSchema("faults")
        .Field("failNext", Rules.Number(nullable: false, min: 0, max: 1_000_000, integer: true))
        .Field("status", Rules.Number(nullable: false, min: 400, max: 599, integer: true))
        .Field("fault5xxRate", Rules.Number(nullable: false, min: 0, max: 1))
        .Field("faultLostCreateRate", Rules.Number(nullable: false, min: 0, max: 1))
        .Field("latencyMs", Rules.Number(nullable: false, min: 0, max: 600_000, integer: true));

    private static readonly ObjectSchema ClockBody = new ObjectSchema("clock")
        .Field("advanceSeconds", Rules.Number(nullable: false, min: 0, max: 100L * 366 * 24 * 3600), required: true);

    private static readonly ObjectSchema KlassBody = new ObjectSchema("klass")
        .Field("status", Rules.Enum(false, "enabled", "disabled", "existing_only"), required: true);

    private static readonly ObjectSchema RecordTimesBody = new ObjectSchema("record times")
        .Field("type", Rules.Str(1, 100, nullable: false), required: true)
        .Field("id", Rules.ObjectId(nullable: false), required: true)
        .Field("updatedAt", Rules.DateTime(nullable: false))
        .Field("createdAt", Rules.DateTime(nullable: false))
        .Field("ageDays", Rules.Number(nullable: false, min: 0, max: 100_000));

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
            using var doc = JsonDocument.Parse(body.ToJsonString());
            try { s.Options.Update(o => OptionsParser.ApplyRunTime(o, doc.RootElement)); }
            catch (OptionsException e) { throw ApiException.BadRequest(e.Message); }
            if (body.ContainsKey("rateLimit") || body.ContainsKey("rateWindowSeconds") || body.ContainsKey("searchRateLimit")) s.RateLimiter.Reset();
            return JsonResponses.Json(OptionsJson(s.Options.Current));
        });

        // The emulator clock: read it, or move it forward (rate windows, search window, bulk latency, record limits).
        g.MapGet("/clock", () => JsonResponses.Json(ClockJson(s)));

        g.MapPost("/clock", async (HttpContext ctx) =>
        {
            var body = await s.Body.ReadFlatObjectAsync(ctx);
            ClockBody.Validate(body, "");
            s.Clock.Advance(TimeSpan.FromSeconds(body["advanceSeconds"]!.GetValue<double>()));
            return JsonResponses.Json(ClockJson(s));
        });

        // A klass's status (enabled, disabled, existing_only), e.g. for klasses of the metadata seed.
        g.MapPut("/klasses/{name}", async (HttpContext ctx, string name) =>
        {
            var body = await s.Body.ReadFlatObjectAsync(ctx);
            KlassBody.Validate(body, "");
            return JsonResponses.Json(s.Store.KObjects.SetKlassStatus(name, body["status"]!.GetValue<string>()));
        });

        // Sets a record's updatedAt (and createdAt) without a write: dormant records for the search window.
        g.MapPost("/records/times", async (HttpContext ctx) =>
        {
            var body = await s.Body.ReadFlatObjectAsync(ctx);
            RecordTimesBody.Validate(body, "");
            var now = s.Clock.GetUtcNow();
            DateTimeOffset? At(string field) => body[field] is JsonNode n ? DateTimeOffset.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture) : null;
            var updatedAt = At("updatedAt") ?? (body["ageDays"] is JsonNode age ? now.AddDays(-age.GetValue<double>()) : (DateTimeOffset?)null)
                ?? throw Rules.Invalid("/updatedAt", "or ageDays is required");
            if (updatedAt > now) throw Rules.Invalid("/updatedAt", "must not be later than the emulator clock");
            var type = body["type"]!.GetValue<string>();
            var id = body["id"]!.GetValue<string>();
            lock (s.Store.Sync)
            {
                var record = type switch
                {
                    "customer" => (Record?)s.Store.Customers.Record(id),
                    "company" => s.Store.Companies.Record(id),
                    _ when type.StartsWith("kobject.", StringComparison.Ordinal) => s.Store.KObjects.Record(type["kobject.".Length..], id),
                    _ => throw Rules.Invalid("/type", "must be customer, company or kobject.<klass>"),
                } ?? throw ApiException.NotFound($"{type} {id} not found");
                record.UpdatedAt = updatedAt;
                record.CreatedAt = At("createdAt") ?? (record.CreatedAt > updatedAt ? updatedAt : record.CreatedAt);
                return JsonResponses.Json(record switch
                {
                    CustomerRecord c => s.Presenter.Customer(c),
                    CompanyRecord c => s.Presenter.Company(c),
                    KObjectRecord k => s.Presenter.KObject(k),
                    _ => throw new InvalidOperationException(),
                });
            }
        });
    }

    private static JsonObject ClockJson(EmulatorServices s) => new()
    {
        ["now"] = ResourcePresenter.Timestamp(s.Clock.GetUtcNow()),
        ["offsetSeconds"] = s.Clock.Offset.TotalSeconds,
    };

    private static bool RouteQueryBool(HttpContext ctx, string name, bool fallback) =>
        ctx.Request.Query.TryGetValue(name, out var v) && bool.TryParse(v, out var b) ? b : fallback;

    private static JsonObject OptionsJson(EmulatorOptions o) =>
        (JsonObject)JsonSerializer.SerializeToNode(o, OptionsJsonContext.Default.EmulatorOptions)!;

    private static JsonObject State(EmulatorServices s, bool items)
    {
        lock (s.Store.Sync)
        {
            foreach (var job in s.Store.BulkJobs.All()) s.Bulk.CatchUp(job); // jobs due by the clock are applied first
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
