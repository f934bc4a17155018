using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources;

/// <summary>A source could not be opened or queried. Messages never carry passwords or tokens.</summary>
public sealed class SourceException : KustomerSyncException
{
    public SourceException(string errorId, string message, Exception? inner = null) : base(errorId, message, inner)
    {
    }
}

/// <summary>Helpers that make each source failure (ErrorIds.Source*).</summary>
public static class SourceErrors
{
    public static SourceException Invalid(string errorId, string message) => new(errorId, message);

    public static SourceException Connection(string message) => new(ErrorIds.SourceConnectionFailed, message);

    public static SourceException Authentication(string message) => new(ErrorIds.SourceAuthenticationFailed, message);

    public static SourceException Query(string message) => new(ErrorIds.SourceQueryFailed, message);

    public static SourceException TimedOut(string message) => new(ErrorIds.SourceTimeout, message);

    public static SourceException Missing(string provider, IReadOnlyList<string> names, string? serverMessage)
    {
        var list = string.Join(", ", names);
        var message = names.Count == 1
            ? $"The {provider} query uses the parameter {list}, but the query's parameters do not supply it."
            : $"The {provider} query uses the parameters {list}, but the query's parameters do not supply them.";
        if (!string.IsNullOrEmpty(serverMessage)) message += $" ({serverMessage})";
        return new SourceException(ErrorIds.SourceMissingParameter, message);
    }
}
