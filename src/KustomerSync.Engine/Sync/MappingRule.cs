namespace KustomerSync.Engine.Sync;

/// <summary>An explicit mapping: a Kustomer field filled from a column, or computed from the row.</summary>
/// <param name="Column">The source column, or for a computed value a short description of it.</param>
public sealed record MappingRule(string Target, string Column, Func<InputRecord, object?>? Compute = null)
{
    public MappingRule(string target, Func<InputRecord, object?> compute, string description) : this(target, description, compute)
    {
    }
}
