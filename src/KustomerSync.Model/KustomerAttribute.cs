namespace KustomerSync;

/// <summary>
/// One field of a Kustomer object as Get-KustomerSchema lists it: a custom attribute of the org (custom.&lt;name&gt;,
/// typed by its suffix) or, with -Standard, a standard writable field that the mapper accepts (name, externalId, ...).
/// </summary>
public sealed class KustomerAttribute
{
    /// <summary>The destination the schema was read from.</summary>
    public string? Destination { get; set; }

    /// <summary>Customer, Company or kobject.&lt;klass&gt;.</summary>
    public string Object { get; set; } = "";

    /// <summary>The system name (tierStr, lastOrderAt; externalId for a standard field): what the API, search and -SyncKey use.</summary>
    public string Name { get; set; } = "";

    /// <summary>The path a -Mapping key takes: custom.&lt;name&gt; for custom attributes, the name for standard fields.</summary>
    public string Path { get; set; } = "";

    /// <summary>String, Text, Number, DateTime, Bool, Url, ObjectId or Tree for custom attributes (from the suffix); standard fields may also be Email, Phone, Tags, Json.</summary>
    public string Type { get; set; } = "";

    /// <summary>The name's suffix (Str, Txt, Num, At, Bool, Url, Id, Tree); null for standard fields.</summary>
    public string? Suffix { get; set; }

    /// <summary>The name shown in Kustomer's UI (custom attributes), or a short description (standard fields).</summary>
    public string? DisplayName { get; set; }

    /// <summary>The values a Str attribute accepts when the org restricts it; empty when any value goes.</summary>
    public string[] Enumeration { get; set; } = Array.Empty<string>();

    /// <summary>For a Tree attribute: the node ids a value may take (emea, emea.uk, ...); empty otherwise.</summary>
    public string[] TreeValues { get; set; } = Array.Empty<string>();

    /// <summary>For an Id attribute: the object type its value must reference (user, kobject.order, ...), when the metadata says.</summary>
    public string? Target { get; set; }

    /// <summary>For an Id attribute: true when it takes several ids.</summary>
    public bool Multi { get; set; }

    /// <summary>The longest string Kustomer accepts; null when it sets no length limit.</summary>
    public int? MaxLength { get; set; }

    /// <summary>True for the org's custom attributes, false for standard fields.</summary>
    public bool IsCustom { get; set; }

    public override string ToString() => Path;
}
