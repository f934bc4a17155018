using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Routes;

/// <summary>
/// GET/PUT /v1/metadata/{resource} (customer, company, conversation, message, note, user, kobject.&lt;klass&gt;).
/// PUT merges <c>properties</c> attribute by attribute (a partial body updates only the attributes it names).
/// </summary>
public static class MetadataRoutes
{
    private static readonly ObjectSchema PropertyDefinition = new ObjectSchema("metadata property")
        .Field("type", Rules.Enum(false, "string", "text", "number", "date", "boolean", "url", "objectId", "tree"))
        .Field("displayName", Rules.Str(1, 256, nullable: false))
        .Field("description", Rules.Str(0, 1024))
        .Field("enumeration", Rules.Array(Rules.Str(1, 256, nullable: false), 1000))
        .Field("target", Rules.Str(1, 128, nullable: false))
        .Field("multi", Rules.Bool(false))
        .Field("tree", Rules.AnyObject())
        .Field("lastNodeRequired", Rules.Bool(false))
        .Field("hidden", Rules.Bool(false))
        .Field("readOnly", Rules.Bool(false));

    private static readonly ObjectSchema PutBody = new ObjectSchema("metadata")
        .Field("properties", Properties)
        .Field("relationships", (v, p) =>
        {
            Rules.AnyObject()(v, p);
            if (v!.AsObject().Count > 20) throw Rules.Invalid(p, "must have at most 20 entries");
        })
        .Field("standardProperties", Rules.AnyObject())
        .Field("validations", Rules.Array(Rules.ObjectId(nullable: false), 10));

    private static void Properties(JsonNode? v, string p)
    {
        Rules.AnyObject()(v, p);
        var obj = v!.AsObject();
        if (obj.Count > 100) throw Rules.Invalid(p, "must have at most 100 attributes");
        foreach (var (name, def) in obj)
        {
            var ptr = Rules.Child(p, name);
            var suffix = CustomAttributes.SuffixOf(name)
                ?? throw Rules.Invalid(ptr, "has a bad custom attribute name: use a camelCase name ending in Str, Txt, Num, At, Bool, Url, Id or Tree");
            Rules.Object(PropertyDefinition)(def, ptr);
            if (def!["type"] is JsonValue t && t.GetValue<string>() != CustomAttributes.TypeOf(suffix))
                throw Rules.Invalid(Rules.Child(ptr, "type"), $"must be '{CustomAttributes.TypeOf(suffix)}' for the {suffix} suffix");
        }
    }

    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s)
    {
        var metadata = s.Store.Metadata;

        v1.MapGet("/metadata/{resource}", (string resource) =>
            RouteHelpers.Single(s.Presenter.Metadata(metadata.Get(resource) ?? throw ApiException.NotFound($"metadata resource '{resource}' not found"))))
            .Roles(RouteRoles.MetadataRead);

        v1.MapPut("/metadata/{resource}", async (HttpContext ctx, string resource) =>
        {
            if (metadata.Get(resource) is null) throw ApiException.NotFound($"metadata resource '{resource}' not found");
            var body = await s.Body.ReadFlatObjectAsync(ctx);
            PutBody.Validate(body, "");
            lock (metadata)
            {
            var current = metadata.Get(resource)!;
            var props = new Dictionary<string, JsonObject>(current.Properties, StringComparer.Ordinal);
            if (body["properties"] is JsonObject incoming)
                foreach (var (name, def) in incoming)
                {
                    var merged = props.TryGetValue(name, out var existing) ? (JsonObject)existing.DeepClone() : new JsonObject();
                    foreach (var (k, val) in def!.AsObject()) merged[k] = val?.DeepClone();
                    merged["updatedAt"] = Presentation.ResourcePresenter.Timestamp(s.Clock.GetUtcNow());
                    props[name] = MetadataStore.Complete(name, merged);
                }
            if (props.Count > 100 * 10) throw ApiException.BadRequest("too many custom attributes on this resource", "/properties");
            var updated = new MetadataResource
            {
                Name = resource,
                Properties = props,
                Relationships = body["relationships"] is JsonObject rel ? (JsonObject)rel.DeepClone() : current.Relationships,
                StandardProperties = body["standardProperties"] is JsonObject sp ? (JsonObject)sp.DeepClone() : current.StandardProperties,
                Validations = body["validations"] is JsonArray va ? (JsonArray)va.DeepClone() : current.Validations,
                UpdatedAt = s.Clock.GetUtcNow(),
            };
            metadata.Set(updated);
            return RouteHelpers.Single(s.Presenter.Metadata(updated));
            }
        }).Roles(RouteRoles.MetadataUpdate);
    }
}
