namespace KustomerSync.Engine.Kustomer;

/// <summary>The standard writable attributes of each object (kustomer-api.md §4.1, §5, §6).</summary>
public static class StandardFields
{
    private static readonly FieldSpec[] Customer =
    {
        new("externalId", FieldType.String, 256), new("name", FieldType.String, 256), new("username", FieldType.String, 256),
        new("email", FieldType.Email, 256, "default email (emails[0])"), new("phone", FieldType.Phone, 64, "default phone (phones[0])"),
        new("company", FieldType.ObjectId, 0, "company id"),
        FieldSpec.Reference("companyExternalId", "company", KustomerObject.Company, RecordKeyKind.ExternalId, "the company's externalId, resolved to its id"),
        new("signedUpAt", FieldType.DateTime), new("lastActivityAt", FieldType.DateTime), new("lastCustomerActivityAt", FieldType.DateTime),
        new("lastSeenAt", FieldType.DateTime), new("birthdayAt", FieldType.DateTime), new("avatarUrl", FieldType.Url),
        new("locale", FieldType.String, 16), new("timeZone", FieldType.String, 64), new("gender", FieldType.String, 1),
        new("defaultLang", FieldType.String, 100), new("tags", FieldType.Tags), new("createdAt", FieldType.DateTime),
        new("importedAt", FieldType.DateTime),
    };

    private static readonly FieldSpec[] Company =
    {
        new("externalId", FieldType.String, 256), new("name", FieldType.String, 256) { MinLength = 3 }, new("avatarUrl", FieldType.Url),
        new("email", FieldType.Email, 256, "default email (emails[0])"), new("phone", FieldType.Phone, 64, "default phone (phones[0])"),
        new("domain", FieldType.String, 256, "default domain (domains[0])"), new("employeeCount", FieldType.Number),
        new("defaultLang", FieldType.String, 100), new("tags", FieldType.Tags), new("createdAt", FieldType.DateTime),
        new("importedAt", FieldType.DateTime),
    };

    private static readonly FieldSpec[] KObject =
    {
        new("externalId", FieldType.String, 256), new("title", FieldType.String, 256), new("description", FieldType.String, 10240),
        new("icon", FieldType.String, 64), new("customer", FieldType.ObjectId, 0, "customer id"),
        FieldSpec.Reference("customerExternalId", "customer", KustomerObject.Customer, RecordKeyKind.ExternalId, "the customer's externalId, resolved to its id"),
        FieldSpec.Reference("customerEmail", "customer", KustomerObject.Customer, RecordKeyKind.Email, "the customer's email, resolved to its id"),
        new("company", FieldType.ObjectId, 0, "company id"),
        FieldSpec.Reference("companyExternalId", "company", KustomerObject.Company, RecordKeyKind.ExternalId, "the company's externalId, resolved to its id"),
        new("tags", FieldType.Tags), new("data", FieldType.Json),
        new("createdAt", FieldType.DateTime), new("importedAt", FieldType.DateTime),
    };

    public static IReadOnlyList<FieldSpec> For(KustomerObject target) => target.Kind switch
    {
        ObjectKind.Customer => Customer,
        ObjectKind.Company => Company,
        _ => KObject,
    };
}
