using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Sync;

/// <summary>An explicit mapping: a Kustomer field filled from a column, or computed from the row.</summary>
public sealed class MappingRule
{
    public MappingRule(string target, string column)
    {
        Target = target;
        Column = column;
    }

    public MappingRule(string target, Func<InputRecord, object?> compute, string description)
    {
        Target = target;
        Compute = compute;
        Column = description;
    }

    public string Target { get; }
    /// <summary>The source column, or for a computed value a short description of it.</summary>
    public string Column { get; }
    public Func<InputRecord, object?>? Compute { get; }
}
