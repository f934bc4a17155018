using System.Text.Json.Nodes;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Store;

/// <summary>
/// Applies a validated write body to a stored document. Merge: top-level keys replace the stored
/// value (arrays wholesale), <c>custom</c> merges key by key (null removes a key). Replace: the body
/// becomes the document. Server-managed keys (<c>rev</c>, <c>createdAt</c>, <c>deleted</c>) never enter the document.
/// </summary>
public static class DocumentMerge
{
    private static readonly string[] ServerKeys = ["rev", "createdAt", "deleted"];

    public static JsonObject NewDocument(JsonObject body)
    {
        var doc = new JsonObject();
        foreach (var (k, v) in body)
            if (!ServerKeys.Contains(k)) doc[k] = v?.DeepClone();
        if (doc["custom"] is JsonObject custom) CustomAttributes.Normalize(custom);
        return doc;
    }

    public static JsonObject Apply(JsonObject current, JsonObject body, WriteMode mode)
    {
        if (mode == WriteMode.Replace) return NewDocument(body);
        var doc = (JsonObject)current.DeepClone();
        foreach (var (k, v) in body)
        {
            if (ServerKeys.Contains(k)) continue;
            if (k == "custom" && v is JsonObject patch)
            {
                var custom = doc["custom"] as JsonObject ?? new JsonObject();
                foreach (var (ck, cv) in patch) custom[ck] = cv?.DeepClone();
                CustomAttributes.Normalize(custom);
                doc["custom"] = custom;
            }
            else doc[k] = v?.DeepClone();
        }
        return doc;
    }

    /// <summary>createdAt from the body, if given (it is writable on create and update).</summary>
    public static DateTimeOffset? CreatedAtOf(JsonObject body) =>
        body["createdAt"] is JsonValue v && DateTimeOffset.TryParse(v.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
