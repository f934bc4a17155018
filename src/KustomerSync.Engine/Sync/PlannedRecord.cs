using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>A mapped record on its way to Kustomer, with what the state store knew about it.</summary>
public sealed class PlannedRecord
{
    public PlannedRecord(MappedRecord record, string? knownId, PayloadHash hash, string? sourceHash)
    {
        Record = record;
        KnownId = knownId;
        Hash = hash;
        SourceHash = sourceHash;
    }

    public MappedRecord Record { get; }
    public string? KnownId { get; }
    /// <summary>The state store has no trace of the key (no id, no failed attempt): a create may go before any lookup.</summary>
    public bool NeverSynced { get; init; }
    public PayloadHash Hash { get; }
    /// <summary>The pushed-down diff's hash of the source row, stored with the confirmation.</summary>
    public string? SourceHash { get; }
    /// <summary>The _clientRef that ties this record to its item in a bulk request.</summary>
    public string ClientRef => "row-" + Record.Input.Row.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
