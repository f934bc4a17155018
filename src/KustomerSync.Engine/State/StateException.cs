namespace KustomerSync.Engine.State;

/// <summary>
/// A state store could not be used. Never swallowed into a silent full resync: the run stops and says why.
/// </summary>
public sealed class StateException : Exception
{
    public StateException(string errorId, string message, Exception? inner = null) : base(message, inner)
    {
        ErrorId = errorId;
    }

    /// <summary>One of the <see cref="StateErrors"/> ids (KustomerSync.State*).</summary>
    public string ErrorId { get; }
}

/// <summary>The stable ErrorIds of state-store failures.</summary>
public static class StateErrors
{
    /// <summary>The store cannot be opened or read: not a database, corrupt, missing, no permission, unreachable.</summary>
    public const string Unreadable = "KustomerSync.StateUnreadable";
    /// <summary>Another run of the same sync holds the lease.</summary>
    public const string Locked = "KustomerSync.StateLocked";
    /// <summary>The store was written by a newer KustomerSync (schema version above what this build knows).</summary>
    public const string NewerSchema = "KustomerSync.StateNewerSchema";
    /// <summary>Writing confirmations, failures or run history failed.</summary>
    public const string WriteFailed = "KustomerSync.StateWriteFailed";
    /// <summary>The sync name is already recorded for another object or sync key.</summary>
    public const string Mismatch = "KustomerSync.StateMismatch";
    /// <summary>A setting of the store is not valid (table prefix, schema, sync name, provider).</summary>
    public const string InvalidArgument = "KustomerSync.StateInvalidArgument";
}
