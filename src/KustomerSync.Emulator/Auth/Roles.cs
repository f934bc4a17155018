namespace KustomerSync.Emulator.Auth;

/// <summary>Role names (§3, §12) and the rule deciding whether a key's role satisfies a route's role.</summary>
public static class Roles
{
    /// <summary>The eight roles Census asks for; <c>emulator-key</c> holds exactly these.</summary>
    public static readonly IReadOnlyList<string> Census =
    [
        "org.admin.klass.read",
        "org.user.kobject.read",
        "org.admin.metadata.read",
        "org.admin.search.read",
        "org.user.customer.write",
        "org.user.kobject.write",
        "org.permission.customer",
        "org.permission.company",
    ];

    public const string Bulk = "org.permission.bulk";

    /// <summary>Every role any emulator route lists, plus the umbrella roles; <c>emulator-admin-key</c> holds these.</summary>
    public static IReadOnlyList<string> All => RouteRoles.AllListedRoles
        .Concat(Census).Append(Bulk)
        .Append("org.permission.klass").Append("org.permission.kobject").Append("org.permission.metadata")
        .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// True when <paramref name="held"/> satisfies <paramref name="required"/>: equal, or
    /// <paramref name="held"/> is a suffix-less umbrella permission <c>org.permission.&lt;object&gt;</c>
    /// (exactly three segments) and <paramref name="required"/> is <c>org.permission.&lt;object&gt;.&lt;…&gt;</c>.
    /// So <c>org.permission.customer</c> covers customer read/create/update/delete, and
    /// <c>org.permission.bulk</c> covers <c>org.permission.bulk.read</c>. Legacy roles cover nothing but themselves.
    /// </summary>
    public static bool Satisfies(string held, string required)
    {
        if (string.Equals(held, required, StringComparison.Ordinal)) return true;
        if (!held.StartsWith("org.permission.", StringComparison.Ordinal)) return false;
        if (held.Count(c => c == '.') != 2) return false;
        return required.Length > held.Length + 1
            && required.StartsWith(held, StringComparison.Ordinal)
            && required[held.Length] == '.';
    }

    public static bool AnySatisfied(IReadOnlyCollection<string> held, IEnumerable<string> required)
    {
        foreach (var r in required)
            foreach (var h in held)
                if (Satisfies(h, r)) return true;
        return false;
    }
}
