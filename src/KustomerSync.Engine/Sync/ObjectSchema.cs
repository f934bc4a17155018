namespace KustomerSync.Engine.Sync;

/// <summary>The type a Kustomer field demands; custom attributes get theirs from the name's suffix.</summary>
public enum FieldType
{
    String,
    Text,
    Number,
    Bool,
    DateTime,
    Url,
    Email,
    Phone,
    ObjectId,
    Tags,
    Tree,
    Json,
}

/// <summary>One writable field: a standard attribute (name, externalId, ...) or a custom one (custom.tierStr).</summary>
public sealed class FieldSpec
{
    public FieldSpec(string path, FieldType type, int maxLength = 0, string? displayName = null)
    {
        Path = path;
        Type = type;
        MaxLength = maxLength;
        DisplayName = displayName;
    }

    /// <summary>A field that names another record by its key; its value is resolved to that record's id.</summary>
    public static FieldSpec Reference(string path, string field, SyncTarget target, SyncKeyKind by, string displayName) =>
        new(path, by == SyncKeyKind.Email ? FieldType.Email : FieldType.String, 256, displayName) { ReferenceField = field, ReferenceTarget = target, ReferenceBy = by };

    /// <summary>For a reference: the field that receives the resolved id (company, customer).</summary>
    public string? ReferenceField { get; private set; }
    public SyncTarget? ReferenceTarget { get; private set; }
    public SyncKeyKind ReferenceBy { get; private set; }

    /// <summary>name, externalId, email, phone, company, custom.tierStr, ...</summary>
    public string Path { get; }
    public FieldType Type { get; }
    /// <summary>0 when Kustomer sets no length limit.</summary>
    public int MaxLength { get; }
    /// <summary>More than 0: Kustomer takes no shorter value and no null (a company's name).</summary>
    public int MinLength { get; init; }
    public string? DisplayName { get; }
    public bool IsCustom => Path.StartsWith("custom.", StringComparison.Ordinal);
    /// <summary>The attribute name without the custom. prefix.</summary>
    public string Name => IsCustom ? Path.Substring(7) : Path;
}

/// <summary>The writable fields of one object in one org: standard ones plus the org's custom attributes.</summary>
public sealed class ObjectSchema
{
    private readonly Dictionary<string, FieldSpec> _byPath = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, FieldSpec> _customByName = new(StringComparer.OrdinalIgnoreCase);

    public ObjectSchema(SyncTarget target, IEnumerable<FieldSpec> customAttributes, bool customAttributesKnown)
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

    public SyncTarget Target { get; }

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

/// <summary>Custom attribute types follow from the system name's suffix (kustomer-api.md §7).</summary>
public static class CustomAttributeTypes
{
    private static readonly (string Suffix, FieldType Type)[] Suffixes =
    {
        ("Str", FieldType.String), ("Txt", FieldType.Text), ("Num", FieldType.Number), ("At", FieldType.DateTime),
        ("Bool", FieldType.Bool), ("Url", FieldType.Url), ("Id", FieldType.ObjectId), ("Tree", FieldType.Tree),
    };

    public static bool TryFromSuffix(string name, out FieldType type)
    {
        foreach (var (suffix, candidate) in Suffixes)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal) && char.IsLower(name[0]))
            {
                type = candidate;
                return true;
            }
        }
        type = FieldType.String;
        return false;
    }

    public static string SuffixOf(FieldType type) => Suffixes.First(s => s.Type == type).Suffix;

    public static int MaxLength(FieldType type) => type is FieldType.String or FieldType.Text ? 1024 : 0;
}

/// <summary>The standard writable attributes of each object (kustomer-api.md §4.1, §5, §6).</summary>
public static class StandardFields
{
    private static readonly FieldSpec[] Customer =
    {
        new("externalId", FieldType.String, 256), new("name", FieldType.String, 256), new("username", FieldType.String, 256),
        new("email", FieldType.Email, 256, "default email (emails[0])"), new("phone", FieldType.Phone, 64, "default phone (phones[0])"),
        new("company", FieldType.ObjectId, 0, "company id"),
        FieldSpec.Reference("companyExternalId", "company", SyncTarget.Company, SyncKeyKind.ExternalId, "the company's externalId, resolved to its id"),
        new("signedUpAt", FieldType.DateTime), new("lastActivityAt", FieldType.DateTime), new("lastCustomerActivityAt", FieldType.DateTime),
        new("lastSeenAt", FieldType.DateTime), new("birthdayAt", FieldType.DateTime), new("avatarUrl", FieldType.Url),
        new("locale", FieldType.String, 16), new("timeZone", FieldType.String, 64), new("gender", FieldType.String, 1),
        new("defaultLang", FieldType.String, 100), new("tags", FieldType.Tags), new("createdAt", FieldType.DateTime),
        new("importedAt", FieldType.DateTime),
    };

    private static readonly FieldSpec[] Company =
    {
        new("externalId", FieldType.String, 256), new("name", FieldType.String, 256) { MinLength = 3 }, new("avatarUrl", FieldType.Url),
        new("email", FieldType.Email, 256, "default email (emails[0])"), new("phone", FieldType.Phone, 64, "default phone (phones[0])"),
        new("domain", FieldType.String, 256, "default domain (domains[0])"), new("employeeCount", FieldType.Number),
        new("defaultLang", FieldType.String, 100), new("tags", FieldType.Tags), new("createdAt", FieldType.DateTime),
        new("importedAt", FieldType.DateTime),
    };

    private static readonly FieldSpec[] KObject =
    {
        new("externalId", FieldType.String, 256), new("title", FieldType.String, 256), new("description", FieldType.String, 10240),
        new("icon", FieldType.String, 64), new("customer", FieldType.ObjectId, 0, "customer id"),
        FieldSpec.Reference("customerExternalId", "customer", SyncTarget.Customer, SyncKeyKind.ExternalId, "the customer's externalId, resolved to its id"),
        FieldSpec.Reference("customerEmail", "customer", SyncTarget.Customer, SyncKeyKind.Email, "the customer's email, resolved to its id"),
        new("company", FieldType.ObjectId, 0, "company id"),
        FieldSpec.Reference("companyExternalId", "company", SyncTarget.Company, SyncKeyKind.ExternalId, "the company's externalId, resolved to its id"),
        new("tags", FieldType.Tags), new("data", FieldType.Json),
        new("createdAt", FieldType.DateTime), new("importedAt", FieldType.DateTime),
    };

    public static IReadOnlyList<FieldSpec> For(SyncTarget target) => target.Kind switch
    {
        "customer" => Customer,
        "company" => Company,
        _ => KObject,
    };
}
