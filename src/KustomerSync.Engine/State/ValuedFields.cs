namespace KustomerSync.Engine.State;

/// <summary>
/// The fields that held a value in the payload Kustomer last confirmed for a key (paths such as <c>name</c>,
/// <c>phones</c>, <c>custom.tierStr</c>): what a run compares with to tell that a source suddenly clears a column.
/// Immutable. A session shares one instance among the keys whose sets are equal (few distinct sets, many keys).
/// </summary>
public sealed class ValuedFields : IEquatable<ValuedFields>
{
    private const char Separator = ',';

    private readonly string[] _paths;

    private ValuedFields(string[] paths)
    {
        _paths = paths;
        Stored = string.Join(Separator.ToString(), paths);
    }

    /// <summary>The set of <paramref name="fieldPaths"/>: distinct, in ordinal order.</summary>
    /// <exception cref="ArgumentException">A path is empty or holds a comma (the stored form's separator).</exception>
    public static ValuedFields Of(IEnumerable<string> fieldPaths)
    {
        if (fieldPaths is null) throw new ArgumentNullException(nameof(fieldPaths));
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in fieldPaths)
        {
            if (string.IsNullOrEmpty(path) || path.IndexOf(Separator) >= 0)
                throw new ArgumentException($"The field path '{path}' cannot be stored: a field path is not empty and holds no '{Separator}'.", nameof(fieldPaths));
            paths.Add(path);
        }
        return new ValuedFields(paths.ToArray());
    }

    /// <summary>The set stored as <paramref name="stored"/> (<see cref="Stored"/>); null for a null or empty column: not known.</summary>
    /// <remarks>The empty set is stored as empty text and so reads back as not known; it has no field to count either way.</remarks>
    public static ValuedFields? Parse(string? stored) =>
        string.IsNullOrEmpty(stored) ? null : Of(stored!.Split(Separator));

    /// <summary>The column text: the paths joined by ','.</summary>
    public string Stored { get; }

    /// <summary>The paths, distinct, in ordinal order.</summary>
    public IReadOnlyList<string> Paths => _paths;

    public bool Contains(string fieldPath) => fieldPath is not null && Array.BinarySearch(_paths, fieldPath, StringComparer.Ordinal) >= 0;

    public bool Equals(ValuedFields? other) => other is not null && string.Equals(Stored, other.Stored, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as ValuedFields);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Stored);

    public override string ToString() => Stored;
}
