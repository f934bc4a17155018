using System.Text.RegularExpressions;

namespace KustomerSync.Engine.Kustomer;

/// <summary>A kind of Kustomer record: Customer, Company, or a KObject of one Klass.</summary>
public sealed record KustomerObject
{
    private static readonly Regex KlassName = new("^[A-Za-z0-9_-]+$", RegexOptions.Compiled);

    private KustomerObject(ObjectKind kind, string? klass)
    {
        Kind = kind;
        Klass = klass;
    }

    public static KustomerObject Customer { get; } = new(ObjectKind.Customer, null);
    public static KustomerObject Company { get; } = new(ObjectKind.Company, null);

    public ObjectKind Kind { get; }
    /// <summary>The Klass's name for a KObject; null otherwise.</summary>
    public string? Klass { get; }

    public string DisplayName => Kind switch { ObjectKind.Customer => "Customer", ObjectKind.Company => "Company", _ => "kobject." + Klass };
    public string CollectionPath => Kind switch { ObjectKind.Customer => "customers", ObjectKind.Company => "companies", _ => "klasses/" + Klass };
    /// <summary>The resource name Kustomer's metadata and search use: customer, company or kobject.&lt;klass&gt;.</summary>
    public string MetadataResource => Kind switch { ObjectKind.Customer => "customer", ObjectKind.Company => "company", _ => "kobject." + Klass };
    /// <summary>The prefix of this object's attributes in search criteria (customer_, company_, kobject_).</summary>
    public string SearchContext => Kind switch { ObjectKind.Customer => "customer", ObjectKind.Company => "company", _ => "kobject_" + Klass };
    public string SearchCustomPrefix => Kind == ObjectKind.KObject ? $"kobject_custom_{Klass}_" : SearchContext + "_custom_";

    /// <summary>Customer, Company or kobject.&lt;klass&gt; (case-insensitive).</summary>
    public static KustomerObject Parse(string text)
    {
        var value = (text ?? "").Trim();
        if (value.Equals("Customer", StringComparison.OrdinalIgnoreCase) || value.Equals("Customers", StringComparison.OrdinalIgnoreCase)) return Customer;
        if (value.Equals("Company", StringComparison.OrdinalIgnoreCase) || value.Equals("Companies", StringComparison.OrdinalIgnoreCase)) return Company;
        if (value.StartsWith("kobject.", StringComparison.OrdinalIgnoreCase))
        {
            var klass = value.Substring("kobject.".Length);
            if (KlassName.IsMatch(klass)) return new KustomerObject(ObjectKind.KObject, klass);
        }
        throw new ArgumentException($"'{text}' is not an object Kustomer syncs. Use Customer, Company or kobject.<klass> (for example kobject.order).");
    }

    public override string ToString() => DisplayName;
}
