using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Kustomer;

/// <summary>Reads an org's custom attributes (GET /v1/metadata/{resource}) and builds the object's schema.</summary>
public static class SchemaCatalog
{
    public static async Task<ObjectSchema> LoadAsync(KustomerClient client, SyncTarget target, CancellationToken cancellationToken)
    {
        KustomerResponse response;
        try
        {
            response = await client.SendAsync(HttpMethod.Get, "metadata/" + Uri.EscapeDataString(target.MetadataResource), null,
                RequestKind.Idempotent, cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
        }
        catch (KustomerApiException ex) when (ex.Status == HttpStatusCode.Forbidden)
        {
            // Without a metadata role the custom attributes are still writable; their types then come from suffixes.
            return new ObjectSchema(target, Array.Empty<FieldSpec>(), customAttributesKnown: false);
        }
        if (response.IsNotFound)
        {
            if (target.Kind == "kobject")
                throw new KustomerException("KustomerSync.UnknownKlass", $"Kustomer has no klass named '{target.Klass}'. Get-KustomerSchema -Klasses lists the klasses of the org.");
            return new ObjectSchema(target, Array.Empty<FieldSpec>(), customAttributesKnown: true);
        }
        return new ObjectSchema(target, ReadAttributes(response.DataAttributes?["properties"] as JsonObject), customAttributesKnown: true);
    }

    private static IEnumerable<FieldSpec> ReadAttributes(JsonObject? properties)
    {
        if (properties is null) yield break;
        foreach (var property in properties)
        {
            if (!CustomAttributeTypes.TryFromSuffix(property.Key, out var type)) continue;
            var displayName = property.Value?["displayName"]?.ToString();
            yield return new FieldSpec("custom." + property.Key, type, CustomAttributeTypes.MaxLength(type), displayName);
        }
    }
}
