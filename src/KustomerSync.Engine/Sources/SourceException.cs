namespace KustomerSync.Engine.Sources;

/// <summary>A source could not be opened or queried. Messages never carry passwords or tokens.</summary>
public sealed class SourceException : Exception
{
    public SourceException(string errorId, SourceFailure failure, string message, Exception? inner = null) : base(message, inner)
    {
        ErrorId = errorId;
        Failure = failure;
    }

    public string ErrorId { get; }
    public SourceFailure Failure { get; }
}

public enum SourceFailure
{
    InvalidArgument,
    ConnectionFailed,
    AuthenticationFailed,
    QueryFailed,
    Timeout,
}

/// <summary>The stable ErrorIds of source failures (KustomerSync.Source*), and helpers that make each one.</summary>
public static class SourceErrors
{
    public const string UnknownProvider = "KustomerSync.SourceUnknownProvider";
    public const string InvalidConnectionString = "KustomerSync.SourceInvalidConnectionString";
    public const string InsecureEndpoint = "KustomerSync.SourceInsecureEndpoint";
    public const string ConnectionFailed = "KustomerSync.SourceConnectionFailed";
    public const string AuthenticationFailed = "KustomerSync.SourceAuthenticationFailed";
    public const string QueryFailed = "KustomerSync.SourceQueryFailed";
    public const string MissingParameter = "KustomerSync.SourceMissingParameter";
    public const string InvalidParameter = "KustomerSync.SourceInvalidParameter";
    public const string Timeout = "KustomerSync.SourceTimeout";
    public const string ReadFailed = "KustomerSync.SourceReadFailed";

    public static SourceException Invalid(string errorId, string message) => new(errorId, SourceFailure.InvalidArgument, message);

    public static SourceException Connection(string message) => new(ConnectionFailed, SourceFailure.ConnectionFailed, message);

    public static SourceException Authentication(string message) => new(AuthenticationFailed, SourceFailure.AuthenticationFailed, message);

    public static SourceException Query(string message) => new(QueryFailed, SourceFailure.QueryFailed, message);

    public static SourceException TimedOut(string message) => new(Timeout, SourceFailure.Timeout, message);

    public static SourceException Missing(string provider, IReadOnlyList<string> names, string? serverMessage)
    {
        var list = string.Join(", ", names);
        var message = names.Count == 1
            ? $"The {provider} query uses the parameter {list}, but -Parameters does not supply it."
            : $"The {provider} query uses the parameters {list}, but -Parameters does not supply them.";
        if (!string.IsNullOrEmpty(serverMessage)) message += $" ({serverMessage})";
        return new SourceException(MissingParameter, SourceFailure.InvalidArgument, message);
    }
}
