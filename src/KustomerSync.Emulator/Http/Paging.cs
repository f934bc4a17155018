using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Http;

/// <summary>page/pageSize parsing (strict: integers, page ≥ 1, 1 ≤ pageSize ≤ max) and list bodies with meta and relative links.</summary>
public readonly record struct Paging(int Page, int PageSize)
{
    public int Skip => (Page - 1) * PageSize;

    public static Paging Parse(HttpRequest request, int defaultSize, int maxSize, int? maxPage = null)
    {
        var page = ParseInt(request, "page", 1);
        var size = ParseInt(request, "pageSize", defaultSize);
        if (page < 1) throw ApiException.BadParameter("page", "page must be an integer >= 1");
        if (maxPage is int cap && page > cap)
            throw ApiException.BadParameter("page", $"page must be <= {cap} (results are capped at {cap} pages; narrow the query, e.g. updated_at gte the last value seen)");
        if (size < 1 || size > maxSize)
            throw ApiException.BadParameter("pageSize", $"pageSize must be an integer between 1 and {maxSize}");
        return new Paging(page, size);
    }

    private static int ParseInt(HttpRequest request, string name, int fallback)
    {
        if (!request.Query.TryGetValue(name, out var values)) return fallback;
        if (values.Count != 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            throw ApiException.BadParameter(name, $"{name} must be a positive integer");
        return v;
    }

    /// <summary>Builds <c>{meta:{page,pageSize,total,totalPages}, links:{self,first,prev,last,next}, data:[…]}</c>.</summary>
    public JsonObject ListBody(string path, IReadOnlyDictionary<string, string>? extraQuery, int total, JsonArray data, int? maxPage = null)
    {
        var totalPages = total == 0 ? 0 : (total + PageSize - 1) / PageSize;
        var lastLinkPage = Math.Max(1, maxPage is int cap ? Math.Min(cap, totalPages) : totalPages);
        var pageSize = PageSize;
        string Link(int p)
        {
            var sb = new StringBuilder(path).Append('?');
            if (extraQuery is not null)
                foreach (var (k, v) in extraQuery) sb.Append(Uri.EscapeDataString(k)).Append('=').Append(Uri.EscapeDataString(v)).Append('&');
            sb.Append("page=").Append(p).Append("&pageSize=").Append(pageSize);
            return sb.ToString();
        }
        return new JsonObject
        {
            ["meta"] = new JsonObject { ["page"] = Page, ["pageSize"] = PageSize, ["total"] = total, ["totalPages"] = totalPages },
            ["links"] = new JsonObject
            {
                ["self"] = Link(Page),
                ["first"] = Link(1),
                ["prev"] = Page > 1 ? Link(Page - 1) : null,
                ["last"] = Link(lastLinkPage),
                ["next"] = Page < lastLinkPage ? Link(Page + 1) : null,
            },
            ["data"] = data,
        };
    }
}
