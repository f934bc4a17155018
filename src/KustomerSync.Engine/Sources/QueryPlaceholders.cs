namespace KustomerSync.Engine.Sources;

/// <summary>
/// Finds named placeholders (@name, :name) in a query's text, outside string literals, quoted identifiers and
/// comments, so that a parameter the query uses but -Parameters lacks can be named in the error.
/// </summary>
public static class QueryPlaceholders
{
    public static IReadOnlyList<string> Find(string sql, char prefix)
    {
        var found = new List<string>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c is '\'' or '"' or '`')
            {
                i = SkipQuoted(sql, i, c);
                continue;
            }
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n') i++;
                continue;
            }
            if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
                continue;
            }
            if (c == prefix && i + 1 < sql.Length && IsStart(sql[i + 1]) && (i == 0 || (sql[i - 1] != prefix && !IsPart(sql[i - 1]))))
            {
                var start = i + 1;
                var j = start;
                while (j < sql.Length && IsPart(sql[j])) j++;
                var name = sql.Substring(start, j - start);
                if (!found.Contains(name, StringComparer.OrdinalIgnoreCase)) found.Add(name);
                i = j;
                continue;
            }
            i++;
        }
        return found;
    }

    /// <summary>How many positional '?' placeholders the query has, outside literals and comments.</summary>
    public static int CountPositional(string sql)
    {
        var count = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c is '\'' or '"' or '`') { i = SkipQuoted(sql, i, c); continue; }
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-') { while (i < sql.Length && sql[i] != '\n') i++; continue; }
            if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
                continue;
            }
            if (c == '?') count++;
            i++;
        }
        return count;
    }

    /// <summary>A missing-parameter error when the query has more '?' than parameters were given.</summary>
    public static void RequirePositional(string provider, string sql, int supplied)
    {
        var used = CountPositional(sql);
        if (used <= supplied) return;
        var missing = Enumerable.Range(supplied + 1, used - supplied).Select(n => $"?{n} (the {Ordinal(n)} '?')").ToList();
        throw SourceErrors.Missing(provider, missing, null);
    }

    /// <summary>A missing-parameter error when the query names placeholders that the parameters lack.</summary>
    public static void RequireNamed(string provider, string sql, char prefix, IEnumerable<string> supplied)
    {
        var missing = Missing(sql, prefix, supplied);
        if (missing.Count > 0) throw SourceErrors.Missing(provider, missing, null);
    }

    private static string Ordinal(int n) => n switch
    {
        1 => "1st",
        2 => "2nd",
        3 => "3rd",
        _ => n + "th",
    };

    /// <summary>The placeholders of the query that the supplied parameters do not cover, with their prefix.</summary>
    public static IReadOnlyList<string> Missing(string sql, char prefix, IEnumerable<string> supplied)
    {
        var names = new HashSet<string>(supplied.Select(s => s.TrimStart('@', ':', '$', '?')), StringComparer.OrdinalIgnoreCase);
        return Find(sql, prefix).Where(n => !names.Contains(n)).Select(n => prefix + n).ToList();
    }

    private static int SkipQuoted(string sql, int i, char quote)
    {
        i++;
        while (i < sql.Length)
        {
            if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote) { i += 2; continue; }
                return i + 1;
            }
            if (sql[i] == '\\' && quote != '"') { i += 2; continue; }
            i++;
        }
        return i;
    }

    private static bool IsStart(char c) => char.IsLetter(c) || c == '_';
    private static bool IsPart(char c) => char.IsLetterOrDigit(c) || c == '_';
}
