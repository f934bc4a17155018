using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sync;

/// <summary>A mapping that cannot work at all (an unknown field); stops the run before any request.</summary>
public sealed class MappingException : KustomerSyncException
{
    public MappingException(string message) : base(ErrorIds.InvalidMapping, message)
    {
    }
}
