using System.Text.Json.Nodes;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Decides what a run does with each row before any request: maps and validates it, rejects a key already used in
/// the run, finds rows whose payload Kustomer already confirmed (Unchanged) and hands the rest on with the id the
/// state remembers. Pure and synchronous: no HTTP, no tasks, no clock; rows come in one at a time, numbered 1, 2, ...
/// </summary>
public sealed class UpsertPlanner
{
    private readonly RecordMapper _mapper;
    private readonly UpsertOptions _options;
    private readonly IStateLookup? _state;
    private readonly Dictionary<string, long> _seenKeys;
    private long _rows;

    public UpsertPlanner(RecordMapper mapper, UpsertOptions options, IStateLookup? state)
    {
        _mapper = mapper;
        _options = options;
        _state = state;
        _seenKeys = new Dictionary<string, long>(options.Key.Comparer);
    }

    /// <summary>What the rows planned so far would change and clear of the records the state knows.</summary>
    public PlanTally Tally { get; } = new();

    /// <summary>Rows planned so far.</summary>
    public long Rows => _rows;

    /// <summary>Every key this run's input had, valid or not (for the keys-left report).</summary>
    public IReadOnlyCollection<string> SeenKeys => _seenKeys.Keys;

    /// <summary>True when a row had <paramref name="key"/>, compared as the sync key compares (emails without regard to case).</summary>
    public bool HasSeen(string key) => _seenKeys.ContainsKey(key);

    /// <summary>
    /// Plans the next row. A pushed-down diff passes the key's <paramref name="entry"/> read with the row (its session
    /// loads no entries) and the row's <paramref name="sourceHash"/>, stored with the confirmation.
    /// </summary>
    /// <exception cref="MappingException">The first row shows the mapping cannot fit the input.</exception>
    public RowPlan Plan(string[] names, object?[] values, object? source, StateEntry? entry = null, string? sourceHash = null)
    {
        if (_rows == 0) _mapper.CheckColumns(names);
        var input = new InputRecord(++_rows, names, values, source);
        var outcome = _mapper.Map(input);
        if (!outcome.IsValid)
        {
            if (outcome.Key is not null && !_seenKeys.ContainsKey(outcome.Key)) _seenKeys[outcome.Key] = input.Row;
            return RowPlan.Decided(Invalid(input, outcome.Key, outcome.Field, outcome.ErrorId!, outcome.Error!));
        }
        var record = outcome.Record!;
        if (_seenKeys.TryGetValue(record.Key, out var firstRow))
            return RowPlan.Decided(Invalid(input, record.Key, _options.Key.FieldPath, ErrorIds.DuplicateKey,
                $"Row {input.Row}: the sync key {_options.Key.FieldPath} '{record.Key}' was already used by row {firstRow} of this run" +
                (_options.Key.Kind == RecordKeyKind.Email ? " (emails are compared without regard to case)." : ".")));
        _seenKeys[record.Key] = input.Row;

        if (_state is null) return RowPlan.ToWrite(new PlannedRecord(record, null, default, sourceHash));
        var hash = HashOf(record);
        StateEntry? known = entry ?? (_state.TryGetEntry(record.Key, out var stored) ? stored : null);
        if (known is { } unchanged && _state.IsUnchanged(unchanged, hash))
            return RowPlan.Decided(new UpsertResult { Row = input.Row, Object = _options.Target.DisplayName, Key = record.Key, Status = UpsertStatus.Unchanged, KustomerId = unchanged.KustomerId, InputObject = source },
                unchanged.Valued is null ? record.Valued : null);
        var planned = new PlannedRecord(record, known?.KustomerId, hash, sourceHash)
        {
            NeverSynced = known is null || known.Value.KustomerId is null && !known.Value.HasError,
            ChangesKnownRecord = known is { Hash.IsEmpty: false } confirmed && confirmed.Hash != hash,
            ClearsKnownValues = known?.Valued is { } had && record.Cleared.Count > 0 ? record.Cleared.Where(had.Contains).ToArray() : Array.Empty<string>(),
            Stamp = known?.KustomerId is null ? null : RecordStamp.Parse(known.Value.Stamp),
        };
        Tally.Count(planned);
        return RowPlan.ToWrite(planned);
    }

    /// <summary>The payload's hash, including the keys of referenced records (resolved ids are not known yet).</summary>
    private static PayloadHash HashOf(MappedRecord record)
    {
        if (record.References.Count == 0) return PayloadHash.Compute(record.Payload);
        var references = new JsonObject();
        foreach (var reference in record.References) references[reference.Spec.Path] = reference.Value;
        return PayloadHash.Compute(new JsonObject { ["payload"] = record.Payload.DeepClone(), ["references"] = references });
    }

    private UpsertResult Invalid(InputRecord input, string? key, string? field, string errorId, string message) => new()
    {
        Row = input.Row,
        Object = _options.Target.DisplayName,
        Key = key,
        Status = UpsertStatus.Invalid,
        Field = field,
        ErrorId = errorId,
        Message = message,
        InputObject = input.Source,
    };
}
