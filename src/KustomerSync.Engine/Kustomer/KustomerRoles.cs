namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// Which roles unlock which calls (kustomer-api.md §3, §12). Any one role of a list suffices. Suffix-less roles
/// such as org.permission.customer are umbrella roles covering every action on that object.
/// </summary>
public static class KustomerRoles
{
    public static readonly string[] CensusRoles =
    {
        "org.admin.klass.read", "org.user.kobject.read", "org.admin.metadata.read", "org.admin.search.read",
        "org.user.customer.write", "org.user.kobject.write", "org.permission.customer", "org.permission.company",
    };

    public static readonly string[] Search =
    {
        "org.permission.search.create", "org.permission.search.update", "org.permission.search_global.create",
        "org.permission.search_preview.create", "org.user.search.read", "org.admin.search.read",
    };

    public static readonly string[] MetadataRead = { "org.permission.metadata.read", "org.user.metadata.read", "org.admin.metadata.read" };

    public static readonly string[] KlassRead = { "org.permission.klass.read", "org.user.klass.read", "org.admin.klass.read" };

    /// <summary>Following a bulk job (GET /v1/bulk/{id}); Census's eight roles hold none of these.</summary>
    public static readonly string[] BulkRead = { "org.permission.bulk", "org.permission.bulk.read", "org.user.bulk.read" };

    public static string[] Read(ObjectKind kind) => kind switch
    {
        ObjectKind.Customer => new[] { "org.permission.customer.read", "org.user.customer.read", "org.permission.customer" },
        ObjectKind.Company => new[] { "org.permission.company.read", "org.user.company.read", "org.permission.company" },
        _ => new[] { "org.permission.kobject.read", "org.user.kobject.read", "org.permission.kobject" },
    };

    public static string[] Create(ObjectKind kind) => kind switch
    {
        ObjectKind.Customer => new[] { "org.permission.customer.create", "org.user.customer.write", "org.permission.customer" },
        ObjectKind.Company => new[] { "org.permission.company.create", "org.user.company.write", "org.permission.company" },
        _ => new[] { "org.permission.kobject.create", "org.user.kobject.write", "org.permission.kobject" },
    };

    public static string[] Update(ObjectKind kind) => kind switch
    {
        ObjectKind.Customer => new[] { "org.permission.customer.update", "org.user.customer.write", "org.permission.customer" },
        ObjectKind.Company => new[] { "org.permission.company.update", "org.user.company.write", "org.permission.company" },
        _ => new[] { "org.permission.kobject.update", "org.user.kobject.write", "org.permission.kobject" },
    };

    /// <summary>The roles listed in a GET /v1/auth/tokens/current answer's attributes.</summary>
    public static string[] FromToken(System.Text.Json.Nodes.JsonObject? attributes) =>
        (attributes?["roles"] as System.Text.Json.Nodes.JsonArray)?.Select(r => r?.ToString() ?? "").Where(r => r.Length > 0).ToArray() ?? Array.Empty<string>();

    public static bool HoldsAny(IEnumerable<string> held, IEnumerable<string> accepted)
    {
        var set = new HashSet<string>(held, StringComparer.OrdinalIgnoreCase);
        return accepted.Any(set.Contains);
    }

    /// <summary>What a key can do with one object; for each action it lacks, the first (preferred) role to add.</summary>
    public static ObjectAccess AccessTo(ObjectKind kind, IReadOnlyCollection<string> held)
    {
        var read = HoldsAny(held, Read(kind));
        var create = HoldsAny(held, Create(kind));
        var update = HoldsAny(held, Update(kind));
        var missing = new List<string>();
        if (!read) missing.Add(Read(kind)[0]);
        if (!create) missing.Add(Create(kind)[0]);
        if (!update) missing.Add(Update(kind)[0]);
        return new ObjectAccess { Object = DisplayName(kind), CanRead = read, CanCreate = create, CanUpdate = update, MissingRoles = missing.ToArray() };
    }

    private static string DisplayName(ObjectKind kind) => kind switch
    {
        ObjectKind.Customer => "Customer",
        ObjectKind.Company => "Company",
        _ => "kobject",
    };
}
