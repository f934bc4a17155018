namespace KustomerSync.Engine.Kustomer;

public enum RecordKeyKind
{
    ExternalId,
    Email,
    CustomAttribute,
}

/// <summary>What identifies a record of one object in Kustomer: its externalId, its email, or a custom attribute.</summary>
public sealed record RecordKey
{
    private RecordKey(RecordKeyKind kind, string? attribute)
    {
        Kind = kind;
        Attribute = attribute;
    }

    public RecordKeyKind Kind { get; }

    /// <summary>The custom attribute's system name for <see cref="RecordKeyKind.CustomAttribute"/>.</summary>
    public string? Attribute { get; }

    /// <summary>The mapped field that carries the key: externalId, email or custom.&lt;attribute&gt;.</summary>
    public string FieldPath => Kind switch
    {
        RecordKeyKind.ExternalId => "externalId",
        RecordKeyKind.Email => "email",
        _ => "custom." + Attribute,
    };

    public string DisplayName => Kind switch
    {
        RecordKeyKind.ExternalId => "ExternalId",
        RecordKeyKind.Email => "Email",
        _ => "custom." + Attribute,
    };

    /// <summary>Emails are compared case-insensitively, as Kustomer does; other keys exactly.</summary>
    public StringComparer Comparer => Kind == RecordKeyKind.Email ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>ExternalId, Email, or a custom attribute (tierStr or custom.tierStr), as the object allows.</summary>
    public static RecordKey Parse(string text, KustomerObject target)
    {
        var value = (text ?? "").Trim();
        RecordKey key;
        if (value.Equals("ExternalId", StringComparison.OrdinalIgnoreCase)) key = new RecordKey(RecordKeyKind.ExternalId, null);
        else if (value.Equals("Email", StringComparison.OrdinalIgnoreCase)) key = new RecordKey(RecordKeyKind.Email, null);
        else
        {
            var attribute = value.StartsWith("custom.", StringComparison.OrdinalIgnoreCase) ? value.Substring(7) : value;
            if (attribute.Length == 0 || !char.IsLetter(attribute[0]))
                throw new ArgumentException($"'{text}' is not a sync key. Use ExternalId, Email (customers only) or a custom attribute's system name.");
            key = new RecordKey(RecordKeyKind.CustomAttribute, attribute);
        }

        if (key.Kind == RecordKeyKind.Email && target.Kind != ObjectKind.Customer)
            throw new ArgumentException($"{target.DisplayName} records cannot be matched by Email; use ExternalId or a custom attribute.");
        if (key.Kind == RecordKeyKind.CustomAttribute && target.Kind == ObjectKind.KObject)
            throw new ArgumentException($"{target.DisplayName} records are matched by ExternalId only.");
        return key;
    }

    public override string ToString() => DisplayName;
}
