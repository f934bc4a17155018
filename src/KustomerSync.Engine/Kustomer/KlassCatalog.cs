using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// Lists the org's klasses (GET /v1/klasses, every page of every status) for Get-KustomerSchema -Klasses and completion.
/// Kustomer lists only enabled klasses unless asked for a status, one status per request (§6).
/// </summary>
public static class KlassCatalog
{
    public const int PageSize = 100;

    /// <summary>Guards against a server whose paging never ends.</summary>
    public const int MaxPages = 1000;

    public static readonly string[] Statuses = { "enabled", "existing_only", "disabled" };

    /// <summary>Every klass of the org, whatever its status, sorted by name.</summary>
    /// <exception cref="KustomerException">KustomerSync.MissingRole when the key holds no klass read role.</exception>
    public static async Task<IReadOnlyList<KustomerKlass>> ListAsync(KustomerClient client, string? destinationName, CancellationToken cancellationToken)
    {
        var klasses = new List<KustomerKlass>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var status in Statuses)
        {
            for (var page = 1; page <= MaxPages; page++)
            {
                KustomerResponse response;
                try
                {
                    response = await client.SendAsync(HttpMethod.Get, $"klasses?status={status}&page={page}&pageSize={PageSize}", null,
                        RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
                }
                catch (KustomerApiException ex) when (ex.Status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
                {
                    if (!await client.IsRefusedForRoleAsync(ex, cancellationToken).ConfigureAwait(false)) throw;
                    throw MissingRole("list the klasses (GET /v1/klasses)", KustomerRoles.KlassRead, ex);
                }
                var items = response.DataList;
                var added = 0;
                foreach (var item in items)
                {
                    if (Read(item, destinationName) is not { } klass || !seen.Add(klass.Name)) continue;
                    klasses.Add(klass);
                    added++;
                }
                // The last page is short, or says there is no next one; a page of repeats means the server ignores paging.
                if (items.Count < PageSize || added == 0 || response.Body?["links"] is JsonObject links && links.ContainsKey("next") && links["next"] is null)
                    break;
            }
        }
        return klasses.OrderBy(k => k.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    internal static KustomerKlass? Read(JsonNode? item, string? destinationName)
    {
        var attributes = item?["attributes"] as JsonObject;
        var name = Text(attributes?["name"]);
        if (string.IsNullOrEmpty(name)) return null;
        return new KustomerKlass
        {
            Destination = destinationName,
            Name = name!,
            DisplayName = Text(attributes!["displayName"]) ?? name,
            Status = Text(attributes["status"]),
            Object = "kobject." + name,
            Id = Text(item!["id"]),
            Icon = Text(attributes["icon"]),
            Color = Text(attributes["color"]),
            Description = Text(attributes["description"]),
            CreatedAt = Date(attributes["createdAt"]),
            UpdatedAt = Date(attributes["updatedAt"]),
        };
    }

    /// <summary>The error for a refusal by role (403, or 401 from a good key): names the roles any one of which would do, and that keys cannot be edited.</summary>
    internal static KustomerException MissingRole(string what, IReadOnlyList<string> roles, KustomerApiException inner) =>
        new(ErrorIds.MissingRole,
            $"The API key may not {what}: Kustomer answered {(int)inner.Status} {inner.Status}. It needs one of the roles {string.Join(", ", roles)} " +
            $"(Census's role set includes {roles[roles.Count - 1]}). Kustomer keys cannot be edited: create a key with the role and connect again.", inner);

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static DateTime? Date(JsonNode? node) =>
        Text(node) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed.UtcDateTime : null;
}
