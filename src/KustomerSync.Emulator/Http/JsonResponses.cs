using System.Text.Json;
using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Http;

/// <summary>Writes JSON bodies straight to the response pipe (no intermediate strings).</summary>
public static class JsonResponses
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions))
        {
            body.WriteTo(writer);
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpContext context, ApiException error) =>
        WriteAsync(context, error.Status, error.ToBody());

    /// <summary>An <see cref="IResult"/> for minimal-API handlers.</summary>
    public static IResult Json(JsonNode body, int status = 200) => new JsonNodeResult(body, status);

    public static IResult NoContent() => Results.StatusCode(204);

    private sealed class JsonNodeResult(JsonNode body, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, status, body);
    }
}
