using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources;

/// <summary>What to read: a query with bound parameters against one provider.</summary>
public sealed class SourceQuery
{
    public SourceQuery(string query)
    {
        Query = query;
    }

    public string Query { get; }

    /// <summary>Parameters by name (without prefix). Enumerated in the order they were added.</summary>
    public IDictionary<string, object?> Parameters { get; } = new OrderedParameters();

    /// <summary>
    /// True when the caller's parameter order is meaningful (an ordered dictionary, or at most one entry); providers that
    /// bind by position (Snowflake, Elasticsearch) refuse several unordered parameters unless they are named 1, 2, 3...
    /// </summary>
    public bool ParametersOrdered { get; set; } = true;

    public TimeSpan? CommandTimeout { get; set; }

    /// <summary>
    /// The parameters in binding order for providers that bind by position: keys 1..n by number when every key is a
    /// number, otherwise the order they were given in (which must be meaningful).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object?>> PositionalParameters(string provider)
    {
        var list = Parameters.ToList();
        if (list.Count == 0) return list;
        if (list.All(p => int.TryParse(p.Key, out _)))
        {
            var ordered = list.OrderBy(p => int.Parse(p.Key)).ToList();
            for (var i = 0; i < ordered.Count; i++)
                if (int.Parse(ordered[i].Key) != i + 1)
                    throw SourceErrors.Invalid(ErrorIds.SourceInvalidParameter,
                        $"{provider} binds parameters by position (?): numbered keys must run 1..{ordered.Count} without gaps; got {string.Join(", ", list.Select(p => p.Key))}.");
            return ordered;
        }
        if (list.Count > 1 && !ParametersOrdered)
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidParameter,
                $"{provider} binds parameters by position (?), and these parameters have no order: give them in order (an ordered dictionary) or name the keys 1, 2, 3.");
        return list;
    }
}

/// <summary>A case-insensitive dictionary that remembers insertion order.</summary>
internal sealed class OrderedParameters : IDictionary<string, object?>
{
    private readonly List<string> _order = new();
    private readonly Dictionary<string, object?> _values = new(StringComparer.OrdinalIgnoreCase);

    public object? this[string key]
    {
        get => _values[key];
        set
        {
            if (!_values.ContainsKey(key)) _order.Add(key);
            _values[key] = value;
        }
    }

    public ICollection<string> Keys => _order.ToList();
    public ICollection<object?> Values => _order.Select(k => _values[k]).ToList();
    public int Count => _order.Count;
    public bool IsReadOnly => false;
    public void Add(string key, object? value)
    {
        _values.Add(key, value);
        _order.Add(key);
    }
    public void Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);
    public void Clear()
    {
        _values.Clear();
        _order.Clear();
    }
    public bool Contains(KeyValuePair<string, object?> item) => _values.TryGetValue(item.Key, out var v) && Equals(v, item.Value);
    public bool ContainsKey(string key) => _values.ContainsKey(key);
    public void CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex)
    {
        foreach (var pair in this) array[arrayIndex++] = pair;
    }
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        foreach (var key in _order) yield return new KeyValuePair<string, object?>(key, _values[key]);
    }
    public bool Remove(string key)
    {
        if (!_values.Remove(key)) return false;
        _order.RemoveAll(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
        return true;
    }
    public bool Remove(KeyValuePair<string, object?> item) => Contains(item) && Remove(item.Key);
    public bool TryGetValue(string key, out object? value) => _values.TryGetValue(key, out value);
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
