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
