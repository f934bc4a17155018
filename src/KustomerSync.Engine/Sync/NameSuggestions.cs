using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>The closest names to one that matched nothing, for "did you mean" hints.</summary>
public static class NameSuggestions
{
    /// <summary>" (did you mean 'x' or 'y'?)" with the one or two closest candidates, or "" when none is close.</summary>
    public static string DidYouMean(string name, IEnumerable<string> candidates)
    {
        static string Bare(string text) => new string(text.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
        // 'plan_code' for 'Plan' is far by edit distance but plainly the same idea: containment counts as close.
        var bare = Bare(name);
        var best = candidates.Select(n => (n, d: Bare(n) is { Length: > 2 } b && (bare.Contains(b) || b.Contains(bare)) ? 1 : ObjectSchema.Distance(name, n)))
            .Where(x => x.d <= Math.Max(2, name.Length / 3)).OrderBy(x => x.d).ThenBy(x => x.n, StringComparer.Ordinal).Take(2).Select(x => "'" + x.n + "'").ToList();
        return best.Count == 0 ? "" : $" (did you mean {string.Join(" or ", best)}?)";
    }
}
