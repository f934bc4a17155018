using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Store;

/// <summary>
/// The identifying values of a customer that must be unique across the org (§4.2): emails
/// (case-insensitive), phones and whatsapps (separators ignored), socials (type + username),
/// externalId and externalIds[]. The <c>shared*</c> lists are not identities.
/// </summary>
public static class CustomerIdentities
{
    public readonly record struct Identity(string Key, string Pointer, string Value);

    public static IEnumerable<Identity> Of(JsonObject doc)
    {
        if (Str(doc["externalId"]) is string ext) yield return new("x:" + ext, "/externalId", ext);
        foreach (var (item, i) in Items(doc, "externalIds"))
            if (Str(item["externalId"]) is string e) yield return new("x:" + e, $"/externalIds/{i}/externalId", e);
        foreach (var (item, i) in Items(doc, "emails"))
            if (Str(item["email"]) is string e) yield return new("e:" + e.ToLowerInvariant(), $"/emails/{i}/email", e);
        foreach (var (item, i) in Items(doc, "phones"))
            if (Str(item["phone"]) is string p) yield return new("p:" + Rules.NormalizePhone(p), $"/phones/{i}/phone", p);
        foreach (var (item, i) in Items(doc, "whatsapps"))
            if (Str(item["phone"]) is string p) yield return new("w:" + Rules.NormalizePhone(p), $"/whatsapps/{i}/phone", p);
        foreach (var (item, i) in Items(doc, "socials"))
            if (Str(item["type"]) is string t && Str(item["username"]) is string u)
                yield return new($"s:{t}:{u.ToLowerInvariant()}", $"/socials/{i}/username", $"{t}:{u}");
    }

    public static string EmailKey(string email) => "e:" + email.ToLowerInvariant();
    public static string PhoneKey(string phone) => "p:" + Rules.NormalizePhone(phone);
    public static string ExternalIdKey(string externalId) => "x:" + externalId;

    private static IEnumerable<(JsonObject Item, int Index)> Items(JsonObject doc, string name) =>
        doc[name] is JsonArray arr ? arr.Select((n, i) => (n as JsonObject, i)).Where(t => t.Item1 is not null).Select(t => (t.Item1!, t.i)) : [];

    private static string? Str(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
