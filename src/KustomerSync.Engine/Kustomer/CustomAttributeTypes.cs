namespace KustomerSync.Engine.Kustomer;

/// <summary>Custom attribute types follow from the system name's suffix (kustomer-api.md §7).</summary>
public static class CustomAttributeTypes
{
    private static readonly (string Suffix, FieldType Type)[] Suffixes =
    {
        ("Str", FieldType.String), ("Txt", FieldType.Text), ("Num", FieldType.Number), ("At", FieldType.DateTime),
        ("Bool", FieldType.Bool), ("Url", FieldType.Url), ("Id", FieldType.ObjectId), ("Tree", FieldType.Tree),
    };

    public static bool TryFromSuffix(string name, out FieldType type)
    {
        foreach (var (suffix, candidate) in Suffixes)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal) && char.IsLower(name[0]))
            {
                type = candidate;
                return true;
            }
        }
        type = FieldType.String;
        return false;
    }

    public static string SuffixOf(FieldType type) => Suffixes.First(s => s.Type == type).Suffix;

    public static int MaxLength(FieldType type) => type is FieldType.String or FieldType.Text ? 1024 : 0;
}
