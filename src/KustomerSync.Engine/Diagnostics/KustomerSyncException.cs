namespace KustomerSync.Engine.Diagnostics;

/// <summary>
/// The root of every failure the engine raises on purpose: it carries a stable <see cref="ErrorIds"/> id, so a host
/// reports each the same way (the cmdlets turn it into an ErrorRecord in one place). Messages name concepts ("the
/// mapping", "the sync key"), never a host's parameters, and never carry passwords or tokens.
/// </summary>
public abstract class KustomerSyncException : Exception
{
    protected KustomerSyncException(string errorId, string message, Exception? inner = null) : base(message, inner)
    {
        ErrorId = errorId;
    }

    /// <summary>One of the <see cref="ErrorIds"/>.</summary>
    public string ErrorId { get; }

    public ErrorKind Kind => ErrorIds.KindOf(ErrorId);
}
