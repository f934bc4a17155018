using System.Globalization;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// What Kustomer showed of a customer right after a write the sync confirmed: its revision, its updatedAt and the
/// company it is linked to. A later search hit that shows the same revision and updatedAt shows a record nobody changed
/// since, so the remembered link is still its link, and an update can carry it without reading the record first
/// (kustomer-api.md §4.2: an update that omits the company unlinks it; §8: a hit need not show the link).
/// </summary>
/// <param name="CompanyId">The linked company's id; null when the customer has no company.</param>
public sealed record RecordStamp(long Rev, string UpdatedAt, string? CompanyId)
{
    /// <summary>The stamp as the state store keeps it: <c>rev|updatedAt|companyId</c>.</summary>
    public string Format() => string.Concat(Rev.ToString(CultureInfo.InvariantCulture), "|", UpdatedAt, "|", CompanyId);

    /// <summary>A stamp <see cref="Format"/> wrote; null for anything else (none kept, or kept by another version).</summary>
    public static RecordStamp? Parse(string? text)
    {
        var parts = text?.Split('|');
        if (parts is not { Length: 3 } || parts[1].Length == 0 ||
            !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var rev)) return null;
        return new RecordStamp(rev, parts[1], parts[2].Length == 0 ? null : parts[2]);
    }

    /// <summary>The stamp of a record read whole or written (its answer), when it shows a revision, an updatedAt and its link.</summary>
    public static RecordStamp? Of(FoundRecord record) =>
        record is { Rev: { } rev, UpdatedAt: { Length: > 0 } updatedAt, CompanyKnown: true } && updatedAt.IndexOf('|') < 0 && record.CompanyId?.IndexOf('|') is null or < 0
            ? new RecordStamp(rev, updatedAt, record.CompanyId)
            : null;

    /// <summary>True when <paramref name="hit"/> shows this very revision and updatedAt: the record is as it was stamped.</summary>
    public bool Stamps(FoundRecord hit) => hit.Rev == Rev && string.Equals(hit.UpdatedAt, UpdatedAt, StringComparison.Ordinal);
}
