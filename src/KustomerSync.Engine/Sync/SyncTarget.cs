using System.Text.RegularExpressions;

namespace KustomerSync.Engine.Sync;

/// <summary>The kind of Kustomer record a sync writes: Customer, Company, or a KObject of one Klass.</summary>
public sealed class SyncTarget
{
    private static readonly Regex KlassName = new("^[A-Za-z0-9_-]+$", RegexOptions.Compiled);

    private SyncTarget(string kind, string? klass)
    {
        Kind = kind;
        Klass = klass;
    }

    public static SyncTarget Customer { get; } = new("customer", null);
    public static SyncTarget Company { get; } = new("company", null);

    /// <summary>customer, company or kobject.</summary>
    public string Kind { get; }
    public string? Klass { get; }

    public string DisplayName => Kind switch { "customer" => "Customer", "company" => "Company", _ => "kobject." + Klass };
    public string CollectionPath => Kind switch { "customer" => "customers", "company" => "companies", _ => "klasses/" + Klass };
    public string MetadataResource => Kind == "kobject" ? "kobject." + Klass : Kind;
    /// <summary>The prefix of this object's attributes in search criteria (customer_, company_, kobject_).</summary>
    public string SearchContext => Kind == "kobject" ? "kobject_" + Klass : Kind;
    public string SearchCustomPrefix => Kind == "kobject" ? $"kobject_custom_{Klass}_" : $"{Kind}_custom_";

    /// <summary>Customer, Company or kobject.&lt;klass&gt; (case-insensitive).</summary>
    public static SyncTarget Parse(string text)
    {
        var value = (text ?? "").Trim();
        if (value.Equals("Customer", StringComparison.OrdinalIgnoreCase) || value.Equals("Customers", StringComparison.OrdinalIgnoreCase)) return Customer;
        if (value.Equals("Company", StringComparison.OrdinalIgnoreCase) || value.Equals("Companies", StringComparison.OrdinalIgnoreCase)) return Company;
        if (value.StartsWith("kobject.", StringComparison.OrdinalIgnoreCase))
        {
            var klass = value.Substring("kobject.".Length);
            if (KlassName.IsMatch(klass)) return new SyncTarget("kobject", klass);
        }
        throw new ArgumentException($"'{text}' is not an object Kustomer syncs. Use Customer, Company or kobject.<klass> (for example kobject.order).");
    }

    public override string ToString() => DisplayName;
}
