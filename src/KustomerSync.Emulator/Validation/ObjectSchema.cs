using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Validation;

/// <summary>
/// A closed object schema (<c>additionalProperties:false</c>): each known property has a rule, unknown
/// properties are rejected with a 400 naming them, required properties must be present.
/// </summary>
public sealed class ObjectSchema
{
    private readonly Dictionary<string, Rule> _rules = new(StringComparer.Ordinal);
    private readonly List<string> _required = [];
    private readonly Dictionary<string, string> _forbidden = new(StringComparer.Ordinal);

    public string What { get; }

    public ObjectSchema(string what) => What = what;

    public ObjectSchema Field(string name, Rule rule, bool required = false)
    {
        _rules[name] = rule;
        if (required) _required.Add(name);
        return this;
    }

    /// <summary>A field this schema refuses with its own reason (e.g. create-only fields on an update).</summary>
    public ObjectSchema Forbid(string name, string reason)
    {
        _rules.Remove(name);
        _required.Remove(name);
        _forbidden[name] = reason;
        return this;
    }

    public ObjectSchema Without(params string[] names)
    {
        var copy = new ObjectSchema(What);
        foreach (var (k, v) in _rules) if (!names.Contains(k)) copy._rules[k] = v;
        foreach (var (k, v) in _forbidden) copy._forbidden[k] = v;
        copy._required.AddRange(_required.Where(r => !names.Contains(r)));
        return copy;
    }

    public ObjectSchema Copy(string what, bool keepRequired = true)
    {
        var copy = new ObjectSchema(what);
        foreach (var (k, v) in _rules) copy._rules[k] = v;
        foreach (var (k, v) in _forbidden) copy._forbidden[k] = v;
        if (keepRequired) copy._required.AddRange(_required);
        return copy;
    }

    public IEnumerable<string> FieldNames => _rules.Keys;

    public void Validate(JsonObject obj, string pointer)
    {
        foreach (var (name, value) in obj)
        {
            if (_forbidden.TryGetValue(name, out var reason)) throw Rules.Invalid(Rules.Child(pointer, name), reason);
            if (!_rules.TryGetValue(name, out var rule))
                throw Rules.Invalid(Rules.Child(pointer, name),
                    $"is not a known {What} field (additional properties are not allowed; known fields: {string.Join(", ", _rules.Keys)})");
            rule(value, Rules.Child(pointer, name));
        }
        foreach (var name in _required)
            if (!obj.ContainsKey(name)) throw Rules.Invalid(Rules.Child(pointer, name), "is required");
    }
}
