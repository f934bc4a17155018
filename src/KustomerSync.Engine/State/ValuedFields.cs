namespace KustomerSync.Engine.State;

/// <summary>TEMPORARY stand-in for hstate's contract (replaced at merge).</summary>
public sealed class ValuedFields
{
    private readonly HashSet<string> _set;
    private ValuedFields(string[] paths)
    {
        Paths = paths;
        _set = new HashSet<string>(paths, StringComparer.Ordinal);
        Stored = string.Join(",", paths);
    }
    public static ValuedFields Of(IEnumerable<string> fieldPaths) => new(fieldPaths.Distinct(StringComparer.Ordinal).OrderBy(p => p, StringComparer.Ordinal).ToArray());
    public static ValuedFields? Parse(string? stored) => stored is null || stored.Length == 0 ? null : Of(stored.Split(','));
    public string Stored { get; }
    public IReadOnlyList<string> Paths { get; }
    public bool Contains(string fieldPath) => _set.Contains(fieldPath);
}
