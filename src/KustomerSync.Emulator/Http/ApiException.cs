using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.Http;

/// <summary>
/// An API error that ends the request with a §11-shaped body:
/// <c>{"errors":[{"status","code","title","detail","source":{"pointer"|"parameter"},"meta"}]}</c>.
/// </summary>
public sealed class ApiException(int status, string code, string title, string? detail = null) : Exception(detail ?? title)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public string? Pointer { get; init; }
    public string? Parameter { get; init; }
    public JsonObject? Meta { get; init; }

    public static ApiException BadRequest(string detail, string? pointer = null) =>
        new(400, "bad_request", "Invalid request", detail) { Pointer = pointer };

    public static ApiException BadParameter(string parameter, string detail) =>
        new(400, "bad_request", "Invalid parameter", detail) { Parameter = parameter };

    public static ApiException NotFound(string detail) => new(404, "not_found", "Not Found", detail);

    /// <summary>
    /// A write that would give a second record a unique identifier. Its status and <c>meta.existingId</c> are settings
    /// (§11: 400 or 409, no public evidence of an id), applied by <see cref="ForClient"/> when it is answered.
    /// </summary>
    public static ApiException Duplicate(string detail, string existingId, string? pointer = null) =>
        new(409, "conflict", "duplicate detected", "duplicate: " + detail) { Pointer = pointer, DuplicateOf = existingId };

    /// <summary>The id of the record that already holds the identifier, when this is a duplicate error.</summary>
    public string? DuplicateOf { get; init; }

    /// <summary>This error as answered under the options: a duplicate gets the configured status, and existingId only when asked for.</summary>
    public ApiException ForClient(EmulatorOptions options)
    {
        if (DuplicateOf is null) return this;
        var conflict = options.DuplicateStatus == 409;
        return new ApiException(options.DuplicateStatus, conflict ? "conflict" : "bad_request", Title, Detail)
        {
            Pointer = Pointer,
            Meta = options.DuplicateExistingId ? new JsonObject { ["existingId"] = DuplicateOf } : null,
        };
    }

    public JsonObject ToBody()
    {
        var error = new JsonObject { ["status"] = Status, ["code"] = Code, ["title"] = Title };
        if (Detail is not null) error["detail"] = Detail;
        if (Pointer is not null) error["source"] = new JsonObject { ["pointer"] = Pointer };
        else if (Parameter is not null) error["source"] = new JsonObject { ["parameter"] = Parameter };
        if (Meta is not null) error["meta"] = Meta.DeepClone();
        return new JsonObject { ["errors"] = new JsonArray(error) };
    }
}
