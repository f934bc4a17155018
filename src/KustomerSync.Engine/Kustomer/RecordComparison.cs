using System.Globalization;
using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// Whether a record Kustomer returned already holds what an update would send, so the update can be left out: no
/// write, no bumped updatedAt, no Kustomer workflow fired for a no-op. Only the fields the update names are compared,
/// the way Kustomer merges them: top-level fields and each custom attribute replace the stored value, arrays are
/// replaced whole. Kustomer's normalisation is allowed for: contact items come back with <c>verified: false</c> and
/// <c>id: null</c>, dates with other digits for the same instant, numbers in another form, Tree values lower-cased.
/// Anything else that differs, or cannot be told, counts as a change: a needless update is harmless, a skipped one is not.
/// </summary>
public static class RecordComparison
{
    public static bool Holds(KustomerObject target, FoundRecord current, JsonObject payload)
    {
        if (!current.IsWhole || current.Attributes is not { } stored) return false;
        foreach (var pair in RecordGateway.UpdatableBody(target, payload, forUpdate: true))
        {
            var (field, value) = (pair.Key, pair.Value);
            if (field == "company" && target.Kind == ObjectKind.Customer)
            {
                if (!current.CompanyKnown || !string.Equals(Text(value), current.CompanyId, StringComparison.Ordinal)) return false;
                continue;
            }
            if (field == "custom" && value is JsonObject custom)
            {
                var storedCustom = stored["custom"] as JsonObject;
                foreach (var attribute in custom)
                    if (!Same(attribute.Key, attribute.Value, storedCustom?[attribute.Key])) return false;
                continue;
            }
            if (!Same(field, value, stored[field])) return false;
        }
        return true;
    }

    private static bool Same(string name, JsonNode? sent, JsonNode? held)
    {
        if (sent is null) return held is null;
        switch (sent)
        {
            case JsonArray items:
                if (held is not JsonArray heldItems || heldItems.Count != items.Count) return false;
                for (var i = 0; i < items.Count; i++)
                    if (!Same(name, items[i], heldItems[i])) return false;
                return true;
            case JsonObject item:
                if (held is not JsonObject heldItem) return false;
                foreach (var pair in item)
                    if (!Same(pair.Key, pair.Value, heldItem[pair.Key])) return false;
                // What the update would not send must be what Kustomer fills in by itself, since an array is replaced whole.
                foreach (var pair in heldItem)
                    if (!item.ContainsKey(pair.Key) && !IsFilledIn(pair.Key, pair.Value)) return false;
                return true;
            default:
                return SameValue(name, (JsonValue)sent, held as JsonValue);
        }
    }

    private static bool IsFilledIn(string key, JsonNode? value) =>
        value is null || key == "verified" && value is JsonValue v && v.TryGetValue<bool>(out var verified) && !verified;

    private static bool SameValue(string name, JsonValue sent, JsonValue? held)
    {
        if (held is null) return false;
        if (sent.TryGetValue<string>(out var text))
        {
            if (!held.TryGetValue<string>(out var heldText)) return false;
            if (string.Equals(text, heldText, StringComparison.Ordinal)) return true;
            if (name.EndsWith("Tree", StringComparison.Ordinal)) return string.Equals(text, heldText, StringComparison.OrdinalIgnoreCase);
            return name.EndsWith("At", StringComparison.Ordinal) &&
                DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var a) &&
                DateTimeOffset.TryParse(heldText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var b) && a == b;
        }
        if (sent.TryGetValue<bool>(out var flag)) return held.TryGetValue<bool>(out var heldFlag) && flag == heldFlag;
        return Number(sent) is { } x && Number(held) is { } y && x == y;
    }

    private static decimal? Number(JsonValue value) =>
        decimal.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null;

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
