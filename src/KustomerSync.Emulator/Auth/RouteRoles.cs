namespace KustomerSync.Emulator.Auth;

/// <summary>
/// Endpoint metadata: the roles of which ANY one grants access to a route (§3 role tables).
/// A <c>{klass}</c> placeholder is replaced with the route's klass name (per-klass kobject roles).
/// An empty list means "any valid key" (GET /v1/auth/tokens/current).
/// </summary>
public sealed class RouteRoles(params string[] roles)
{
    public IReadOnlyList<string> Roles { get; } = roles;

    public IEnumerable<string> Resolve(RouteValueDictionary values)
    {
        foreach (var role in Roles)
        {
            if (role.Contains("{klass}", StringComparison.Ordinal))
            {
                if (values.TryGetValue("name", out var klass) && klass is string k)
                    yield return role.Replace("{klass}", k, StringComparison.Ordinal);
            }
            else yield return role;
        }
    }

    // Role tables (permission-set roles first, then legacy roles).
    public static readonly RouteRoles AnyKey = new();
    public static readonly RouteRoles CustomerRead = new("org.permission.customer.read", "org.user.customer.read");
    public static readonly RouteRoles CustomerCreate = new("org.permission.customer.create", "org.user.customer.write");
    public static readonly RouteRoles CustomerUpdate = new("org.permission.customer.update", "org.user.customer.write");
    public static readonly RouteRoles CustomerDelete = new("org.permission.customer.delete", "org.user.customer.delete", "org.admin.customer.delete");
    public static readonly RouteRoles Search = new(
        "org.permission.search.create", "org.permission.search.update", "org.permission.search_global.create",
        "org.permission.search_preview.create", "org.user.search.read", "org.admin.search.read");
    public static readonly RouteRoles CompanyRead = new("org.permission.company.read", "org.user.company.read");
    public static readonly RouteRoles CompanyCreate = new("org.permission.company.create", "org.user.company.write");
    public static readonly RouteRoles CompanyUpdate = new("org.permission.company.update", "org.user.company.write");
    public static readonly RouteRoles KlassRead = new("org.permission.klass.read", "org.user.klass.read", "org.admin.klass.read");
    public static readonly RouteRoles KlassCreate = new("org.permission.klass.create", "org.admin.klass.write");
    public static readonly RouteRoles KObjectRead = new("org.permission.kobject.read", "org.permission.kobject.kobject_{klass}.read", "org.user.kobject.read");
    public static readonly RouteRoles KObjectCreate = new("org.permission.kobject.create", "org.permission.kobject.kobject_{klass}.create", "org.user.kobject.write");
    public static readonly RouteRoles KObjectUpdate = new("org.permission.kobject.update", "org.permission.kobject.kobject_{klass}.update", "org.user.kobject.write");
    public static readonly RouteRoles KObjectDelete = new("org.permission.kobject.delete", "org.permission.kobject.kobject_{klass}.delete", "org.user.kobject.delete");
    public static readonly RouteRoles MetadataRead = new("org.permission.metadata.read", "org.user.metadata.read", "org.admin.metadata.read");
    public static readonly RouteRoles MetadataUpdate = new("org.permission.metadata.update", "org.admin.metadata.write");
    public static readonly RouteRoles BulkRead = new("org.permission.bulk.read", "org.user.bulk.read");

    internal static IEnumerable<string> AllListedRoles =>
        new[]
        {
            CustomerRead, CustomerCreate, CustomerUpdate, CustomerDelete, Search, CompanyRead, CompanyCreate, CompanyUpdate,
            KlassRead, KlassCreate, KObjectRead, KObjectCreate, KObjectUpdate, KObjectDelete, MetadataRead, MetadataUpdate, BulkRead,
        }.SelectMany(r => r.Roles).Where(r => !r.Contains('{', StringComparison.Ordinal));
}
