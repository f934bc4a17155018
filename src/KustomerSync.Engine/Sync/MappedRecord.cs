using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Sync;

/// <summary>A row turned into the flat body Kustomer takes, with its key.</summary>
/// <param name="References">Other records named by key (a customer's company by externalId), resolved to ids before writing.</param>
public sealed record MappedRecord(InputRecord Input, string Key, JsonObject Payload, IReadOnlyList<RecordReference> References);
