using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// A record as Kustomer returned it: its id, its attributes and, for customers, the company it is linked to. An update
/// must carry that link, since Kustomer unlinks a customer's company when an update omits it (kustomer-api.md §4.2).
/// </summary>
public sealed record FoundRecord
{
    private FoundRecord(string id, JsonObject? attributes, string? companyId, bool companyKnown, bool whole = false)
    {
        IsWhole = whole;
        Id = id;
        Attributes = attributes;
        CompanyId = companyId;
        CompanyKnown = companyKnown;
        if (attributes?["rev"] is JsonValue rev && rev.TryGetValue<double>(out var number) && number == Math.Floor(number)) Rev = (long)number;
        UpdatedAt = Text(attributes?["updatedAt"]);
    }

    public string Id { get; }

    /// <summary>True when <see cref="Attributes"/> is the whole record (a path lookup, GET by id), not a search hit's excerpt.</summary>
    public bool IsWhole { get; }

    /// <summary>data.attributes of the answer; null when only the id is known.</summary>
    public JsonObject? Attributes { get; }

    /// <summary>The id of the company the customer is linked to; null when none (or not known, see <see cref="CompanyKnown"/>).</summary>
    public string? CompanyId { get; private init; }

    /// <summary>
    /// True when the record was read whole (GET by id or by a path lookup), so a missing link means "no company".
    /// False for an id alone (from a state store) or a search hit that did not show the link: the link must be read first.
    /// </summary>
    public bool CompanyKnown { get; private init; }

    /// <summary>The record's revision (attributes.rev), when the answer showed it.</summary>
    public long? Rev { get; }

    /// <summary>attributes.updatedAt as Kustomer wrote it, when the answer showed it.</summary>
    public string? UpdatedAt { get; }

    /// <summary>
    /// True when the company link comes from a <see cref="RecordStamp"/>, not from this answer: an update then carries the
    /// revision too, so that Kustomer refuses it (409, optimistic locking, §11) if the record changed after the hit.
    /// </summary>
    public bool LinkRemembered { get; private init; }

    /// <summary>This search hit with the company link its stamp remembers; only for a hit the stamp <see cref="RecordStamp.Stamps"/>.</summary>
    public FoundRecord WithRememberedLink(RecordStamp stamp) => this with { CompanyId = stamp.CompanyId, CompanyKnown = true, LinkRemembered = true };

    /// <summary>An id from elsewhere (a state store): nothing else is known about the record.</summary>
    public static FoundRecord ById(string id) => new(id, null, null, companyKnown: false);

    /// <summary>A whole record (GET /v1/customers/{id}, …/externalId=…, …/email=…, one item of a list).</summary>
    public static FoundRecord? FromResource(JsonNode? resource) => Read(resource, whole: true);

    /// <summary>A search hit: it may leave links out, so its company counts as known only when the hit shows it.</summary>
    public static FoundRecord? FromSearchHit(JsonNode? resource) => Read(resource, whole: false);

    private static FoundRecord? Read(JsonNode? resource, bool whole)
    {
        if (resource?["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var id) || id.Length == 0) return null;
        var attributes = resource["attributes"] as JsonObject;
        // The reference does not say where the link appears (§14): read both places; attributes.company wins.
        var fromAttributes = attributes is not null && attributes.TryGetPropertyValue("company", out var a) ? (true, Text(a is JsonObject o ? o["id"] : a)) : (false, null);
        var relationship = resource["relationships"] as JsonObject;
        var fromRelationships = relationship is not null && relationship.TryGetPropertyValue("company", out var r) && r is JsonObject rel && rel.ContainsKey("data")
            ? (true, Text(rel["data"]?["id"])) : (false, null);
        var shown = fromAttributes.Item1 || fromRelationships.Item1;
        return new FoundRecord(id, attributes, fromAttributes.Item2 ?? fromRelationships.Item2, whole || shown, whole && attributes is not null);
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
