using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;

namespace KustomerSync.Cmdlets.Completion;

/// <summary>One value a completer may offer, with the text shown in the menu and its tooltip.</summary>
internal readonly record struct CompletionItem(string Value, string Tooltip);

/// <summary>
/// What the completers share: matching the word being completed, quoting, and a per-destination cache of what the
/// org told us (klasses, custom attributes), kept for a minute so that pressing Tab again costs no request.
/// </summary>
internal static class CompletionHelpers
{
    /// <summary>How long an org's klasses and custom attributes are reused.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(1);

    /// <summary>How long a failed lookup is remembered, so a dead network does not stall every Tab press.</summary>
    public static readonly TimeSpan FailureLifetime = TimeSpan.FromSeconds(15);

    /// <summary>The most a completer waits for Kustomer; after that it offers what it knows without the org.</summary>
    public static readonly TimeSpan RequestBudget = TimeSpan.FromSeconds(3);

    private static readonly ConcurrentDictionary<string, (DateTime Expires, IReadOnlyList<CompletionItem> Items)> Cache = new(StringComparer.Ordinal);

    /// <summary>The cached items for <paramref name="key"/>, or the result of <paramref name="load"/> (null = failed).</summary>
    public static IReadOnlyList<CompletionItem> Cached(string key, Func<IReadOnlyList<CompletionItem>?> load)
    {
        var now = DateTime.UtcNow;
        if (Cache.TryGetValue(key, out var hit) && hit.Expires > now) return hit.Items;
        IReadOnlyList<CompletionItem>? items;
        try
        {
            items = load();
        }
        catch (Exception)
        {
            items = null;
        }
        Cache[key] = items is null ? (now + FailureLifetime, Array.Empty<CompletionItem>()) : (now + CacheLifetime, items);
        return items ?? Array.Empty<CompletionItem>();
    }

    /// <summary>Forgets everything cached (tests, and a reconnect under the same name).</summary>
    public static void ClearCache() => Cache.Clear();

    /// <summary>The word without the quote the user may have opened it with.</summary>
    public static string Unquote(string? wordToComplete) => (wordToComplete ?? "").Trim().Trim('\'', '"');

    /// <summary>The completion results for the items whose value starts with the word (case-insensitive).</summary>
    public static IEnumerable<CompletionResult> Complete(IEnumerable<CompletionItem> items, string? wordToComplete, Func<CompletionItem, bool>? alsoMatches = null)
    {
        var word = Unquote(wordToComplete);
        var quote = (wordToComplete ?? "").TrimStart().StartsWith("\"", StringComparison.Ordinal) ? '"' : '\'';
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items)
        {
            var matches = item.Value.StartsWith(word, StringComparison.OrdinalIgnoreCase) || alsoMatches?.Invoke(item) == true;
            if (!matches || !seen.Add(item.Value)) continue;
            yield return new CompletionResult(Quote(item.Value, quote, (wordToComplete ?? "").Length > word.Length), item.Value,
                CompletionResultType.ParameterValue, string.IsNullOrEmpty(item.Tooltip) ? item.Value : item.Tooltip);
        }
    }

    /// <summary>Quotes a value when the user opened a quote or PowerShell would not read it as one bare word.</summary>
    public static string Quote(string value, char quote = '\'', bool force = false)
    {
        var bare = value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || c is '.' or '_' or '-' or ':') && value[0] != '-';
        if (bare && !force) return value;
        return quote == '"' ? "\"" + value.Replace("\"", "`\"").Replace("$", "`$") + "\"" : "'" + value.Replace("'", "''") + "'";
    }

    /// <summary>A bound parameter's value as text, when PowerShell could work it out while completing.</summary>
    public static string? BoundText(IDictionary? fakeBoundParameters, string name)
    {
        if (fakeBoundParameters is null || !fakeBoundParameters.Contains(name)) return null;
        var value = fakeBoundParameters[name];
        if (value is PSObject ps) value = ps.BaseObject;
        return value switch
        {
            null => null,
            string s => s,
            _ => value.ToString(),
        };
    }
}
