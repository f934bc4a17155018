namespace KustomerSync.Engine.Kustomer;

/// <summary>The three kinds of record Kustomer stores that a sync can write.</summary>
public enum ObjectKind
{
    Customer,
    Company,
    KObject,
}
