using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Presentation;

/// <summary>
/// Turns stored records into the §2 envelope resource <c>{type,id,attributes,relationships,links}</c>.
/// Always returns fresh nodes (safe to serialise outside the data lock).
/// </summary>
public sealed class ResourcePresenter(string orgId)
{
    public string OrgId { get; } = orgId;

    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static readonly string[] CustomerArrays =
    [
        "emails", "sharedEmails", "phones", "sharedPhones", "whatsapps", "externalIds", "sharedExternalIds",
        "socials", "sharedSocials", "urls", "locations", "facebookIds", "instagramIds", "tags",
    ];

    private static readonly string[] CompanyArrays = ["emails", "phones", "whatsapps", "socials", "urls", "locations", "domains", "tags"];

    public JsonObject Customer(CustomerRecord r)
    {
        var a = new JsonObject();
        foreach (var (k, v) in r.Doc)
        {
            if (k is "company") continue;
            a[k] = v?.DeepClone();
        }
        foreach (var arr in CustomerArrays) if (!a.ContainsKey(arr)) a[arr] = new JsonArray();
        if (!a.ContainsKey("custom")) a["custom"] = new JsonObject();
        if (!a.ContainsKey("name")) a["name"] = null;
        if (!a.ContainsKey("externalId")) a["externalId"] = null;

        // Contact items come back with verified (default false) and id: null.
        foreach (var list in new[] { "emails", "sharedEmails", "phones", "sharedPhones", "whatsapps", "externalIds", "sharedExternalIds" })
            foreach (var item in a[list]!.AsArray().OfType<JsonObject>())
            {
                if (!item.ContainsKey("verified")) item["verified"] = false;
                item["id"] = null;
            }

        // Top-level externalId is mirrored into externalIds[] (first, verified: true, id: null).
        if (r.Doc["externalId"] is JsonValue ext && ext.GetValueKind() == JsonValueKind.String)
        {
            var value = ext.GetValue<string>();
            var list = a["externalIds"]!.AsArray();
            if (!list.OfType<JsonObject>().Any(o => o["externalId"]?.GetValue<string>() == value))
                list.Insert(0, new JsonObject { ["externalId"] = value, ["verified"] = true, ["id"] = null });
        }

        var firstEmail = a["emails"]!.AsArray().OfType<JsonObject>().FirstOrDefault()?["email"]?.GetValue<string>();
        var name = r.Doc["name"] is JsonValue n && n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null;
        a["displayName"] = name ?? firstEmail ?? "";
        a["verified"] = false;
        a["conversationCounts"] = new JsonObject { ["all"] = 0, ["snoozed"] = 0, ["open"] = 0, ["done"] = 0 };
        Stamp(a, r);

        var rel = Relationships(r);
        rel["messages"] = new JsonObject { ["links"] = new JsonObject { ["self"] = $"/v1/customers/{r.Id}/messages" } };
        if (r.Doc["company"] is JsonValue c && c.GetValueKind() == JsonValueKind.String)
            rel["company"] = Link("company", c.GetValue<string>(), $"/v1/companies/{c.GetValue<string>()}");
        return Resource("customer", r.Id, a, rel, $"/v1/customers/{r.Id}");
    }

    public JsonObject Company(CompanyRecord r)
    {
        var a = new JsonObject();
        foreach (var (k, v) in r.Doc) a[k] = v?.DeepClone();
        foreach (var arr in CompanyArrays) if (!a.ContainsKey(arr)) a[arr] = new JsonArray();
        if (!a.ContainsKey("custom")) a["custom"] = new JsonObject();
        if (!a.ContainsKey("externalId")) a["externalId"] = null;
        a["deleted"] = r.Deleted;
        Stamp(a, r);
        return Resource("company", r.Id, a, Relationships(r), $"/v1/companies/{r.Id}");
    }

    public JsonObject KObject(KObjectRecord r)
    {
        var a = new JsonObject();
        foreach (var (k, v) in r.Doc)
        {
            if (k is "customer" or "company") continue;
            a[k] = v?.DeepClone();
        }
        if (!a.ContainsKey("externalId")) a["externalId"] = null;
        if (!a.ContainsKey("images")) a["images"] = new JsonArray();
        if (!a.ContainsKey("tags")) a["tags"] = new JsonArray();
        if (!a.ContainsKey("custom")) a["custom"] = new JsonObject();
        if (!a.ContainsKey("data")) a["data"] = new JsonObject();
        Stamp(a, r);
        var rel = Relationships(r);
        rel["klass"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "klass", ["id"] = r.Klass } };
        if (r.Doc["customer"] is JsonValue cu && cu.GetValueKind() == JsonValueKind.String)
            rel["customer"] = Link("customer", cu.GetValue<string>(), $"/v1/customers/{cu.GetValue<string>()}");
        if (r.Doc["company"] is JsonValue co && co.GetValueKind() == JsonValueKind.String)
            rel["company"] = Link("company", co.GetValue<string>(), $"/v1/companies/{co.GetValue<string>()}");
        return Resource("kobject." + r.Klass, r.Id, a, rel, $"/v1/klasses/{r.Klass}/{r.Id}");
    }

    public JsonObject Klass(Klass k) => Resource("klass", k.Id, new JsonObject
    {
        ["name"] = k.Name,
        ["displayName"] = k.DisplayName,
        ["icon"] = k.Icon,
        ["color"] = k.Color,
        ["status"] = k.Status,
        ["description"] = k.Description,
        ["mixins"] = new JsonArray(),
        ["appDisabled"] = false,
        ["createdAt"] = Timestamp(k.CreatedAt),
        ["updatedAt"] = Timestamp(k.UpdatedAt),
    }, new JsonObject { ["org"] = OrgLink() }, $"/v1/klasses/{k.Id}");

    public JsonObject Metadata(MetadataResource m)
    {
        var props = new JsonObject();
        foreach (var (k, v) in m.Properties) props[k] = v.DeepClone();
        return new JsonObject
        {
            ["type"] = "metadata",
            ["id"] = m.Name,
            ["attributes"] = new JsonObject
            {
                ["properties"] = props,
                ["relationships"] = m.Relationships.DeepClone(),
                ["standardProperties"] = m.StandardProperties.DeepClone(),
                ["validations"] = m.Validations.DeepClone(),
                ["updatedAt"] = Timestamp(m.UpdatedAt),
            },
            ["links"] = new JsonObject { ["self"] = $"/v1/metadata/{m.Name}" },
        };
    }

    private static void Stamp(JsonObject a, Record r)
    {
        a["createdAt"] = Timestamp(r.CreatedAt);
        a["updatedAt"] = Timestamp(r.UpdatedAt);
        a["modifiedAt"] = Timestamp(r.UpdatedAt);
        a["rev"] = r.Rev;
    }

    private JsonObject Relationships(Record r) => new()
    {
        ["org"] = OrgLink(),
        ["modifiedBy"] = Link("user", r.ModifiedBy, $"/v1/users/{r.ModifiedBy}"),
    };

    public JsonObject OrgLink() => Link("org", OrgId, $"/v1/orgs/{OrgId}");

    public static JsonObject Link(string type, string id, string self) => new()
    {
        ["links"] = new JsonObject { ["self"] = self },
        ["data"] = new JsonObject { ["type"] = type, ["id"] = id },
    };

    public static JsonObject Resource(string type, string id, JsonObject attributes, JsonObject relationships, string self) => new()
    {
        ["type"] = type,
        ["id"] = id,
        ["attributes"] = attributes,
        ["relationships"] = relationships,
        ["links"] = new JsonObject { ["self"] = self },
    };

    public static JsonObject Single(JsonObject resource) => new() { ["data"] = resource };
}
