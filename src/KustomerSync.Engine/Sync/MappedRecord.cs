using System.Text.Json.Nodes;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>A row turned into the flat body Kustomer takes, with its key.</summary>
/// <param name="References">Other records named by key (a customer's company by externalId), resolved to ids before writing.</param>
public sealed record MappedRecord(InputRecord Input, string Key, JsonObject Payload, IReadOnlyList<RecordReference> References)
{
    /// <summary>The fields this record gives a value (the state remembers them with the confirmation).</summary>
    public ValuedFields? Valued { get; init; }

    /// <summary>The fields this record sets to null or empty (clears in Kustomer); empty when it clears none.</summary>
    public IReadOnlyList<string> Cleared { get; init; } = Array.Empty<string>();
}
