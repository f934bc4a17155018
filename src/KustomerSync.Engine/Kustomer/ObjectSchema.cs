namespace KustomerSync.Engine.Kustomer;

/// <summary>The writable fields of one object in one org: standard ones plus the org's custom attributes.</summary>
public sealed class ObjectSchema
{
    private readonly Dictionary<string, FieldSpec> _byPath = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, FieldSpec> _customByName = new(StringComparer.OrdinalIgnoreCase);

    public ObjectSchema(KustomerObject target, IEnumerable<FieldSpec> customAttributes, bool customAttributesKnown)
    {
        Target = target;
        CustomAttributesKnown = customAttributesKnown;
        foreach (var field in StandardFields.For(target)) _byPath[field.Path] = field;
        foreach (var field in customAttributes)
        {
            _byPath[field.Path] = field;
            _customByName[field.Name] = field;
        }
    }

    public KustomerObject Target { get; }

    /// <summary>False when the key may not read metadata: custom attributes are then typed by suffix alone.</summary>
    public bool CustomAttributesKnown { get; }

    public IEnumerable<FieldSpec> Fields => _byPath.Values;

    /// <summary>Finds a field by path (name, custom.tierStr) or by a custom attribute's bare system name (tierStr).</summary>
    public FieldSpec? Find(string nameOrPath)
    {
        if (_byPath.TryGetValue(nameOrPath, out var field)) return field;
        if (_customByName.TryGetValue(nameOrPath, out field)) return field;
        if (!CustomAttributesKnown)
        {
            var name = nameOrPath.StartsWith("custom.", StringComparison.OrdinalIgnoreCase) ? nameOrPath.Substring(7) : nameOrPath;
            if (CustomAttributeTypes.TryFromSuffix(name, out var type))
                return new FieldSpec("custom." + name, type, CustomAttributeTypes.MaxLength(type));
        }
        return null;
    }

    /// <summary>The closest valid paths to a name that matched nothing, best first.</summary>
    public IReadOnlyList<string> Suggest(string name, int count = 3) =>
        _byPath.Keys
            .Select(path => (path, distance: Math.Min(Distance(name, path), Distance(name, path.StartsWith("custom.", StringComparison.Ordinal) ? path.Substring(7) : path))))
            .Where(p => p.distance <= Math.Max(3, name.Length / 2))
            .OrderBy(p => p.distance).ThenBy(p => p.path, StringComparer.Ordinal)
            .Take(count).Select(p => p.path).ToList();

    internal static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
