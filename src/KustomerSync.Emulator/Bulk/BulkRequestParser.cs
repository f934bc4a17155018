using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Bulk;

/// <summary>
/// Validates a bulk request synchronously (§9): 1–100 items, <c>_clientRef</c> all-or-none, non-empty,
/// ≤255 chars, unique; PUT items need an <c>id</c>; every item must pass the object schema — one bad
/// item rejects the whole request with 400 (pointer <c>/&lt;index&gt;/…</c>). <c>?ids=</c> mode: one body for all ids.
/// Where <c>_clientRef</c> is not documented, <see cref="ClientRefPolicy"/> says whether it is accepted, ignored
/// (stripped unchecked: no results[]) or rejected.
/// </summary>
public static class BulkRequestParser
{
    public const int MaxItems = 100;

    public enum ClientRefPolicy { Accept, Ignore, Reject }

    public static ClientRefPolicy PolicyOf(string option) => option switch
    {
        "accept" => ClientRefPolicy.Accept,
        "reject" => ClientRefPolicy.Reject,
        _ => ClientRefPolicy.Ignore,
    };

    public static (List<BulkItem> Items, bool UsesClientRef, JsonObject? Payload, List<string> Ids) Parse(
        HttpRequest request, JsonNode? body, BulkOperation operation, ObjectSchema? schema, ClientRefPolicy clientRefs)
    {
        var idsParam = request.Query.TryGetValue("ids", out var idsValue) ? idsValue.ToString() : null;
        if (idsParam is not null)
        {
            if (operation == BulkOperation.Create) throw ApiException.BadParameter("ids", "ids is not supported on bulk create");
            var ids = idsParam.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
            if (ids.Count == 0 || ids.Count > MaxItems) throw ApiException.BadParameter("ids", $"ids must list 1 to {MaxItems} ids");
            foreach (var id in ids)
                if (!ObjectIds.IsValid(id)) throw ApiException.BadParameter("ids", $"'{id}' is not a 24-character hexadecimal id");
            if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count) throw ApiException.BadParameter("ids", "ids must be unique");
            JsonObject? payload = null;
            if (operation == BulkOperation.Update)
            {
                if (body is not JsonObject obj) throw ApiException.BadRequest("With ?ids=, the body is one object applied to every id", "");
                RequestBody.RejectEnvelope(obj, "");
                if (obj.ContainsKey("_clientRef")) throw Rules.Invalid("/_clientRef", "is not supported in ?ids= mode");
                if (obj.ContainsKey("id")) throw Rules.Invalid("/id", "must not be given in ?ids= mode");
                schema!.Validate(obj, "");
                payload = obj;
            }
            return (ids.Select(id => new BulkItem(payload, id, null)).ToList(), false, payload, ids);
        }

        if (operation == BulkOperation.Delete) throw ApiException.BadParameter("ids", "bulk delete needs ?ids=a,b,c");
        if (body is not JsonArray array) throw ApiException.BadRequest("A bulk body must be a JSON array of items", "");
        if (array.Count == 0) throw ApiException.BadRequest("A bulk body needs at least one item", "");
        if (array.Count > MaxItems) throw ApiException.BadRequest($"A bulk request takes at most {MaxItems} items (got {array.Count})", "");

        var withRef = array.Count(n => n is JsonObject o && o.ContainsKey("_clientRef"));
        if (withRef > 0 && clientRefs == ClientRefPolicy.Reject)
        {
            var first = array.Select((n, i) => (n, i)).First(t => t.n is JsonObject o && o.ContainsKey("_clientRef")).i;
            throw Rules.Invalid($"/{first}/_clientRef", "is not supported on this bulk endpoint");
        }
        var usesClientRef = withRef > 0 && clientRefs == ClientRefPolicy.Accept;
        if (usesClientRef && withRef != array.Count)
            throw ApiException.BadRequest($"_clientRef must be on every item or on none ({withRef} of {array.Count} items have it)", "");

        var refs = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<BulkItem>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var ptr = "/" + i;
            if (array[i] is not JsonObject source) throw Rules.Invalid(ptr, "must be an object");
            RequestBody.RejectEnvelope(source, ptr);
            var item = (JsonObject)source.DeepClone();
            string? clientRef = null;
            if (usesClientRef)
            {
                var refNode = item["_clientRef"];
                if (Rules.KindOf(refNode) != JsonValueKind.String) throw Rules.Invalid(ptr + "/_clientRef", "must be a string");
                clientRef = refNode!.GetValue<string>();
                if (clientRef.Length == 0 || clientRef.Length > 255) throw Rules.Invalid(ptr + "/_clientRef", "must be 1 to 255 characters");
                if (!refs.Add(clientRef)) throw Rules.Invalid(ptr + "/_clientRef", $"'{clientRef}' is used by an earlier item (must be unique)");
                item.Remove("_clientRef");
            }
            else if (clientRefs == ClientRefPolicy.Ignore) item.Remove("_clientRef");
            string? id = null;
            if (operation == BulkOperation.Update)
            {
                var idNode = item["id"];
                if (Rules.KindOf(idNode) != JsonValueKind.String || !ObjectIds.IsValid(idNode!.GetValue<string>()))
                    throw Rules.Invalid(ptr + "/id", "is required on bulk update items (a 24-character hexadecimal id)");
                id = idNode.GetValue<string>();
                item.Remove("id");
            }
            schema!.Validate(item, ptr);
            items.Add(new BulkItem(item, id, clientRef));
        }
        return (items, usesClientRef, null, []);
    }
}
