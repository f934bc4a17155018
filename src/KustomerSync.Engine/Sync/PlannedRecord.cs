using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>A mapped record on its way to Kustomer, with what the state store knew about it.</summary>
/// <param name="SourceHash">The pushed-down diff's hash of the source row, stored with the confirmation.</param>
public sealed record PlannedRecord(MappedRecord Record, string? KnownId, PayloadHash Hash, string? SourceHash)
{
    /// <summary>The state store has no trace of the key (no id, no failed attempt): a create may go before any lookup.</summary>
    public bool NeverSynced { get; init; }
    /// <summary>The state holds a payload Kustomer confirmed for this key, and this one differs: a known record changes.</summary>
    public bool ChangesKnownRecord { get; init; }
    /// <summary>Fields this record clears that held a value in the payload Kustomer last confirmed.</summary>
    public IReadOnlyList<string> ClearsKnownValues { get; init; } = Array.Empty<string>();
    /// <summary>What Kustomer showed of the record after the last confirmed write, as the state store remembers it.</summary>
    public RecordStamp? Stamp { get; init; }
    /// <summary>The _clientRef that ties this record to its item in a bulk request.</summary>
    public string ClientRef => "row-" + Record.Input.Row.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
