using KustomerSync.Emulator.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace KustomerSync.Emulator.Faults;

/// <summary>"Commit then 5xx": called by single-create routes after the record is stored.</summary>
public static class LostCreate
{
    public static void ThrowIfInjected(FaultInjector faults)
    {
        if (faults.AfterCreate() is int status)
            throw new ApiException(status, "server_error", ReasonPhrases.GetReasonPhrase(status),
                "Injected fault (emulator): the response was lost after the record was created");
    }
}
