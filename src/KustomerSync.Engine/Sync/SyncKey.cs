namespace KustomerSync.Engine.Sync;

public enum SyncKeyKind
{
    ExternalId,
    Email,
    CustomAttribute,
}

/// <summary>How input rows are matched to Kustomer records.</summary>
public sealed class SyncKey
{
    private SyncKey(SyncKeyKind kind, string? attribute)
    {
        Kind = kind;
        Attribute = attribute;
    }

    public SyncKeyKind Kind { get; }

    /// <summary>The custom attribute's system name for <see cref="SyncKeyKind.CustomAttribute"/>.</summary>
    public string? Attribute { get; }

    /// <summary>The mapped field that carries the key: externalId, email or custom.&lt;attribute&gt;.</summary>
    public string FieldPath => Kind switch
    {
        SyncKeyKind.ExternalId => "externalId",
        SyncKeyKind.Email => "email",
        _ => "custom." + Attribute,
    };

    public string DisplayName => Kind switch
    {
        SyncKeyKind.ExternalId => "ExternalId",
        SyncKeyKind.Email => "Email",
        _ => "custom." + Attribute,
    };

    /// <summary>Emails are compared case-insensitively, as Kustomer does; other keys exactly.</summary>
    public StringComparer Comparer => Kind == SyncKeyKind.Email ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>ExternalId, Email, or a custom attribute (tierStr or custom.tierStr), as the object allows.</summary>
    public static SyncKey Parse(string text, SyncTarget target)
    {
        var value = (text ?? "").Trim();
        SyncKey key;
        if (value.Equals("ExternalId", StringComparison.OrdinalIgnoreCase)) key = new SyncKey(SyncKeyKind.ExternalId, null);
        else if (value.Equals("Email", StringComparison.OrdinalIgnoreCase)) key = new SyncKey(SyncKeyKind.Email, null);
        else
        {
            var attribute = value.StartsWith("custom.", StringComparison.OrdinalIgnoreCase) ? value.Substring(7) : value;
            if (attribute.Length == 0 || !char.IsLetter(attribute[0]))
                throw new ArgumentException($"'{text}' is not a sync key. Use ExternalId, Email (customers only) or a custom attribute's system name.");
            key = new SyncKey(SyncKeyKind.CustomAttribute, attribute);
        }

        if (key.Kind == SyncKeyKind.Email && target.Kind != "customer")
            throw new ArgumentException($"{target.DisplayName} records cannot be matched by Email; use ExternalId or a custom attribute.");
        if (key.Kind == SyncKeyKind.CustomAttribute && target.Kind == "kobject")
            throw new ArgumentException($"{target.DisplayName} records are matched by ExternalId only.");
        return key;
    }

    public override string ToString() => DisplayName;
}
