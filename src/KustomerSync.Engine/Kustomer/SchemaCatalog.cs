using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>Reads an org's custom attributes (GET /v1/metadata/{resource}) and builds the object's schema.</summary>
public static class SchemaCatalog
{
    public static async Task<ObjectSchema> LoadAsync(KustomerClient client, KustomerObject target, CancellationToken cancellationToken)
    {
        KustomerResponse response;
        try
        {
            response = await client.SendAsync(HttpMethod.Get, "metadata/" + Uri.EscapeDataString(target.MetadataResource), null,
                RequestKind.Idempotent, cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
        }
        catch (KustomerApiException ex) when (ex.Status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            if (!await client.IsRefusedForRoleAsync(ex, cancellationToken).ConfigureAwait(false)) throw;
            // Without a metadata role the custom attributes are still writable; their types then come from suffixes.
            return new ObjectSchema(target, Array.Empty<FieldSpec>(), customAttributesKnown: false);
        }
        if (response.IsNotFound)
        {
            if (target.Kind == ObjectKind.KObject)
                throw new KustomerException(ErrorIds.UnknownKlass, $"Kustomer has no klass named '{target.Klass}'.");
            return new ObjectSchema(target, Array.Empty<FieldSpec>(), customAttributesKnown: true);
        }
        return new ObjectSchema(target, ReadAttributes(response.DataAttributes?["properties"] as JsonObject), customAttributesKnown: true);
    }

    /// <summary>
    /// The org's custom attributes of an object for Get-KustomerSchema, with display names, enumerations, tree values
    /// and Id targets; with <paramref name="includeStandard"/> the standard writable fields the mapper accepts come first.
    /// Unlike <see cref="LoadAsync"/>, a key without a metadata role is an error here (there is nothing to list).
    /// </summary>
    /// <exception cref="KustomerException">KustomerSync.MissingRole (403, or 401 from a good key), KustomerSync.UnknownKlass (no such klass).</exception>
    public static async Task<IReadOnlyList<KustomerAttribute>> ListAttributesAsync(KustomerClient client, KustomerObject target, bool includeStandard,
        string? destinationName, CancellationToken cancellationToken)
    {
        KustomerResponse response;
        try
        {
            response = await client.SendAsync(HttpMethod.Get, "metadata/" + Uri.EscapeDataString(target.MetadataResource), null,
                RequestKind.Idempotent, cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
        }
        catch (KustomerApiException ex) when (ex.Status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            if (!await client.IsRefusedForRoleAsync(ex, cancellationToken).ConfigureAwait(false)) throw;
            throw KlassCatalog.MissingRole($"read the custom attributes of {target.DisplayName} (GET /v1/metadata/{target.MetadataResource})", KustomerRoles.MetadataRead, ex);
        }
        var properties = response.IsNotFound ? null : response.DataAttributes?["properties"] as JsonObject;
        if (target.Kind == ObjectKind.KObject && (response.IsNotFound || properties is null || properties.Count == 0) &&
            !await KlassExistsAsync(client, target, response.IsNotFound, cancellationToken).ConfigureAwait(false))
            throw new KustomerException(ErrorIds.UnknownKlass, $"Kustomer has no klass named '{target.Klass}'.");

        var list = new List<KustomerAttribute>();
        if (includeStandard)
            list.AddRange(StandardFields.For(target).Select(f => new KustomerAttribute
            {
                Destination = destinationName, Object = target.DisplayName, Name = f.Path, Path = f.Path, Type = f.Type.ToString(),
                DisplayName = f.DisplayName, MaxLength = f.MaxLength > 0 ? f.MaxLength : null, IsCustom = false,
            }));
        if (properties is null) return list;
        foreach (var property in properties.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (!CustomAttributeTypes.TryFromSuffix(property.Key, out var type)) continue;
            var definition = property.Value as JsonObject;
            var maxLength = CustomAttributeTypes.MaxLength(type);
            list.Add(new KustomerAttribute
            {
                Destination = destinationName, Object = target.DisplayName, Name = property.Key, Path = "custom." + property.Key,
                Type = type.ToString(), Suffix = CustomAttributeTypes.SuffixOf(type), IsCustom = true,
                DisplayName = definition?["displayName"] is JsonValue d && d.TryGetValue<string>(out var display) ? display : null,
                Enumeration = Strings(definition?["enumeration"] as JsonArray),
                TreeValues = TreeIds(definition?["tree"]?["children"] as JsonArray).ToArray(),
                Target = definition?["target"] is JsonValue t && t.TryGetValue<string>(out var targetText) ? targetText : null,
                Multi = definition?["multi"] is JsonValue m && m.TryGetValue<bool>(out var multi) && multi,
                MaxLength = maxLength > 0 ? maxLength : null,
            });
        }
        return list;
    }

    /// <summary>A 404 on a kobject's metadata means no such klass; an empty answer is checked against the klass list when the key may read it.</summary>
    private static async Task<bool> KlassExistsAsync(KustomerClient client, KustomerObject target, bool metadataNotFound, CancellationToken cancellationToken)
    {
        if (metadataNotFound) return false;
        try
        {
            var klasses = await KlassCatalog.ListAsync(client, null, cancellationToken).ConfigureAwait(false);
            return klasses.Any(k => string.Equals(k.Name, target.Klass, StringComparison.Ordinal));
        }
        catch (KustomerException ex) when (ex.ErrorId == ErrorIds.MissingRole)
        {
            return true;
        }
    }

    private static string[] Strings(JsonArray? array) =>
        array is null ? Array.Empty<string>() : array.Select(v => v?.ToString() ?? "").Where(v => v.Length > 0).ToArray();

    private static IEnumerable<string> TreeIds(JsonArray? children)
    {
        if (children is null) yield break;
        foreach (var child in children)
        {
            if (child?["id"]?.ToString() is { Length: > 0 } id) yield return id;
            foreach (var nested in TreeIds(child?["children"] as JsonArray)) yield return nested;
        }
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
