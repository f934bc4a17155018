using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Validation;

/// <summary>
/// The write schemas of §4.1 (customer), §5 (company) and §6 (kobject), all closed
/// (<c>additionalProperties:false</c>), with the custom-attribute rules bound to the metadata store.
/// </summary>
public sealed class Schemas
{
    public ObjectSchema CustomerWrite { get; }
    public ObjectSchema CompanyCreate { get; }
    public ObjectSchema CompanyUpdate { get; }
    public ObjectSchema CompanyBulkUpdate { get; }
    private readonly MetadataStore _metadata;

    public Schemas(MetadataStore metadata)
    {
        _metadata = metadata;

        var emailItem = new ObjectSchema("email item")
            .Field("email", Rules.Email(), required: true)
            .Field("type", Rules.Enum(false, "home", "work", "other"))
            .Field("verified", Rules.Bool(false));
        var phoneItem = new ObjectSchema("phone item")
            .Field("phone", Rules.Phone(), required: true)
            .Field("type", Rules.Enum(false, "mobile", "home", "work", "fax", "other"))
            .Field("verified", Rules.Bool(false));
        var whatsappItem = new ObjectSchema("whatsapp item")
            .Field("phone", Rules.Phone(), required: true)
            .Field("type", Rules.Enum(false, "mobile"))
            .Field("verified", Rules.Bool(false));
        var externalIdItem = new ObjectSchema("externalIds item")
            .Field("externalId", Rules.Str(1, 255, nullable: false), required: true)
            .Field("verified", Rules.Bool(false));
        var socialItem = new ObjectSchema("social item")
            .Field("type", Rules.Enum(false, "twitter", "facebook", "instagram", "linkedin", "pinterest"), required: true)
            .Field("username", Rules.Str(1, 256, nullable: false), required: true)
            .Field("userid", Rules.Str(1, 256, nullable: false))
            .Field("url", Rules.Uri(nullable: false))
            .Field("verified", Rules.Bool(false));
        var urlItem = new ObjectSchema("url item")
            .Field("url", Rules.Uri(nullable: false), required: true)
            .Field("type", Rules.Enum(false, "website", "blog", "other"));
        var locationItem = new ObjectSchema("location item");
        foreach (var f in new[] { "type", "name", "address", "address2", "address3", "countryName", "regionCode", "regionName", "cityName", "zipCode", "areaCode" })
            locationItem.Field(f, Rules.Str(0, 256));
        locationItem.Field("countryCode", Rules.Str(2, 2))
            .Field("latitude", Rules.Number(min: -90, max: 90))
            .Field("longitude", Rules.Number(min: -180, max: 180));
        var facebookItem = new ObjectSchema("facebookIds item")
            .Field("pageId", Rules.Str(1, 256, false)).Field("userId", Rules.Str(1, 256, false)).Field("name", Rules.Str(0, 256, false));
        var instagramItem = new ObjectSchema("instagramIds item")
            .Field("pageId", Rules.Str(1, 256, false)).Field("threadId", Rules.Str(1, 256, false))
            .Field("username", Rules.Str(1, 256, false)).Field("instagramId", Rules.Str(1, 256, false));
        var sentiment = new ObjectSchema("sentiment")
            .Field("polarity", (v, p) =>
            {
                Rules.Number(nullable: false, integer: true)(v, p);
                var d = v!.GetValue<double>();
                if (d is not (-1 or 0 or 1)) throw Rules.Invalid(p, "must be -1, 0 or 1");
            }, required: true)
            .Field("confidence", Rules.Number(nullable: false, min: -1, max: 1), required: true);
        var domainItem = new ObjectSchema("domains item")
            .Field("domain", Rules.Str(1, 253, nullable: false, Rules.DomainName(), "domain-name"), required: true);

        static string? Lower(JsonNode n, string field) =>
            n is JsonObject o && o[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>().ToLowerInvariant() : null;
        static string? Phone(JsonNode n) =>
            n is JsonObject o && o["phone"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? Rules.NormalizePhone(v.GetValue<string>()) : null;
        static string? Exact(JsonNode n, string field) =>
            n is JsonObject o && o[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        static string? Social(JsonNode n) => Lower(n, "type") + ":" + Lower(n, "username");

        var emails = Rules.Array(Rules.Object(emailItem), 10, n => Lower(n, "email"));
        var phones = Rules.Array(Rules.Object(phoneItem), 10, Phone);
        var whatsapps = Rules.Array(Rules.Object(whatsappItem), 10, Phone);
        var externalIds = Rules.Array(Rules.Object(externalIdItem), 10, n => Exact(n, "externalId"));
        var socials = Rules.Array(Rules.Object(socialItem), 10, Social);
        var urls = Rules.Array(Rules.Object(urlItem), 10);
        var locations = Rules.Array(Rules.Object(locationItem), 10);

        CustomerWrite = new ObjectSchema("customer")
            .Field("name", Rules.Str(0, 256))
            .Field("company", Rules.ObjectId())
            .Field("externalId", Rules.Str(1, 256))
            .Field("username", Rules.Str(0, 256))
            .Field("signedUpAt", Rules.DateTime())
            .Field("lastActivityAt", Rules.DateTime())
            .Field("lastCustomerActivityAt", Rules.DateTime())
            .Field("lastSeenAt", Rules.DateTime())
            .Field("birthdayAt", Rules.DateTime())
            .Field("avatarUrl", Rules.Uri())
            .Field("locale", Rules.Str(0, 16))
            .Field("timeZone", Rules.Str(0, 64))
            .Field("gender", Rules.Enum(true, "m", "f"))
            .Field("defaultLang", Rules.Str(0, 100))
            .Field("createdAt", Rules.DateTime(nullable: false))
            .Field("importedAt", Rules.DateTime())
            .Field("rev", Rules.Number(nullable: false, min: 0, integer: true))
            .Field("emails", emails).Field("sharedEmails", emails)
            .Field("phones", phones).Field("sharedPhones", phones)
            .Field("whatsapps", whatsapps)
            .Field("externalIds", externalIds).Field("sharedExternalIds", externalIds)
            .Field("socials", socials).Field("sharedSocials", socials)
            .Field("urls", urls)
            .Field("locations", locations)
            .Field("facebookIds", Rules.Array(Rules.Object(facebookItem), 10))
            .Field("instagramIds", Rules.Array(Rules.Object(instagramItem), 10))
            .Field("tags", Rules.Tags)
            .Field("sentiment", Rules.Object(sentiment, nullable: true))
            .Field("custom", CustomAttributes.For(metadata, () => "customer"));

        CompanyCreate = new ObjectSchema("company")
            .Field("name", Rules.Str(3, 256, nullable: false), required: true)
            .Field("externalId", Rules.Str(1, 256))
            .Field("avatarUrl", Rules.Uri())
            .Field("emails", emails)
            .Field("phones", phones)
            .Field("whatsapps", whatsapps)
            .Field("socials", socials)
            .Field("urls", urls)
            .Field("locations", locations)
            .Field("domains", Rules.Array(Rules.Object(domainItem), 10, n => Lower(n, "domain")))
            .Field("employeeCount", Rules.Number(min: 0, integer: true))
            .Field("tags", Rules.Tags)
            .Field("custom", CustomAttributes.For(metadata, () => "company"))
            .Field("defaultLang", Rules.Str(0, 100))
            .Field("createdAt", Rules.DateTime(nullable: false))
            .Field("importedAt", Rules.DateTime())
            .Field("rev", Rules.Number(nullable: false, min: 0, integer: true));

        // §5: PUT /companies/{id} has no createdAt or importedAt (additionalProperties:false ⇒ 400); the bulk
        // PUT items are the same minus whatsapps and rev (OAS).
        const string createOnly = "is not allowed on a company update (create-only; the update schema has no such field)";
        CompanyUpdate = CompanyCreate.Copy("company", keepRequired: false)
            .Forbid("createdAt", createOnly)
            .Forbid("importedAt", createOnly)
            .Field("deleted", Rules.Bool(nullable: false));
        CompanyBulkUpdate = CompanyUpdate.Without("whatsapps", "rev");
    }

    private ObjectSchema KObjectBase(string klass, bool update)
    {
        var schema = new ObjectSchema($"kobject.{klass}")
            .Field("title", Rules.Str(1, 256, nullable: false), required: !update)
            .Field("externalId", Rules.Str(1, 256))
            .Field("description", Rules.Str(0, 10240))
            .Field("images", Rules.Array(Rules.Uri(nullable: false), 20))
            .Field("icon", Rules.Str(0, 64))
            .Field("data", Rules.AnyObject(nullable: true))
            .Field("custom", CustomAttributes.For(_metadata, () => "kobject." + klass))
            .Field("tags", Rules.Tags)
            .Field("createdAt", Rules.DateTime(nullable: false))
            .Field("importedAt", Rules.DateTime());
        if (update) schema.Field("rev", Rules.Number(nullable: false, min: 0, integer: true));
        else schema.Field("customer", Rules.ObjectId()).Field("company", Rules.ObjectId());
        return schema;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, bool), ObjectSchema> _kobjectSchemas = new();

    /// <summary>Create schema (§6): title required; customer/company links allowed; no rev.</summary>
    public ObjectSchema KObjectCreate(string klass) => _kobjectSchemas.GetOrAdd((klass, false), k => KObjectBase(k.Item1, update: false));

    /// <summary>Update schema (§6): no customer/company (OAS update schema lacks them); rev allowed.</summary>
    public ObjectSchema KObjectUpdate(string klass) => _kobjectSchemas.GetOrAdd((klass, true), k => KObjectBase(k.Item1, update: true));
}
