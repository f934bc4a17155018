using System.Net;
using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Kustomer;

/// <summary>A successful (2xx) or expected (404 on lookups) answer from Kustomer.</summary>
public sealed record KustomerResponse(HttpStatusCode Status, JsonNode? Body)
{
    public bool IsNotFound => Status == HttpStatusCode.NotFound;

    /// <summary>data.id of a single-resource envelope.</summary>
    public string? DataId => Body?["data"]?["id"]?.GetValue<string>();

    public JsonObject? DataAttributes => Body?["data"]?["attributes"] as JsonObject;

    public JsonArray DataList => Body?["data"] as JsonArray ?? new JsonArray();
}
