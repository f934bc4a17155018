namespace KustomerSync.Engine.Diagnostics;

/// <summary>
/// Every ErrorId KustomerSync reports, engine and cmdlets alike. The values are a public contract (scripts match on
/// them, the help explains each under TROUBLESHOOTING): each is "KustomerSync." + the constant's name, and none may
/// change. Nowhere else in src/ is a "KustomerSync.&lt;Id&gt;" literal written (tests/KustomerSync.Architecture.Tests).
/// </summary>
public static class ErrorIds
{
    // Kustomer's answers (KustomerApiException, by status) and the client.
    public const string AuthenticationFailed = "KustomerSync.AuthenticationFailed";
    public const string MissingRole = "KustomerSync.MissingRole";
    public const string NotFound = "KustomerSync.NotFound";
    public const string Conflict = "KustomerSync.Conflict";
    public const string PayloadTooLarge = "KustomerSync.PayloadTooLarge";
    public const string RateLimited = "KustomerSync.RateLimited";
    public const string ServerError = "KustomerSync.ServerError";
    public const string Rejected = "KustomerSync.Rejected";
    public const string ConnectionFailed = "KustomerSync.ConnectionFailed";
    public const string OutcomeUnknown = "KustomerSync.OutcomeUnknown";
    public const string UnexpectedResponse = "KustomerSync.UnexpectedResponse";
    public const string AmbiguousKey = "KustomerSync.AmbiguousKey";
    public const string UnknownKlass = "KustomerSync.UnknownKlass";

    // Rows and runs.
    public const string InvalidMapping = "KustomerSync.InvalidMapping";
    public const string MissingKey = "KustomerSync.MissingKey";
    public const string MissingColumn = "KustomerSync.MissingColumn";
    public const string InvalidValue = "KustomerSync.InvalidValue";
    public const string DuplicateKey = "KustomerSync.DuplicateKey";
    public const string RecordNotFound = "KustomerSync.RecordNotFound";
    public const string ReferenceNotFound = "KustomerSync.ReferenceNotFound";
    public const string KeyNotProvablyAbsent = "KustomerSync.KeyNotProvablyAbsent";
    public const string BulkTimeout = "KustomerSync.BulkTimeout";
    public const string NotAttempted = "KustomerSync.NotAttempted";
    /// <summary>A guard against a broken source refused the run before any write (an empty source, a shrunken one, too many changes, a cleared field).</summary>
    public const string GuardTripped = "KustomerSync.GuardTripped";
    public const string Cancelled = "KustomerSync.Cancelled";
    public const string RowFailed = "KustomerSync.RowFailed";
    public const string SyncFailed = "KustomerSync.SyncFailed";
    public const string UnexpectedError = "KustomerSync.UnexpectedError";
    public const string InvalidArgument = "KustomerSync.InvalidArgument";

    // Sync definitions (.psd1).
    public const string InvalidDefinition = "KustomerSync.InvalidDefinition";
    public const string SecretUnavailable = "KustomerSync.SecretUnavailable";

    // Sources.
    public const string SourceUnknownProvider = "KustomerSync.SourceUnknownProvider";
    public const string SourceInvalidConnectionString = "KustomerSync.SourceInvalidConnectionString";
    public const string SourceInsecureEndpoint = "KustomerSync.SourceInsecureEndpoint";
    public const string SourceConnectionFailed = "KustomerSync.SourceConnectionFailed";
    public const string SourceAuthenticationFailed = "KustomerSync.SourceAuthenticationFailed";
    public const string SourceQueryFailed = "KustomerSync.SourceQueryFailed";
    public const string SourceMissingParameter = "KustomerSync.SourceMissingParameter";
    public const string SourceInvalidParameter = "KustomerSync.SourceInvalidParameter";
    public const string SourceTimeout = "KustomerSync.SourceTimeout";
    public const string SourceReadFailed = "KustomerSync.SourceReadFailed";

    // State stores.
    /// <summary>The store cannot be opened or read: not a database, corrupt, missing, no permission, unreachable.</summary>
    public const string StateUnreadable = "KustomerSync.StateUnreadable";
    /// <summary>Another run of the same sync holds the lease.</summary>
    public const string StateLocked = "KustomerSync.StateLocked";
    /// <summary>The store was written by a newer KustomerSync (schema version above what this build knows).</summary>
    public const string StateNewerSchema = "KustomerSync.StateNewerSchema";
    /// <summary>Writing confirmations, failures or run history failed.</summary>
    public const string StateWriteFailed = "KustomerSync.StateWriteFailed";
    /// <summary>The sync name is already recorded for another object or sync key.</summary>
    public const string StateMismatch = "KustomerSync.StateMismatch";
    /// <summary>A setting of the store is not valid (table prefix, schema, sync name, provider).</summary>
    public const string StateInvalidArgument = "KustomerSync.StateInvalidArgument";

    // Raised by the cmdlets only (the session and the run history).
    public const string NotConnected = "KustomerSync.NotConnected";
    public const string MissingApiKey = "KustomerSync.MissingApiKey";
    public const string SyncNotFound = "KustomerSync.SyncNotFound";
    public const string RunNotFound = "KustomerSync.RunNotFound";

    /// <summary>What kind of failure an ErrorId is, for a host to classify it (PowerShell: the ErrorCategory).</summary>
    public static ErrorKind KindOf(string? errorId) => errorId switch
    {
        InvalidArgument or InvalidMapping or MissingApiKey or StateInvalidArgument or StateMismatch or SourceUnknownProvider
            or SourceInvalidConnectionString or SourceInsecureEndpoint or SourceMissingParameter or SourceInvalidParameter => ErrorKind.InvalidArgument,
        Rejected or MissingKey or MissingColumn or InvalidValue or DuplicateKey or InvalidDefinition or SecretUnavailable => ErrorKind.InvalidData,
        NotFound or RecordNotFound or UnknownKlass => ErrorKind.NotFound,
        Conflict or AmbiguousKey => ErrorKind.Conflict,
        AuthenticationFailed or SourceAuthenticationFailed => ErrorKind.AuthenticationFailed,
        MissingRole => ErrorKind.PermissionDenied,
        ConnectionFailed or SourceConnectionFailed => ErrorKind.ConnectionFailed,
        RateLimited or PayloadTooLarge => ErrorKind.LimitExceeded,
        OutcomeUnknown or SourceTimeout => ErrorKind.Timeout,
        StateLocked => ErrorKind.Busy,
        StateUnreadable or StateNewerSchema => ErrorKind.ReadFailed,
        StateWriteFailed => ErrorKind.WriteFailed,
        Cancelled => ErrorKind.Cancelled,
        _ => ErrorKind.Failed,
    };
}

/// <summary>The kinds of failure, as a host needs them to classify an error; see <see cref="ErrorIds.KindOf"/>.</summary>
public enum ErrorKind
{
    /// <summary>Anything else: the operation failed.</summary>
    Failed,
    InvalidArgument,
    InvalidData,
    NotFound,
    Conflict,
    AuthenticationFailed,
    PermissionDenied,
    ConnectionFailed,
    LimitExceeded,
    Timeout,
    Busy,
    ReadFailed,
    WriteFailed,
    Cancelled,
}
