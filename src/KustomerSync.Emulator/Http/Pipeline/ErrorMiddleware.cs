using KustomerSync.Emulator.Hosting;
using Microsoft.AspNetCore.WebUtilities;

namespace KustomerSync.Emulator.Http.Pipeline;

/// <summary>
/// Turns <see cref="ApiException"/>s and unexpected failures into §11 error bodies, and gives
/// bodiless 4xx/5xx answers (routing 404/405) an error body too. Response headers already set
/// (x-ratelimit-*) are kept. Duplicate errors are answered as the options say (<see cref="ApiException.ForClient"/>).
/// </summary>
public sealed class ErrorMiddleware(LiveOptions options)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            await JsonResponses.WriteErrorAsync(context, e.ForClient(options.Current));
            return;
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            var error = e.StatusCode == 413
                ? new ApiException(413, "payload_too_large", "Payload Too Large", e.Message)
                : new ApiException(e.StatusCode, "bad_request", "Bad Request", e.Message);
            await JsonResponses.WriteErrorAsync(context, error);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            await JsonResponses.WriteErrorAsync(context, new ApiException(500, "internal_error", "Internal Server Error", e.GetType().Name + ": " + e.Message));
            return;
        }

        var status = context.Response.StatusCode;
        if (status >= 400 && !context.Response.HasStarted && context.Response.ContentLength is null)
        {
            var error = status switch
            {
                404 => new ApiException(404, "not_found", "Not Found", $"No route for {context.Request.Method} {context.Request.Path}"),
                405 => new ApiException(405, "method_not_allowed", "Method Not Allowed", $"{context.Request.Method} is not supported on {context.Request.Path}"),
                _ => new ApiException(status, "error", ReasonPhrases.GetReasonPhrase(status)),
            };
            await JsonResponses.WriteErrorAsync(context, error);
        }
    }
}
