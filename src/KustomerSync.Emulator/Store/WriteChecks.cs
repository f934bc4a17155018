using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Http;

namespace KustomerSync.Emulator.Store;

/// <summary>Checks shared by the stores: optimistic <c>rev</c> and references to other objects.</summary>
public static class WriteChecks
{
    /// <summary>A <c>rev</c> in an update body must equal the stored rev (optimistic locking), else 409.</summary>
    public static void Rev(JsonObject body, Record record)
    {
        if (body["rev"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() != record.Rev)
            throw new ApiException(409, "conflict", "Conflict",
                $"rev {v.GetValue<double>()} does not match the current rev {record.Rev} (optimistic locking)") { Pointer = "/rev" };
    }

    public static string? RefId(JsonObject doc, string field) =>
        doc[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static ApiException MissingReference(string field, string type, string id) =>
        ApiException.BadRequest($"{field} '{id}' does not refer to an existing {type}", "/" + field);
}
