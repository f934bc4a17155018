namespace KustomerSync.Engine.Kustomer;

/// <summary>One writable field: a standard attribute (name, externalId, ...) or a custom one (custom.tierStr).</summary>
/// <param name="Path">name, externalId, email, phone, company, custom.tierStr, ...</param>
/// <param name="MaxLength">0 when Kustomer sets no length limit.</param>
public sealed record FieldSpec(string Path, FieldType Type, int MaxLength = 0, string? DisplayName = null)
{
    /// <summary>A field that names another record by its key; its value is resolved to that record's id.</summary>
    public static FieldSpec Reference(string path, string field, KustomerObject target, RecordKeyKind by, string displayName) =>
        new(path, by == RecordKeyKind.Email ? FieldType.Email : FieldType.String, 256, displayName) { ReferenceField = field, ReferenceTarget = target, ReferenceBy = by };

    /// <summary>For a reference: the field that receives the resolved id (company, customer).</summary>
    public string? ReferenceField { get; private init; }
    public KustomerObject? ReferenceTarget { get; private init; }
    public RecordKeyKind ReferenceBy { get; private init; }

    /// <summary>More than 0: Kustomer takes no shorter value and no null (a company's name).</summary>
    public int MinLength { get; init; }
    public bool IsCustom => Path.StartsWith("custom.", StringComparison.Ordinal);
    /// <summary>The attribute name without the custom. prefix.</summary>
    public string Name => IsCustom ? Path.Substring(7) : Path;
}
