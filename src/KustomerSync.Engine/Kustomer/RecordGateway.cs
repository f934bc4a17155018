using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Kustomer;

/// <summary>Finds, creates and updates one object's records, each the way Kustomer's API does it for that object.</summary>
public sealed class RecordGateway
{
    private readonly KustomerClient _client;
    private readonly SyncTarget _target;
    private readonly SyncKey _key;
    private readonly SearchLookup? _search;

    public RecordGateway(KustomerClient client, SyncTarget target, SyncKey key)
    {
        _client = client;
        _target = target;
        _key = key;
        if (key.Kind == SyncKeyKind.CustomAttribute) _search = new SearchLookup(client, target, key.Attribute!);
    }

    /// <summary>The Kustomer id of the record holding this key, or null when there is none.</summary>
    public async Task<string?> FindIdAsync(string key, CancellationToken cancellationToken)
    {
        var escaped = Uri.EscapeDataString(key);
        switch (_key.Kind)
        {
            case SyncKeyKind.ExternalId when _target.Kind == "company":
            {
                var list = await _client.SendAsync(HttpMethod.Get, "companies?externalId=" + escaped, null, RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
                return list.DataList.OfType<JsonObject>()
                    .FirstOrDefault(c => string.Equals(c["attributes"]?["externalId"]?.ToString(), key, StringComparison.Ordinal))?["id"]?.ToString();
            }
            case SyncKeyKind.ExternalId:
            case SyncKeyKind.Email:
            {
                var segment = _key.Kind == SyncKeyKind.Email ? "email=" : "externalId=";
                var found = await _client.SendAsync(HttpMethod.Get, $"{_target.CollectionPath}/{segment}{escaped}", null, RequestKind.Idempotent,
                    cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
                return found.IsNotFound ? null : found.DataId;
            }
            default:
            {
                var ids = await _search!.FindAsync(key, cancellationToken).ConfigureAwait(false);
                if (ids.Count > 1)
                    throw new KustomerException("KustomerSync.AmbiguousKey",
                        $"{ids.Count} {_target.DisplayName} records have {_key.DisplayName} = '{key}' ({string.Join(", ", ids)}); a sync key must match one record.");
                return ids.FirstOrDefault();
            }
        }
    }

    /// <summary>POSTs a new record and returns its id. A lost answer surfaces as <see cref="KustomerOutcomeUnknownException"/>.</summary>
    public async Task<string> CreateAsync(JsonObject payload, CancellationToken cancellationToken)
    {
        var created = await _client.SendAsync(HttpMethod.Post, _target.CollectionPath, payload, RequestKind.Create, cancellationToken).ConfigureAwait(false);
        return created.DataId ?? throw new KustomerException("KustomerSync.UnexpectedResponse", "Kustomer confirmed the create but sent no record id.");
    }

    /// <summary>Updates a record in place, merging custom attributes key by key.</summary>
    public Task UpdateAsync(string id, JsonObject payload, CancellationToken cancellationToken)
    {
        // Customers take PATCH; companies and KObjects only have PUT, which merges like PATCH without replace=true.
        var method = _target.Kind == "customer" ? new HttpMethod("PATCH") : HttpMethod.Put;
        return _client.SendAsync(method, $"{_target.CollectionPath}/{Uri.EscapeDataString(id)}", UpdatableBody(_target, payload, forUpdate: true),
            RequestKind.Idempotent, cancellationToken);
    }

    /// <summary>The body Kustomer accepts: a KObject's owner is set when it is created, and its update schema rejects both fields.</summary>
    public static JsonObject UpdatableBody(SyncTarget target, JsonObject payload, bool forUpdate)
    {
        if (!forUpdate || target.Kind != "kobject" || !payload.ContainsKey("customer") && !payload.ContainsKey("company")) return payload;
        var body = (JsonObject)payload.DeepClone();
        body.Remove("customer");
        body.Remove("company");
        return body;
    }

    public static bool IsConflict(KustomerApiException ex) => ex.Status == HttpStatusCode.Conflict;
}
