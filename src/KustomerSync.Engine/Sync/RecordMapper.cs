using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Maps rows to Kustomer bodies: explicit rules first, then every other column whose name is a Kustomer field or a
/// custom attribute's system name. Values are converted to what each field's type demands; a value that cannot be
/// converted makes the row invalid with a message naming the key and the column.
/// </summary>
public sealed class RecordMapper
{
    private readonly ObjectSchema _schema;
    private readonly RecordKey _key;
    private readonly IReadOnlyList<MappingRule> _explicit;
    private readonly bool _skipNull;
    private readonly Dictionary<string, ShapePlan> _plans = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _unmapped = new(StringComparer.OrdinalIgnoreCase);

    public RecordMapper(ObjectSchema schema, RecordKey key, IReadOnlyList<MappingRule> explicitRules, bool skipNull)
    {
        _schema = schema;
        _key = key;
        _skipNull = skipNull;
        var problems = new List<string>();
        foreach (var rule in explicitRules)
        {
            if (schema.Find(rule.Target) is null)
            {
                var suggestions = schema.Suggest(rule.Target);
                problems.Add($"'{rule.Target}' is not a writable {schema.Target.DisplayName} field" +
                    (suggestions.Count > 0 ? $" (did you mean {string.Join(", ", suggestions.Select(s => "'" + s + "'"))}?)" : ""));
            }
        }
        if (problems.Count > 0)
            throw new MappingException($"The mapping names {(problems.Count == 1 ? "a field" : problems.Count + " fields")} Kustomer does not have: {string.Join("; ", problems)}.");
        _explicit = explicitRules;
    }

    /// <summary>Columns seen so far that map to nothing (reported once, as a warning).</summary>
    public IReadOnlyCollection<string> UnmappedColumns => _unmapped;

    /// <summary>
    /// Checks the mapping against the first row's columns, before anything is sent: every column an explicit rule
    /// names must be there, and some column must fill the sync key. Every problem is reported at once, each with the
    /// input's closest column names. Rows have no schema beforehand, so the first row stands for the input.
    /// </summary>
    public void CheckColumns(string[] names)
    {
        var problems = new List<string>();
        foreach (var rule in _explicit)
        {
            if (rule.Compute is null && ColumnIndex(names, rule.Column) < 0)
                problems.Add($"'{rule.Target}' is mapped from the column '{rule.Column}', which the input does not have{NameSuggestions.DidYouMean(rule.Column, names)}");
        }
        if (PlanFor(names).KeySlot is null)
        {
            var keyNames = _key.Kind == RecordKeyKind.CustomAttribute ? new[] { _key.FieldPath, _key.Attribute! } : new[] { _key.FieldPath };
            var near = keyNames.Select(k => NameSuggestions.DidYouMean(k, names)).FirstOrDefault(c => c.Length > 0) ?? "";
            problems.Add($"no column fills the sync key {_key.FieldPath}: the input has no column named '{keyNames[keyNames.Length - 1]}' and the mapping names none for it{near}");
        }
        if (problems.Count == 0) return;
        throw new MappingException((problems.Count == 1 ? "The mapping does not fit the input: " : $"The mapping does not fit the input ({problems.Count} problems): ") +
            string.Join("; ", problems) + $". The input's columns are: {string.Join(", ", names)}.");
    }

    /// <summary>How the mapping reads these columns, for the narration of a run: column -> field, and what is not sent.</summary>
    public string Describe(string[] names)
    {
        var plan = PlanFor(names);
        var sent = plan.Slots.Select(s => $"{s.Rule.Column} -> {s.Field.Path}{(string.Equals(s.Field.Path, _key.FieldPath, StringComparison.OrdinalIgnoreCase) ? " (the sync key)" : "")}");
        var used = new HashSet<string>(plan.Slots.Where(s => s.Column >= 0).Select(s => names[s.Column]), StringComparer.OrdinalIgnoreCase);
        var unsent = names.Where(n => !used.Contains(n)).ToList();
        return $"Mapping: {string.Join(", ", sent)}{(_skipNull ? "; null values are not sent" : "")}" +
            (unsent.Count > 0 ? $"; not sent: {string.Join(", ", unsent)}." : ".");
    }

    private static int ColumnIndex(string[] names, string column) =>
        Array.FindIndex(names, n => string.Equals(n, column, StringComparison.OrdinalIgnoreCase));

    public MapOutcome Map(InputRecord record)
    {
        var plan = PlanFor(record.Names);
        foreach (var (rule, _, column) in plan.Slots)
        {
            // A later row without a column the first row had: never send null for what it lacks.
            if (rule.Compute is null && column < 0)
                return MapOutcome.Invalid(null, rule.Column, ErrorIds.MissingColumn,
                    $"Row {record.Row} has no column '{rule.Column}', which the mapping names for {rule.Target} (the first row had it).");
        }
        if (plan.KeySlot is null)
            return MapOutcome.Invalid(null, null, ErrorIds.MissingKey, $"Row {record.Row} has no column that fills the sync key {_key.FieldPath}.");
        var keyValue = Blank(Read(record, plan.KeySlot.Value.Rule, plan.KeySlot.Value.Column));
        var key = keyValue is null ? null : keyValue is string s ? s.Trim() : Convert.ToString(keyValue, System.Globalization.CultureInfo.InvariantCulture)?.Trim();
        if (string.IsNullOrEmpty(key))
            return MapOutcome.Invalid(null, plan.KeySlot.Value.Rule.Column, ErrorIds.MissingKey, $"Row {record.Row}: the sync key {_key.FieldPath} (column '{plan.KeySlot.Value.Rule.Column}') is empty.");

        var payload = new JsonObject();
        JsonObject? custom = null;
        List<RecordReference>? references = null;
        var fields = new FieldUse(plan.Slots.Count);
        for (var slot = 0; slot < plan.Slots.Count; slot++)
        {
            var (rule, field, column) = plan.Slots[slot];
            var value = Blank(Read(record, rule, column));
            if (value is null && _skipNull) continue;
            fields.Mark(slot, value is not null);
            if (!ValueConverter.TryConvert(value, field, out var json, out var error))
                return MapOutcome.Invalid(key, rule.Column, ErrorIds.InvalidValue, $"Row {record.Row} (key '{key}'): {Describe(rule, field)} {error}.");
            if (field.ReferenceField is not null)
            {
                if (json is null) payload[field.ReferenceField] = null;
                else (references ??= new List<RecordReference>()).Add(new RecordReference(field, json.GetValue<string>(), rule.Column));
            }
            else if (field.IsCustom)
            {
                custom ??= new JsonObject();
                custom[field.Name] = json;
            }
            else
            {
                Place(payload, field, json);
            }
        }
        if (custom is not null) payload["custom"] = custom;
        return MapOutcome.Valid(new MappedRecord(record, key!, payload, (IReadOnlyList<RecordReference>?)references ?? Array.Empty<RecordReference>())
        {
            Valued = plan.ValuedFor(fields),
            Cleared = plan.ClearedFor(fields),
        });
    }

    /// <summary>The column, and the field when its name differs: "column 'Num'" or "column 'plan' (custom.tierStr)".</summary>
    private static string Describe(MappingRule rule, FieldSpec field) =>
        string.Equals(rule.Column, field.Path, StringComparison.OrdinalIgnoreCase) || string.Equals(rule.Column, field.Name, StringComparison.OrdinalIgnoreCase)
            ? $"column '{rule.Column}'"
            : $"column '{rule.Column}' ({field.Path})";

    /// <summary>
    /// An empty or whitespace-only string is no value (Import-Csv and spreadsheets cannot say null): it is null for
    /// every field, so a blank cell is a missing key, clears a field, or with SkipNull leaves it untouched.
    /// </summary>
    private static object? Blank(object? value) => value is string s && string.IsNullOrWhiteSpace(s) ? null : value;

    private static object? Read(InputRecord record, MappingRule rule, int column) =>
        rule.Compute is not null ? rule.Compute(record) : column >= 0 ? record.Values[column] : null;

    private static void Place(JsonObject payload, FieldSpec field, JsonNode? json)
    {
        switch (field.Path)
        {
            case "email":
                payload["emails"] = json is null ? new JsonArray() : new JsonArray(new JsonObject { ["email"] = json });
                break;
            case "phone":
                payload["phones"] = json is null ? new JsonArray() : new JsonArray(new JsonObject { ["phone"] = json });
                break;
            case "domain":
                payload["domains"] = json is null ? new JsonArray() : new JsonArray(new JsonObject { ["domain"] = json });
                break;
            default:
                payload[field.Path] = json;
                break;
        }
    }

    private ShapePlan PlanFor(string[] names)
    {
        var shape = string.Join("\u001f", names);
        if (_plans.TryGetValue(shape, out var plan)) return plan;

        var slots = new List<(MappingRule Rule, FieldSpec Field, int Column)>();
        var targets = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var usedColumns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in _explicit)
        {
            var field = _schema.Find(rule.Target)!;
            var column = rule.Compute is null ? ColumnIndex(names, rule.Column) : -1;
            if (rule.Compute is null) usedColumns.Add(rule.Column);
            targets.Add(field.Path);
            slots.Add((rule, field, column));
        }
        for (var i = 0; i < names.Length; i++)
        {
            if (usedColumns.Contains(names[i])) continue;
            var field = _schema.Find(names[i]);
            if (field is null || !targets.Add(field.Path))
            {
                if (field is null) _unmapped.Add(names[i]);
                continue;
            }
            slots.Add((new MappingRule(field.Path, names[i]), field, i));
        }

        var keyIndex = slots.FindIndex(s => string.Equals(s.Field.Path, _key.FieldPath, StringComparison.OrdinalIgnoreCase));
        plan = new ShapePlan(slots, keyIndex < 0 ? null : (slots[keyIndex].Rule, slots[keyIndex].Column));
        _plans[shape] = plan;
        return plan;
    }

    private sealed class ShapePlan
    {
        public ShapePlan(List<(MappingRule Rule, FieldSpec Field, int Column)> slots, (MappingRule Rule, int Column)? keySlot)
        {
            Slots = slots;
            KeySlot = keySlot;
        }

        public List<(MappingRule Rule, FieldSpec Field, int Column)> Slots { get; }
        public (MappingRule Rule, int Column)? KeySlot { get; }

        // Rows of one shape give and clear few distinct sets of fields: each set is built once and shared.
        private readonly Dictionary<ulong, ValuedFields> _valued = new();
        private readonly Dictionary<ulong, string[]> _cleared = new();

        public ValuedFields ValuedFor(FieldUse use) =>
            use.Valued is { } bits && _valued.TryGetValue(bits, out var known) ? known : Remember(_valued, use.Valued, ValuedFields.Of(Paths(use, valued: true)));

        public IReadOnlyList<string> ClearedFor(FieldUse use)
        {
            if (use.NoneCleared) return Array.Empty<string>();
            return use.Cleared is { } bits && _cleared.TryGetValue(bits, out var known) ? known : Remember(_cleared, use.Cleared, Paths(use, valued: false).ToArray());
        }

        private IEnumerable<string> Paths(FieldUse use, bool valued)
        {
            for (var slot = 0; slot < Slots.Count; slot++)
                if (valued ? use.IsValued(slot) : use.IsCleared(slot)) yield return Slots[slot].Field.Path;
        }

        private static T Remember<T>(Dictionary<ulong, T> cache, ulong? bits, T value)
        {
            if (bits is { } b) cache[b] = value;
            return value;
        }
    }

    /// <summary>Which of a shape's slots a row gave a value and which it sent as null; a bit mask while the shape has at most 64 slots.</summary>
    private struct FieldUse
    {
        private readonly bool[]? _valuedSlots;
        private readonly bool[]? _clearedSlots;
        private ulong _valuedBits;
        private ulong _clearedBits;

        public FieldUse(int slots)
        {
            if (slots <= 64) return;
            _valuedSlots = new bool[slots];
            _clearedSlots = new bool[slots];
        }

        public void Mark(int slot, bool hasValue)
        {
            if (_valuedSlots is null)
            {
                if (hasValue) _valuedBits |= 1UL << slot; else _clearedBits |= 1UL << slot;
            }
            else if (hasValue) _valuedSlots[slot] = true;
            else _clearedSlots![slot] = true;
        }

        public ulong? Valued => _valuedSlots is null ? _valuedBits : null;
        public ulong? Cleared => _clearedSlots is null ? _clearedBits : null;
        public bool NoneCleared => _clearedSlots is null ? _clearedBits == 0 : !_clearedSlots.Contains(true);
        public bool IsValued(int slot) => _valuedSlots?[slot] ?? (_valuedBits & (1UL << slot)) != 0;
        public bool IsCleared(int slot) => _clearedSlots?[slot] ?? (_clearedBits & (1UL << slot)) != 0;
    }
}
