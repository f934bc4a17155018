using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>
/// A state store could not be used (ErrorIds.State*). Never swallowed into a silent full resync: the run stops and
/// says why.
/// </summary>
public sealed class StateException : KustomerSyncException
{
    public StateException(string errorId, string message, Exception? inner = null) : base(errorId, message, inner)
    {
    }
}
