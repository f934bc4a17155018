using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Store;

/// <summary>
/// The metadata seed file (<c>--metadata</c>, default: embedded Resources/default-metadata.json):
/// <code>
/// { "customer": { "properties": { "tierStr": { "displayName": "Tier" } } },
///   "company":  { "properties": { … } },
///   "klasses":  { "order": { "displayName": "Order", "icon": "cart", "color": "#4a90e2",
///                            "properties": { "totalNum": { } } } } }
/// </code>
/// Property <c>type</c> and <c>displayName</c> are filled in from the suffix when omitted.
/// </summary>
public sealed class MetadataSeed
{
    private readonly JsonObject _root;

    private MetadataSeed(JsonObject root) => _root = root;

    public static MetadataSeed Load(string? path)
    {
        string text;
        string source;
        if (path is null)
        {
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("KustomerSync.Emulator.default-metadata.json")
                ?? throw new InvalidOperationException("embedded default-metadata.json missing");
            using var reader = new StreamReader(stream);
            text = reader.ReadToEnd();
            source = "built-in default-metadata.json";
        }
        else
        {
            text = File.ReadAllText(path);
            source = path;
        }
        JsonNode? node;
        try { node = JsonNode.Parse(text); }
        catch (JsonException e) { throw new OptionsException($"--metadata {source} is not valid JSON: {e.Message}"); }
        if (node is not JsonObject root) throw new OptionsException($"--metadata {source} must contain a JSON object");
        foreach (var (key, _) in root)
            if (key is not ("customer" or "company" or "klasses"))
                throw new OptionsException($"--metadata {source}: unknown top-level key '{key}' (expected customer, company, klasses)");
        var seed = new MetadataSeed(root);
        seed.Check(source);
        return seed;
    }

    private void Check(string source)
    {
        foreach (var (resource, props) in Resources())
            foreach (var (name, _) in props)
                if (CustomAttributes.SuffixOf(name) is null)
                    throw new OptionsException($"--metadata {source}: attribute '{name}' of {resource} needs a suffix Str, Txt, Num, At, Bool, Url, Id or Tree");
    }

    private IEnumerable<(string Resource, JsonObject Properties)> Resources()
    {
        foreach (var std in new[] { "customer", "company" })
            if (_root[std]?["properties"] is JsonObject p) yield return (std, p);
        if (_root["klasses"] is JsonObject klasses)
            foreach (var (name, def) in klasses)
                yield return ("kobject." + name, def?["properties"] as JsonObject ?? new JsonObject());
    }

    public void ApplyTo(DataStore store)
    {
        if (_root["klasses"] is JsonObject klasses)
            foreach (var (name, def) in klasses)
                store.KObjects.DefineKlass(name, Str(def, "displayName"), Str(def, "icon"), Str(def, "color"), Str(def, "description"), Str(def, "status") ?? "enabled");
        foreach (var (resource, props) in Resources())
        {
            var dict = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var (name, def) in props) dict[name] = MetadataStore.Complete(name, def as JsonObject ?? new JsonObject());
            store.Metadata.Set(new MetadataResource { Name = resource, Properties = dict });
        }
    }

    private static string? Str(JsonNode? def, string key) =>
        def?[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
