using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Sync;

/// <summary>A row turned into the flat body Kustomer takes, with its key.</summary>
public sealed class MappedRecord
{
    public MappedRecord(InputRecord input, string key, JsonObject payload, IReadOnlyList<RecordReference> references)
    {
        Input = input;
        Key = key;
        Payload = payload;
        References = references;
    }

    public InputRecord Input { get; }
    public string Key { get; }
    public JsonObject Payload { get; }
    /// <summary>Other records named by key (a customer's company by externalId), resolved to ids before writing.</summary>
    public IReadOnlyList<RecordReference> References { get; }
}
