using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>A value naming another record by its key, to be replaced by that record's id in <see cref="Field"/>.</summary>
public sealed class RecordReference
{
    public RecordReference(FieldSpec spec, string value, string column)
    {
        Spec = spec;
        Value = value;
        Column = column;
    }

    public FieldSpec Spec { get; }
    public string Field => Spec.ReferenceField!;
    public string Value { get; }
    public string Column { get; }
}
