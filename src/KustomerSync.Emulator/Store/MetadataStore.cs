using System.Text.Json.Nodes;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Store;

/// <summary>One metadata resource (<c>customer</c>, <c>company</c>, <c>kobject.&lt;klass&gt;</c>, …): custom-attribute definitions.</summary>
public sealed class MetadataResource
{
    public required string Name { get; init; }
    /// <summary>Attribute system name → definition (type, displayName, enumeration, …). Replaced wholesale on change (copy-on-write).</summary>
    public required IReadOnlyDictionary<string, JsonObject> Properties { get; init; }
    public JsonObject Relationships { get; init; } = [];
    public JsonObject StandardProperties { get; init; } = [];
    public JsonArray Validations { get; init; } = [];
    public DateTimeOffset UpdatedAt { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// Custom-attribute metadata per resource. Reads are lock-free (immutable snapshots swapped on write),
/// so validation can consult it outside the data lock.
/// </summary>
public sealed class MetadataStore
{
    /// <summary>Standard resources that always exist (possibly with no custom attributes).</summary>
    public static readonly string[] StandardResources = ["customer", "company", "conversation", "message", "note", "user"];

    private volatile Dictionary<string, MetadataResource> _resources = new(StringComparer.Ordinal);

    public MetadataResource? Get(string resource) => _resources.GetValueOrDefault(resource);

    public IReadOnlyCollection<MetadataResource> All => _resources.Values;

    public void Clear()
    {
        var fresh = new Dictionary<string, MetadataResource>(StringComparer.Ordinal);
        foreach (var r in StandardResources) fresh[r] = new MetadataResource { Name = r, Properties = new Dictionary<string, JsonObject>() };
        _resources = fresh;
    }

    /// <summary>Defines or replaces a resource (used by seeding, klass creation and PUT).</summary>
    public void Set(MetadataResource resource)
    {
        lock (this)
        {
            var copy = new Dictionary<string, MetadataResource>(_resources, StringComparer.Ordinal) { [resource.Name] = resource };
            _resources = copy;
        }
    }

    /// <summary>Adds the automatic keys: <c>type</c> from the suffix and a title-cased <c>displayName</c>.</summary>
    public static JsonObject Complete(string name, JsonObject definition)
    {
        var def = (JsonObject)definition.DeepClone();
        var suffix = CustomAttributes.SuffixOf(name);
        if (suffix is not null && !def.ContainsKey("type")) def["type"] = CustomAttributes.TypeOf(suffix);
        if (!def.ContainsKey("displayName")) def["displayName"] = CustomAttributes.DefaultDisplayName(name);
        return def;
    }
}
