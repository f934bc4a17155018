using System.Text.Json.Nodes;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.RateLimiting;
using KustomerSync.Emulator.Search;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Routes;

/// <summary>
/// POST /v1/customers/search — one endpoint for customer, company and kobject contexts; pageSize ≤ 500, at most 100
/// pages, the key's search budget. It sees only records updated within <c>--search-window-days</c> of the emulator
/// clock (OAS: two years). POST /v1/customers/archive/search takes only the archive criteria and sees every record.
/// <c>idsOnly=true</c> returns <c>{type,id}</c> items.
/// </summary>
public static class SearchRoutes
{
    public const int MaxPages = 100;

    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s)
    {
        v1.MapPost("/customers/search", (Func<HttpContext, Task<IResult>>)(ctx => Search(s, ctx, archive: false)))
            .WithMetadata(RouteRoles.Search, SearchBudget.Instance);
        v1.MapPost("/customers/archive/search", (Func<HttpContext, Task<IResult>>)(ctx => Search(s, ctx, archive: true)))
            .WithMetadata(RouteRoles.Search, SearchBudget.Instance);
    }

    private static async Task<IResult> Search(EmulatorServices s, HttpContext ctx, bool archive)
    {
        var path = archive ? "/v1/customers/archive/search" : "/v1/customers/search";
        var paging = Paging.Parse(ctx.Request, defaultSize: 100, maxSize: 500, maxPage: MaxPages);
        var idsOnly = RouteHelpers.QueryBool(ctx.Request, "idsOnly", false);
        var body = await s.Body.ReadFlatObjectAsync(ctx);
        var query = SearchQuery.Parse(body, s.Store.Metadata, s.Store.KObjects, archive);
        var days = s.Options.Current.SearchWindowDays;
        DateTimeOffset? cutoff = archive || days == 0 ? null : s.Clock.GetUtcNow().AddDays(-days);

        JsonArray data;
        int total;
        lock (s.Store.Sync)
        {
            IEnumerable<Record> source = query.Context switch
            {
                "customer" => s.Store.Customers.Snapshot(),
                "company" => s.Store.Companies.Snapshot(query.IncludeDeleted),
                _ => s.Store.KObjects.Snapshot(query.Klass),
            };
            var matches = source.Where(r => (cutoff is null || r.UpdatedAt >= cutoff) && query.Predicate(r));
            IOrderedEnumerable<Record>? ordered = null;
            foreach (var (attr, desc) in query.Sort)
            {
                Func<Record, IComparable?> key = r => SortKey(attr, r);
                ordered = ordered is null
                    ? (desc ? matches.OrderByDescending(key) : matches.OrderBy(key))
                    : (desc ? ordered.ThenByDescending(key) : ordered.ThenBy(key));
            }
            var list = (ordered?.ThenBy(r => r.Seq) ?? matches.OrderBy(r => r.Seq)).ToList();
            total = list.Count;
            data = new JsonArray();
            foreach (var r in list.Skip(paging.Skip).Take(paging.PageSize)) data.Add(Present(s, r, idsOnly));
        }
        var extra = idsOnly ? new Dictionary<string, string> { ["idsOnly"] = "true" } : null;
        return JsonResponses.Json(paging.ListBody(path, extra, total, data, MaxPages));
    }

    private static JsonObject Present(EmulatorServices s, Record r, bool idsOnly)
    {
        var resource = r switch
        {
            CustomerRecord c => s.Presenter.Customer(c),
            CompanyRecord c => s.Presenter.Company(c),
            KObjectRecord k => s.Presenter.KObject(k),
            _ => throw new InvalidOperationException(),
        };
        if (idsOnly) return new JsonObject { ["type"] = resource["type"]!.DeepClone(), ["id"] = r.Id };
        return s.Options.Current.SearchHits == "summary" ? Summary(resource) : resource;
    }

    /// <summary>A hit as the OAS search example shows one: a few standard attributes, and the org as its only relationship.</summary>
    private static JsonObject Summary(JsonObject resource)
    {
        var attributes = new JsonObject();
        foreach (var name in SummaryAttributes)
            if (resource["attributes"]?[name] is { } value) attributes[name] = value.DeepClone();
        return new JsonObject
        {
            ["type"] = resource["type"]!.DeepClone(),
            ["id"] = resource["id"]!.DeepClone(),
            ["attributes"] = attributes,
            ["relationships"] = new JsonObject { ["org"] = resource["relationships"]?["org"]?.DeepClone() },
            ["links"] = resource["links"]?.DeepClone(),
        };
    }

    private static readonly string[] SummaryAttributes = ["name", "displayName", "createdAt", "updatedAt", "lastActivityAt", "verified", "rev"];

    private static IComparable? SortKey(SearchAttribute attr, Record r)
    {
        var v = attr.Values(r).FirstOrDefault();
        if (v is null) return null;
        return v.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.Number => v.GetValue<double>(),
            System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
            System.Text.Json.JsonValueKind.True => 1,
            System.Text.Json.JsonValueKind.False => 0,
            _ => null,
        };
    }
}
