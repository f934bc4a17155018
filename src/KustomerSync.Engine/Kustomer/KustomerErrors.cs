using System.Net;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>A failure talking to Kustomer, or an answer that cannot be used.</summary>
public class KustomerException : KustomerSyncException
{
    public KustomerException(string errorId, string message, Exception? inner = null) : base(errorId, message, inner)
    {
    }
}

/// <summary>Kustomer answered with an error status.</summary>
public sealed class KustomerApiException : KustomerException
{
    public KustomerApiException(HttpStatusCode status, string? code, string detail, string? pointer)
        : this(ErrorIdFor(status), status, code, detail, pointer)
    {
    }

    private KustomerApiException(string errorId, HttpStatusCode status, string? code, string detail, string? pointer)
        : base(errorId, $"Kustomer answered {(int)status} {status}: {detail}")
    {
        Status = status;
        Code = code;
        Detail = detail;
        Pointer = pointer;
    }

    public HttpStatusCode Status { get; }
    public string? Code { get; }
    public string Detail { get; }
    /// <summary>The JSON pointer of the field Kustomer complained about, when it said.</summary>
    public string? Pointer { get; }
    public bool IsTransient => (int)Status >= 500 || Status == HttpStatusCode.RequestTimeout;

    /// <summary>The same refusal read as a missing role (a 401 from a key that is known to be good, §11).</summary>
    internal KustomerApiException AsMissingRole() => new(ErrorIds.MissingRole, Status, Code, Detail, Pointer);

    private static string ErrorIdFor(HttpStatusCode status) => (int)status switch
    {
        401 => ErrorIds.AuthenticationFailed,
        403 => ErrorIds.MissingRole,
        404 => ErrorIds.NotFound,
        409 => ErrorIds.Conflict,
        413 => ErrorIds.PayloadTooLarge,
        429 => ErrorIds.RateLimited,
        >= 500 => ErrorIds.ServerError,
        _ => ErrorIds.Rejected,
    };
}

/// <summary>The host could not be reached (DNS, refused, TLS, timeout) after the retries allowed.</summary>
public sealed class KustomerConnectionException : KustomerException
{
    public KustomerConnectionException(string host, string reason, Exception? inner)
        : base(ErrorIds.ConnectionFailed, $"Could not reach Kustomer at {host}: {reason}", inner)
    {
        Host = host;
    }

    public string Host { get; }
}

/// <summary>
/// A write was sent but its answer was lost (5xx or timeout after sending). Whether Kustomer applied it is unknown,
/// so the caller must look the record up before trying again: re-posting blindly could create a duplicate.
/// </summary>
public sealed class KustomerOutcomeUnknownException : KustomerException
{
    public KustomerOutcomeUnknownException(string reason, Exception? inner)
        : base(ErrorIds.OutcomeUnknown, $"The write's answer was lost ({reason}).", inner)
    {
    }
}
