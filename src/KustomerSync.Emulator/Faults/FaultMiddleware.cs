using KustomerSync.Emulator.Http;

namespace KustomerSync.Emulator.Faults;

/// <summary>Fails /v1 requests before processing (armed failNext, then the 5xx rate).</summary>
public sealed class FaultMiddleware(FaultInjector faults)
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.IsApiPath() && faults.BeforeProcessing() is int status)
            throw new ApiException(status, "server_error", Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
                "Injected fault (emulator): the request was not processed");
        return next(context);
    }
}
