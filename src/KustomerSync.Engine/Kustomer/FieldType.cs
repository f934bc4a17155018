namespace KustomerSync.Engine.Kustomer;

/// <summary>The type a Kustomer field demands; custom attributes get theirs from the name's suffix.</summary>
public enum FieldType
{
    String,
    Text,
    Number,
    Bool,
    DateTime,
    Url,
    Email,
    Phone,
    ObjectId,
    Tags,
    Tree,
    Json,
}
