namespace KustomerSync.Engine.Runs.Guards;

/// <summary>The checks that refuse a run whose source looks broken, before anything is written.</summary>
public enum GuardKind
{
    /// <summary>A full-table source returned no rows although the sync has synced rows before.</summary>
    EmptySource,
    /// <summary>A full-table source returned far fewer rows than the last successful run.</summary>
    SourceShrank,
    /// <summary>The run would change more than a share of the records the sync knows.</summary>
    TooManyChanges,
    /// <summary>The run would clear a field on more than a share of the records that had a value in it.</summary>
    FieldCleared,
}
