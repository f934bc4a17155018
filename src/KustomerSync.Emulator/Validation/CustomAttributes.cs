using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Validation;

/// <summary>
/// The <c>custom</c> object rules (§7): ≤100 keys; key = camelCase name + suffix
/// Str|Txt|Num|At|Bool|Url|Id|Tree; the key must be defined in the object's metadata
/// (emulator choice: the stricter reading); the value must fit the suffix; null always allowed (clears).
/// </summary>
public static partial class CustomAttributes
{
    public static readonly string[] Suffixes = ["Bool", "Tree", "Str", "Txt", "Num", "Url", "At", "Id"];

    public const int MaxKeys = 100;
    public const int MaxStringLength = 1024;

    [GeneratedRegex("^[a-z][a-zA-Z0-9]*$")]
    private static partial Regex NamePattern();

    public static string? SuffixOf(string name)
    {
        if (!NamePattern().IsMatch(name)) return null;
        foreach (var s in Suffixes)
            if (name.Length > s.Length && name.EndsWith(s, StringComparison.Ordinal)) return s;
        return null;
    }

    public static string TypeOf(string suffix) => suffix switch
    {
        "Str" => "string",
        "Txt" => "text",
        "Num" => "number",
        "At" => "date",
        "Bool" => "boolean",
        "Url" => "url",
        "Id" => "objectId",
        "Tree" => "tree",
        _ => "string",
    };

    public static string DefaultDisplayName(string name)
    {
        var suffix = SuffixOf(name);
        var baseName = suffix is null ? name : name[..^suffix.Length];
        var words = Regex.Replace(baseName, "(?<=[a-z0-9])([A-Z])", " $1");
        return words.Length == 0 ? name : char.ToUpperInvariant(words[0]) + words[1..];
    }

    /// <summary>Validates a <c>custom</c> object against the suffix rules and the resource's metadata.</summary>
    public static Rule For(MetadataStore metadata, Func<string> resourceName) => (v, p) =>
    {
        if (Rules.KindOf(v) != JsonValueKind.Object) throw Rules.Invalid(p, $"must be an object (got {Rules.Describe(v)})");
        var obj = v!.AsObject();
        if (obj.Count > MaxKeys) throw Rules.Invalid(p, $"must have at most {MaxKeys} attributes (got {obj.Count})");
        var resource = resourceName();
        var meta = metadata.Get(resource);
        foreach (var (key, value) in obj)
        {
            var ptr = Rules.Child(p, key);
            var suffix = SuffixOf(key)
                ?? throw Rules.Invalid(ptr, "has a bad custom attribute name: use a camelCase name ending in Str, Txt, Num, At, Bool, Url, Id or Tree");
            if (meta is null || !meta.Properties.TryGetValue(key, out var definition))
                throw Rules.Invalid(ptr, $"is not a custom attribute defined in /v1/metadata/{resource} (define it first)");
            if (value is null) continue;
            CheckValue(key, suffix, definition, value, ptr);
        }
    };

    private static void CheckValue(string key, string suffix, JsonObject definition, JsonNode value, string ptr)
    {
        switch (suffix)
        {
            case "Str" or "Txt" or "Tree":
            {
                var s = Rules.RequireString(value, ptr);
                if (s.Length > MaxStringLength) throw Rules.Invalid(ptr, $"must be at most {MaxStringLength} characters (got {s.Length})");
                if (suffix == "Str" && definition["enumeration"] is JsonArray allowed && allowed.Count > 0 &&
                    !allowed.Any(a => a is not null && a.GetValueKind() == JsonValueKind.String && a.GetValue<string>() == s))
                    throw Rules.Invalid(ptr, $"must be one of the enumeration values of {key}: {string.Join(", ", allowed.Select(a => a?.ToString()))}");
                break;
            }
            case "Num":
                if (value.GetValueKind() != JsonValueKind.Number) throw Rules.Invalid(ptr, $"must be a number (got {Rules.Describe(value)})");
                break;
            case "Bool":
                if (value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) throw Rules.Invalid(ptr, $"must be a boolean (got {Rules.Describe(value)})");
                break;
            case "At":
                if (!Rules.IsDateTime(Rules.RequireString(value, ptr)))
                    throw Rules.Invalid(ptr, "must be an ISO-8601 date-time with seconds and a UTC offset, e.g. 2026-01-02T03:04:05Z");
                break;
            case "Url":
                if (!Rules.IsAbsoluteUri(Rules.RequireString(value, ptr))) throw Rules.Invalid(ptr, "must be an absolute URI");
                break;
            case "Id":
                if (definition["multi"] is JsonValue multi && multi.GetValueKind() == JsonValueKind.True && value is JsonArray ids)
                {
                    for (var i = 0; i < ids.Count; i++) Rules.ObjectId(nullable: false)(ids[i], Rules.Child(ptr, i));
                }
                else Rules.ObjectId(nullable: false)(value, ptr);
                break;
        }
    }

    /// <summary>Normalises stored values: Tree values are stored lowercase; null removes the key.</summary>
    public static void Normalize(JsonObject custom)
    {
        foreach (var key in custom.Select(kv => kv.Key).ToArray())
        {
            var value = custom[key];
            if (value is null) custom.Remove(key);
            else if (SuffixOf(key) == "Tree" && value.GetValueKind() == JsonValueKind.String)
                custom[key] = value.GetValue<string>().ToLowerInvariant();
        }
    }
}
