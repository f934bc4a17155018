using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Search;

/// <summary>
/// A parsed <c>POST /v1/customers/search</c> body (§8). Strict: unknown body keys, unknown
/// attributes for the query context, unknown operators and mistyped values are 400s.
/// Operators: equals, gte, lte (confirmed) and in (list of values).
/// </summary>
public sealed class SearchQuery
{
    private static readonly string[] BodyKeys = ["queryContext", "and", "or", "not", "sort", "timeZone", "includeDeleted", "fields", "aggs", "searchHash"];
    private static readonly string[] ArchiveBodyKeys = ["queryContext", "and", "or", "not", "sort", "timeZone", "includeDeleted"];
    private static readonly string[] Operators = ["equals", "gte", "lte", "in"];

    public required string Context { get; init; }
    public string? Klass { get; init; }
    public required Func<Record, bool> Predicate { get; init; }
    public required IReadOnlyList<(SearchAttribute Attribute, bool Descending)> Sort { get; init; }
    public bool IncludeDeleted { get; init; }

    /// <summary>
    /// Parses a search body. <paramref name="archive"/>: the archive search (<c>POST /customers/archive/search</c>),
    /// whose body has no fields/aggs/searchHash and whose criteria and sorts take only the archive attributes.
    /// </summary>
    public static SearchQuery Parse(JsonObject body, MetadataStore metadata, KObjectStore kobjects, bool archive = false)
    {
        var keys = archive ? ArchiveBodyKeys : BodyKeys;
        foreach (var (k, _) in body)
            if (!keys.Contains(k)) throw Rules.Invalid("/" + k, $"is not a known {(archive ? "archive " : "")}search field (known: {string.Join(", ", keys)})");

        if (body["queryContext"] is not JsonValue qc || qc.GetValueKind() != JsonValueKind.String)
            throw Rules.Invalid("/queryContext", "is required: customer, company, kobject or kobject_<klass>");
        var context = qc.GetValue<string>();
        string? klass = null;
        if (context.StartsWith("kobject_", StringComparison.Ordinal))
        {
            klass = context["kobject_".Length..];
            if (!kobjects.KlassExists(klass)) throw Rules.Invalid("/queryContext", $"names klass '{klass}', which does not exist");
        }
        else if (context is not ("customer" or "company" or "kobject"))
            throw Rules.Invalid("/queryContext", $"'{context}' is not supported by the emulator (supported: customer, company, kobject, kobject_<klass>)");

        TimeZoneInfo tz = TimeZoneInfo.Utc;
        if (body["timeZone"] is JsonNode tzNode)
        {
            var id = Rules.RequireString(tzNode, "/timeZone");
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found)) throw Rules.Invalid("/timeZone", $"'{id}' is not a known time zone");
            tz = found;
        }
        var includeDeleted = false;
        if (body["includeDeleted"] is JsonNode inc) { Rules.Bool(false)(inc, "/includeDeleted"); includeDeleted = inc.GetValue<bool>(); }
        if (body["fields"] is JsonNode fields) Rules.Array(Rules.Str(1, 256, false), 100)(fields, "/fields");
        if (body["aggs"] is JsonNode aggs) Rules.AnyObject()(aggs, "/aggs");
        if (body["searchHash"] is JsonNode sh) Rules.Str(0, 1024, false)(sh, "/searchHash");

        var parser = new Parser(context, klass, metadata, tz, archive);
        var parts = new List<Func<Record, bool>>();
        if (body["and"] is { } and) { var list = parser.List(and, "/and"); parts.Add(r => list.All(p => p(r))); }
        else if (body.ContainsKey("and")) throw Rules.Invalid("/and", "must be an object or an array");
        if (body["or"] is { } or) { var list = parser.List(or, "/or"); parts.Add(r => list.Any(p => p(r))); }
        else if (body.ContainsKey("or")) throw Rules.Invalid("/or", "must be an object or an array");
        if (body["not"] is { } not) { var list = parser.List(not, "/not"); parts.Add(r => !list.Any(p => p(r))); }
        else if (body.ContainsKey("not")) throw Rules.Invalid("/not", "must be an object or an array");

        var sort = new List<(SearchAttribute, bool)>();
        if (body["sort"] is { } sortNode)
        {
            var items = sortNode is JsonArray arr ? arr.ToList() : sortNode is JsonObject ? [sortNode] : throw Rules.Invalid("/sort", "must be an object or an array");
            if (items.Count > 5) throw Rules.Invalid("/sort", "must have at most 5 entries");
            for (var i = 0; i < items.Count; i++)
            {
                var ptr = sortNode is JsonArray ? $"/sort/{i}" : "/sort";
                if (items[i] is not JsonObject so || so.Count != 1) throw Rules.Invalid(ptr, "must be an object {\"<attribute>\": \"asc\"|\"desc\"}");
                var (attrName, dir) = so.First();
                var attr = parser.Attribute(attrName, Rules.Child(ptr, attrName));
                if (archive && !(attrName.EndsWith("_created_at", StringComparison.Ordinal) || attrName.EndsWith("_updated_at", StringComparison.Ordinal)
                                 || attrName is "customer_companyId" or "customer_deleted"))
                    throw Rules.Invalid(Rules.Child(ptr, attrName), "cannot be sorted on in an archive search (created/updated dates, customer_companyId, customer_deleted only)");
                var d = Rules.RequireString(dir, Rules.Child(ptr, attrName));
                if (d is not ("asc" or "desc")) throw Rules.Invalid(Rules.Child(ptr, attrName), "must be asc or desc");
                sort.Add((attr, d == "desc"));
            }
        }
        else if (body.ContainsKey("sort")) throw Rules.Invalid("/sort", "must be an object or an array");

        return new SearchQuery
        {
            Context = context, Klass = klass, IncludeDeleted = includeDeleted, Sort = sort,
            Predicate = r => parts.All(p => p(r)),
        };
    }

    private sealed class Parser(string context, string? klass, MetadataStore metadata, TimeZoneInfo tz, bool archive)
    {
        public List<Func<Record, bool>> List(JsonNode node, string ptr)
        {
            var items = node switch
            {
                JsonArray arr => arr.Select((n, i) => (n, Rules.Child(ptr, i))).ToList(),
                JsonObject => [(node, ptr)],
                _ => throw Rules.Invalid(ptr, "must be an object or an array of criteria"),
            };
            if (items.Count > 20) throw Rules.Invalid(ptr, $"must have at most 20 criteria (got {items.Count})");
            return items.Select(t => Criterion(t.Item1, t.Item2)).ToList();
        }

        private Func<Record, bool> Criterion(JsonNode? node, string ptr)
        {
            if (node is not JsonObject obj || obj.Count == 0) throw Rules.Invalid(ptr, "must be an object {\"<attribute>\": {\"<operator>\": value}}");
            var parts = new List<Func<Record, bool>>();
            foreach (var (key, value) in obj)
            {
                var kptr = Rules.Child(ptr, key);
                switch (key)
                {
                    case "and": { var l = List(value ?? throw Rules.Invalid(kptr, "must not be null"), kptr); parts.Add(r => l.All(p => p(r))); break; }
                    case "or": { var l = List(value ?? throw Rules.Invalid(kptr, "must not be null"), kptr); parts.Add(r => l.Any(p => p(r))); break; }
                    case "not": { var l = List(value ?? throw Rules.Invalid(kptr, "must not be null"), kptr); parts.Add(r => !l.Any(p => p(r))); break; }
                    default: parts.Add(Leaf(Attribute(key, kptr), value, kptr)); break;
                }
            }
            return r => parts.All(p => p(r));
        }

        public SearchAttribute Attribute(string name, string ptr) =>
            archive
                ? SearchAttribute.ResolveArchive(name, context, klass)
                  ?? throw Rules.Invalid(ptr, $"is not an archive search attribute for queryContext '{context}' (archive search takes ids, created/updated dates, customer_companyId, *_deleted and *_any_text; no custom attributes)")
                : SearchAttribute.Resolve(name, context, klass, metadata)
                  ?? throw Rules.Invalid(ptr, $"is not a searchable attribute for queryContext '{context}' (custom attributes must be defined in metadata)");

        private Func<Record, bool> Leaf(SearchAttribute attr, JsonNode? ops, string ptr)
        {
            if (ops is not JsonObject o || o.Count == 0) throw Rules.Invalid(ptr, "must be an object {\"<operator>\": value}");
            var tests = new List<Func<Record, bool>>();
            foreach (var (op, value) in o)
            {
                var optr = Rules.Child(ptr, op);
                if (!Operators.Contains(op)) throw Rules.Invalid(optr, $"is not a supported operator (supported: {string.Join(", ", Operators)})");
                if (op == "in")
                {
                    if (value is not JsonArray arr || arr.Count == 0 || arr.Count > 100) throw Rules.Invalid(optr, "must be an array of 1 to 100 values");
                    var comparers = arr.Select((v, i) => Comparer(attr, "equals", v, Rules.Child(optr, i))).ToList();
                    tests.Add(r => attr.Values(r).Any(sv => comparers.Any(c => c(sv))));
                }
                else
                {
                    var c = Comparer(attr, op, value, optr);
                    tests.Add(r => attr.Values(r).Any(c));
                }
            }
            return r => tests.All(t => t(r));
        }

        private Func<JsonNode?, bool> Comparer(SearchAttribute attr, string op, JsonNode? value, string ptr)
        {
            switch (attr.Kind)
            {
                case SearchValueKind.Number:
                {
                    if (Rules.KindOf(value) != JsonValueKind.Number) throw Rules.Invalid(ptr, $"must be a number for {attr.Name}");
                    var x = value!.GetValue<double>();
                    return sv => Rules.KindOf(sv) == JsonValueKind.Number && Compare(sv!.GetValue<double>().CompareTo(x), op);
                }
                case SearchValueKind.Boolean:
                {
                    if (Rules.KindOf(value) is not (JsonValueKind.True or JsonValueKind.False) || op != "equals")
                        throw Rules.Invalid(ptr, $"{attr.Name} supports only equals with a boolean");
                    var x = value!.GetValue<bool>();
                    return sv => Rules.KindOf(sv) is JsonValueKind.True or JsonValueKind.False && sv!.GetValue<bool>() == x;
                }
                case SearchValueKind.Date:
                {
                    var s = Rules.RequireString(value, ptr);
                    var (start, end) = DateRange(s, ptr);
                    return sv =>
                    {
                        if (!SearchAttribute.IsString(sv) || !DateTimeOffset.TryParse(sv!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return false;
                        return op switch
                        {
                            "equals" => end is null ? t == start : t >= start && t < end,
                            "gte" => t >= start,
                            _ => end is null ? t <= start : t < end,
                        };
                    };
                }
                default:
                {
                    var s = Rules.RequireString(value, ptr);
                    var comparison = attr.Kind == SearchValueKind.TextIgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                    if (attr.Kind == SearchValueKind.Phone) s = Rules.NormalizePhone(s);
                    return sv =>
                    {
                        if (!SearchAttribute.IsString(sv)) return false;
                        var stored = sv!.GetValue<string>();
                        if (attr.Kind == SearchValueKind.Phone) stored = Rules.NormalizePhone(stored);
                        return Compare(string.Compare(stored, s, comparison), op);
                    };
                }
            }
        }

        private static bool Compare(int cmp, string op) => op switch { "equals" => cmp == 0, "gte" => cmp >= 0, _ => cmp <= 0 };

        /// <summary>YYYY-MM-DD is a whole local day in the query's time zone; a full date-time is an instant.</summary>
        private (DateTimeOffset Start, DateTimeOffset? End) DateRange(string s, string ptr)
        {
            if (DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
                var start = new DateTimeOffset(local, tz.GetUtcOffset(local));
                var next = local.AddDays(1);
                return (start, new DateTimeOffset(next, tz.GetUtcOffset(next)));
            }
            if (Rules.IsDateTime(s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return (t, null);
            throw Rules.Invalid(ptr, "must be a date YYYY-MM-DD or an ISO-8601 date-time with offset");
        }
    }
}
