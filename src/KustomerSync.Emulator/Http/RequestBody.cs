using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.Http;

/// <summary>
/// Reads a request body strictly: Content-Type must be application/json, size ≤ the configured
/// maximum (413), valid JSON without duplicate keys (400).
/// </summary>
public sealed class RequestBody(LiveOptions options)
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
        AllowDuplicateProperties = false,
    };

    public async Task<JsonNode> ReadAsync(HttpContext context)
    {
        var request = context.Request;
        var max = options.Current.MaxBodyBytes;
        if (request.ContentLength is long declared && declared > max) throw TooLarge(max);

        var contentType = request.ContentType;
        if (contentType is null || !IsJson(contentType))
            throw new ApiException(415, "unsupported_media_type", "Unsupported Media Type",
                $"Content-Type must be application/json (got '{contentType ?? "none"}')");

        var reader = request.BodyReader;
        ReadResult result;
        while (true)
        {
            result = await reader.ReadAsync(context.RequestAborted);
            if (result.Buffer.Length > max) { reader.AdvanceTo(result.Buffer.Start); throw TooLarge(max); }
            if (result.IsCompleted || result.IsCanceled) break;
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        var buffer = result.Buffer;
        try
        {
            if (buffer.Length == 0) throw ApiException.BadRequest("Request body is empty; a JSON body is required");
            var bytes = buffer.IsSingleSegment ? buffer.First : buffer.ToArray();
            try
            {
                return JsonNode.Parse(bytes.Span, documentOptions: DocumentOptions)
                    ?? throw ApiException.BadRequest("Request body must not be JSON null");
            }
            catch (JsonException e)
            {
                throw new ApiException(400, "bad_request", "Invalid JSON", $"Request body is not valid JSON: {e.Message}");
            }
            catch (ArgumentException e)
            {
                throw new ApiException(400, "bad_request", "Invalid JSON", $"Request body is not valid JSON: {e.Message}");
            }
        }
        finally
        {
            reader.AdvanceTo(buffer.End);
        }
    }

    /// <summary>Reads a body that must be a flat JSON object (not wrapped in data/attributes).</summary>
    public async Task<JsonObject> ReadFlatObjectAsync(HttpContext context)
    {
        var node = await ReadAsync(context);
        if (node is not JsonObject obj) throw ApiException.BadRequest("Request body must be a JSON object", "");
        RejectEnvelope(obj, "");
        return obj;
    }

    /// <summary>400 when a body looks like a JSON:API envelope ({"data":{"type"|"attributes":…}}) instead of flat attributes.</summary>
    public static void RejectEnvelope(JsonObject obj, string pointer)
    {
        if (obj.Count == 1 && obj["data"] is JsonObject inner && (inner.ContainsKey("attributes") || inner.ContainsKey("type")))
            throw ApiException.BadRequest(
                "Request bodies are flat objects; do not wrap attributes in {\"data\":{\"attributes\":…}}", pointer + "/data");
    }

    private static bool IsJson(string contentType)
    {
        var media = contentType.Split(';', 2)[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    private static ApiException TooLarge(int max) =>
        new(413, "payload_too_large", "Payload Too Large", $"Request body exceeds the {max} byte limit");
}
