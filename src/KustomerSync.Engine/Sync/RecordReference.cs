using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>A value naming another record by its key, to be replaced by that record's id in <see cref="Field"/>.</summary>
public sealed record RecordReference(FieldSpec Spec, string Value, string Column)
{
    public string Field => Spec.ReferenceField!;
}
