using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Sync;

/// <summary>Either a mapped record or the reason the row is invalid.</summary>
public readonly record struct MapOutcome
{
    private MapOutcome(MappedRecord? record, string? key, string? field, string? errorId, string? error)
    {
        Record = record;
        Key = key;
        Field = field;
        ErrorId = errorId;
        Error = error;
    }

    public MappedRecord? Record { get; }
    public string? Key { get; }
    public string? Field { get; }
    public string? ErrorId { get; }
    public string? Error { get; }
    public bool IsValid => Record is not null;

    public static MapOutcome Valid(MappedRecord record) => new(record, record.Key, null, null, null);
    public static MapOutcome Invalid(string? key, string? field, string errorId, string error) => new(null, key, field, errorId, error);
}
