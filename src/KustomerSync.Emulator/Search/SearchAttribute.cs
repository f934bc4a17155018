using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Search;

public enum SearchValueKind { Text, TextIgnoreCase, Phone, Number, Boolean, Date }

/// <summary>A searchable attribute (§8 names): how to read its values from a record and how to compare them.</summary>
public sealed record SearchAttribute(string Name, SearchValueKind Kind, Func<Record, IEnumerable<JsonNode?>> Values)
{
    private static JsonNode? Field(Record r, string name) => r.Doc[name];

    private static IEnumerable<JsonNode?> One(JsonNode? n) => [n];

    private static IEnumerable<JsonNode?> Items(Record r, string list, string field) =>
        r.Doc[list] is JsonArray arr ? arr.OfType<JsonObject>().Select(o => o[field]) : [];

    private static IEnumerable<JsonNode?> Tags(Record r) => r.Doc["tags"] is JsonArray arr ? arr.ToArray() : [];

    private static IEnumerable<JsonNode?> Stamp(DateTimeOffset t) => [JsonValue.Create(t.UtcDateTime.ToString("O"))];

    /// <summary>Resolves an attribute name for a query context, or null when it is not searchable there.</summary>
    public static SearchAttribute? Resolve(string name, string context, string? klass, MetadataStore metadata)
    {
        if (context == "customer")
        {
            return name switch
            {
                "customer_id" => new(name, SearchValueKind.Text, r => [JsonValue.Create(r.Id)]),
                "customer_externalId" => new(name, SearchValueKind.Text, r => One(Field(r, "externalId")).Concat(Items(r, "externalIds", "externalId"))),
                "customer_email" => new(name, SearchValueKind.TextIgnoreCase, r => Items(r, "emails", "email").Concat(Items(r, "sharedEmails", "email"))),
                "customer_phone" => new(name, SearchValueKind.Phone, r => Items(r, "phones", "phone").Concat(Items(r, "sharedPhones", "phone"))),
                "customer_name" => new(name, SearchValueKind.Text, r => One(Field(r, "name"))),
                "customer_company" => new(name, SearchValueKind.Text, r => One(Field(r, "company"))),
                "customer_tags" => new(name, SearchValueKind.Text, Tags),
                "customer_created_at" => new(name, SearchValueKind.Date, r => Stamp(r.CreatedAt)),
                "customer_updated_at" => new(name, SearchValueKind.Date, r => Stamp(r.UpdatedAt)),
                _ when name.StartsWith("customer_custom_", StringComparison.Ordinal) => Custom(name, name["customer_custom_".Length..], "customer", metadata),
                _ => null,
            };
        }
        if (context == "company")
        {
            return name switch
            {
                "company_id" => new(name, SearchValueKind.Text, r => [JsonValue.Create(r.Id)]),
                "company_externalId" => new(name, SearchValueKind.Text, r => One(Field(r, "externalId"))),
                "company_name" => new(name, SearchValueKind.Text, r => One(Field(r, "name"))),
                "company_tags" => new(name, SearchValueKind.Text, Tags),
                "company_created_at" => new(name, SearchValueKind.Date, r => Stamp(r.CreatedAt)),
                "company_updated_at" => new(name, SearchValueKind.Date, r => Stamp(r.UpdatedAt)),
                _ when name.StartsWith("company_custom_", StringComparison.Ordinal) => Custom(name, name["company_custom_".Length..], "company", metadata),
                _ => null,
            };
        }
        // kobject contexts
        return name switch
        {
            "kobject_id" => new(name, SearchValueKind.Text, r => [JsonValue.Create(r.Id)]),
            "kobject_externalId" => new(name, SearchValueKind.Text, r => One(Field(r, "externalId"))),
            "kobject_title" => new(name, SearchValueKind.Text, r => One(Field(r, "title"))),
            "kobject_customer" => new(name, SearchValueKind.Text, r => One(Field(r, "customer"))),
            "kobject_company" => new(name, SearchValueKind.Text, r => One(Field(r, "company"))),
            "kobject_tags" => new(name, SearchValueKind.Text, Tags),
            "kobject_created_at" => new(name, SearchValueKind.Date, r => Stamp(r.CreatedAt)),
            "kobject_updated_at" => new(name, SearchValueKind.Date, r => Stamp(r.UpdatedAt)),
            _ when klass is not null && name.StartsWith($"kobject_custom_{klass}_", StringComparison.Ordinal) =>
                Custom(name, name[$"kobject_custom_{klass}_".Length..], "kobject." + klass, metadata),
            _ => null,
        };
    }

    /// <summary>
    /// The archive search's attributes (OAS archive schema): ids, created/updated dates, <c>customer_companyId</c>,
    /// <c>*_deleted</c> and <c>*_any_text</c>; no custom attributes. A KObject context also takes the
    /// <c>kobject_&lt;klass&gt;_…</c> spelling. <c>*_any_text</c> matches standard string values only (§14: unknown
    /// whether it reaches custom attributes, so the emulator says no).
    /// </summary>
    public static SearchAttribute? ResolveArchive(string name, string context, string? klass)
    {
        if (context == "customer")
            return name switch
            {
                "customer_id" => new(name, SearchValueKind.Text, r => [JsonValue.Create(r.Id)]),
                "customer_companyId" => new(name, SearchValueKind.Text, r => One(Field(r, "company"))),
                "customer_created_at" => new(name, SearchValueKind.Date, r => Stamp(r.CreatedAt)),
                "customer_updated_at" => new(name, SearchValueKind.Date, r => Stamp(r.UpdatedAt)),
                "customer_deleted" => new(name, SearchValueKind.Boolean, _ => [JsonValue.Create(false)]),
                "customer_any_text_new" => new(name, SearchValueKind.TextIgnoreCase, StandardStrings),
                _ => null,
            };
        if (context == "company")
            return name switch
            {
                "company_created_at" => new(name, SearchValueKind.Date, r => Stamp(r.CreatedAt)),
                "company_updated_at" => new(name, SearchValueKind.Date, r => Stamp(r.UpdatedAt)),
                _ => null,
            };
        var field = name.StartsWith("kobject_", StringComparison.Ordinal) ? name["kobject_".Length..] : null;
        if (field is not null && klass is not null && field.StartsWith(klass + "_", StringComparison.Ordinal)) field = field[(klass.Length + 1)..];
        return field switch
        {
            "id" => new(name, SearchValueKind.Text, r => [JsonValue.Create(r.Id)]),
            "created_at" => new(name, SearchValueKind.Date, r => Stamp(r.CreatedAt)),
            "updated_at" => new(name, SearchValueKind.Date, r => Stamp(r.UpdatedAt)),
            "customer_id" => new(name, SearchValueKind.Text, r => One(Field(r, "customer"))),
            "company_id" => new(name, SearchValueKind.Text, r => One(Field(r, "company"))),
            "deleted" => new(name, SearchValueKind.Boolean, _ => [JsonValue.Create(false)]),
            "any_text" => new(name, SearchValueKind.TextIgnoreCase, StandardStrings),
            _ => null,
        };
    }

    /// <summary>Every string of the record's standard attributes (top level, in item objects, tags); not custom or data.</summary>
    private static IEnumerable<JsonNode?> StandardStrings(Record r)
    {
        foreach (var (k, v) in r.Doc)
        {
            if (k is "custom" or "data" or "company" or "customer") continue;
            if (IsString(v)) yield return v;
            else if (v is JsonArray arr)
                foreach (var item in arr)
                    if (IsString(item)) yield return item;
                    else if (item is JsonObject o)
                        foreach (var (_, iv) in o)
                            if (IsString(iv)) yield return iv;
        }
    }

    private static SearchAttribute? Custom(string name, string attr, string resource, MetadataStore metadata)
    {
        var suffix = CustomAttributes.SuffixOf(attr);
        if (suffix is null || metadata.Get(resource)?.Properties.ContainsKey(attr) != true) return null;
        var kind = suffix switch
        {
            "Num" => SearchValueKind.Number,
            "Bool" => SearchValueKind.Boolean,
            "At" => SearchValueKind.Date,
            _ => SearchValueKind.Text,
        };
        return new(name, kind, r => r.Doc["custom"] is JsonObject c ? [c[attr]] : []);
    }

    public static bool IsString(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String;
}
