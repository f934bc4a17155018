using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Sync;

/// <summary>A mapping that cannot work at all (an unknown field); stops the run before any request.</summary>
public sealed class MappingException : Exception
{
    public MappingException(string message) : base(message)
    {
    }
}
