using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>Finds, creates and updates one object's records, each the way Kustomer's API does it for that object.</summary>
public sealed class RecordGateway
{
    private readonly KustomerClient _client;
    private readonly KustomerObject _target;
    private readonly RecordKey _key;
    private readonly SearchLookup? _search;
    private volatile bool _searchRefused;

    public RecordGateway(KustomerClient client, KustomerObject target, RecordKey key)
    {
        _client = client;
        _target = target;
        _key = key;
        if (key.Kind == RecordKeyKind.CustomAttribute) _search = new SearchLookup(client, target, key.Attribute!);
    }

    /// <summary>The record holding this key, or null when there is none that the lookup can see (see <see cref="MissIsProofAsync"/>).</summary>
    public async Task<FoundRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var escaped = Uri.EscapeDataString(key);
        switch (_key.Kind)
        {
            case RecordKeyKind.ExternalId when _target.Kind == ObjectKind.Company:
            {
                var list = await _client.SendAsync(HttpMethod.Get, "companies?externalId=" + escaped, null, RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
                return FoundRecord.FromResource(list.DataList.OfType<JsonObject>()
                    .FirstOrDefault(c => string.Equals(c["attributes"]?["externalId"]?.ToString(), key, StringComparison.Ordinal)));
            }
            case RecordKeyKind.ExternalId:
            case RecordKeyKind.Email:
            {
                var segment = _key.Kind == RecordKeyKind.Email ? "email=" : "externalId=";
                var found = await _client.SendAsync(HttpMethod.Get, $"{_target.CollectionPath}/{segment}{escaped}", null, RequestKind.Idempotent,
                    cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
                return found.IsNotFound ? null : FoundRecord.FromResource(found.Body?["data"])
                    ?? throw new KustomerException(ErrorIds.UnexpectedResponse, $"Kustomer found a {_target.DisplayName} for {_key.DisplayName} '{key}' but sent no record id.");
            }
            default:
            {
                var hits = await _search!.FindAsync(key, cancellationToken).ConfigureAwait(false);
                if (hits.Count > 1)
                    throw new KustomerException(ErrorIds.AmbiguousKey,
                        $"{hits.Count} {_target.DisplayName} records have {_key.DisplayName} = '{key}' ({string.Join(", ", hits.Select(h => h.Id))}); a sync key must match one record.");
                return hits.FirstOrDefault();
            }
        }
    }

    /// <summary>The id alone of <see cref="FindAsync"/>'s record. Not enough for an update, which needs the record's links.</summary>
    public async Task<string?> FindIdAsync(string key, CancellationToken cancellationToken) =>
        (await FindAsync(key, cancellationToken).ConfigureAwait(false))?.Id;

    /// <summary>
    /// The customers with these ids as search shows them: one search per 20 ids (the criteria limit) instead of a read
    /// per customer. Search sees only records updated within two years and its hits need not show the company link, so a
    /// customer missing here must still be read by id. Nothing is searched (every id is left to the reads) once search
    /// refused this run, or while the search budget has nothing left in its window: a read by id is cheaper than a wait.
    /// </summary>
    public async Task<IReadOnlyList<FoundRecord>> SearchByIdsAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken)
    {
        const int maxCriteria = 20;
        var distinct = customerIds.Distinct(StringComparer.Ordinal).ToList();
        var found = new List<FoundRecord>(distinct.Count);
        for (var start = 0; start < distinct.Count; start += maxCriteria)
        {
            var ids = distinct.GetRange(start, Math.Min(maxCriteria, distinct.Count - start));
            if (_searchRefused || _client.SearchGate.Remaining == 0) break;
            var body = new JsonObject
            {
                ["queryContext"] = "customer",
                ["or"] = new JsonArray(ids.Select(id => (JsonNode)new JsonObject { ["customer_id"] = new JsonObject { ["equals"] = id } }).ToArray()),
            };
            KustomerResponse page;
            try
            {
                page = await _client.SendAsync(HttpMethod.Post, $"customers/search?page=1&pageSize={maxCriteria}", body, RequestKind.Search, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (KustomerApiException refused) when (!refused.IsTransient && (int)refused.Status != 429)
            {
                _searchRefused = true;
                break;
            }
            found.AddRange(page.DataList.Select(FoundRecord.FromSearchHit).Where(hit => hit is not null && ids.Contains(hit.Id, StringComparer.Ordinal))!);
        }
        return found;
    }

    /// <summary>
    /// Whether <see cref="FindAsync"/> finding nothing proves that no record has the key. Path lookups see every record;
    /// search sees only records updated in the last two years, so for a custom-attribute key a miss is proof only when the
    /// org has no older records of the object (asked once, through the archive search).
    /// </summary>
    public async Task<bool> MissIsProofAsync(CancellationToken cancellationToken) =>
        _search is null || !await _search.MayMissDormantRecordsAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>GET by id: the whole record. A record that is gone raises <see cref="KustomerApiException"/> with 404.</summary>
    public async Task<FoundRecord> ReadAsync(string id, CancellationToken cancellationToken)
    {
        var response = await _client.SendAsync(HttpMethod.Get, $"{_target.CollectionPath}/{Uri.EscapeDataString(id)}", null, RequestKind.Idempotent,
            cancellationToken).ConfigureAwait(false);
        return FoundRecord.FromResource(response.Body?["data"])
            ?? throw new KustomerException(ErrorIds.UnexpectedResponse, $"Kustomer answered the read of {_target.DisplayName} {id} without the record.");
    }

    /// <summary>
    /// POSTs a new record and returns it as Kustomer answered (its id, and for customers what a stamp needs). A lost
    /// answer surfaces as <see cref="KustomerOutcomeUnknownException"/>.
    /// </summary>
    public async Task<FoundRecord> CreateAsync(JsonObject payload, bool markImported, CancellationToken cancellationToken)
    {
        var created = await _client.SendAsync(HttpMethod.Post, _target.CollectionPath, CreateBody(payload, markImported), RequestKind.Create, cancellationToken).ConfigureAwait(false);
        return FoundRecord.FromResource(created.Body?["data"])
            ?? throw new KustomerException(ErrorIds.UnexpectedResponse, "Kustomer confirmed the create but sent no record id.");
    }

    /// <summary>
    /// The body of a create. <paramref name="markImported"/> sets importedAt (unless the mapping does): Kustomer keeps it
    /// as data, and exempts KObjects that carry it from its limit of 120 creates a minute per customer (§6).
    /// </summary>
    public JsonObject CreateBody(JsonObject payload, bool markImported)
    {
        if (!markImported || payload.ContainsKey("importedAt")) return payload;
        var body = (JsonObject)payload.DeepClone();
        body["importedAt"] = _client.Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return body;
    }

    /// <summary>
    /// Updates a record in place (custom attributes merge key by key), keeping every link the payload does not name, and
    /// returns the record as Kustomer answered (null when the answer did not show it). An update that carried a remembered
    /// link and was refused as stale (409: the record changed after the search hit) reads the record and goes again.
    /// </summary>
    public async Task<FoundRecord?> UpdateAsync(FoundRecord current, JsonObject payload, CancellationToken cancellationToken)
    {
        // Customers take PATCH; companies and KObjects only have PUT, which merges like PATCH without replace=true.
        var method = _target.Kind == ObjectKind.Customer ? new HttpMethod("PATCH") : HttpMethod.Put;
        var path = $"{_target.CollectionPath}/{Uri.EscapeDataString(current.Id)}";
        KustomerResponse updated;
        try
        {
            updated = await _client.SendAsync(method, path, await UpdateBodyAsync(current, payload, cancellationToken).ConfigureAwait(false),
                RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerApiException stale) when (current.LinkRemembered && stale.Status == HttpStatusCode.Conflict)
        {
            var fresh = await ReadAsync(current.Id, cancellationToken).ConfigureAwait(false);
            updated = await _client.SendAsync(method, path, UpdateBody(_target, payload, fresh), RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
        }
        return FoundRecord.FromResource(updated.Body?["data"]);
    }

    /// <summary>
    /// The body that updates <paramref name="current"/> with <paramref name="payload"/>. When the customer's company link
    /// is needed but not known (an id from a state store, a search hit without it), the record is read first: one GET,
    /// the only way to be sure an update without a company leaves the link alone.
    /// </summary>
    private async Task<JsonObject> UpdateBodyAsync(FoundRecord current, JsonObject payload, CancellationToken cancellationToken)
    {
        if (NeedsCompanyLink(_target, payload) && !current.CompanyKnown)
            current = await ReadAsync(current.Id, cancellationToken).ConfigureAwait(false);
        return UpdateBody(_target, payload, current);
    }

    /// <summary>True when an update of this payload must carry the customer's current company (the mapping names none).</summary>
    public static bool NeedsCompanyLink(KustomerObject target, JsonObject payload) => target.Kind == ObjectKind.Customer && !payload.ContainsKey("company");

    /// <summary>
    /// The update body: only what the object's update schema accepts, and the customer's current company when the payload
    /// names none, since Kustomer unlinks a customer's company when an update omits it (§4.2). A link remembered from a
    /// stamp goes with the revision it was seen at (§4.1 takes <c>rev</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The link is needed and <paramref name="current"/> does not know it.</exception>
    public static JsonObject UpdateBody(KustomerObject target, JsonObject payload, FoundRecord current)
    {
        var body = UpdatableBody(target, payload, forUpdate: true);
        if (!NeedsCompanyLink(target, payload)) return body;
        if (!current.CompanyKnown)
            throw new ArgumentException($"The company link of customer {current.Id} is not known; read the record before updating it.", nameof(current));
        if (current.CompanyId is null && !current.LinkRemembered) return body;
        if (ReferenceEquals(body, payload)) body = (JsonObject)payload.DeepClone();
        if (current.CompanyId is not null) body["company"] = current.CompanyId;
        if (current.LinkRemembered) body["rev"] = current.Rev;
        return body;
    }

    /// <summary>
    /// The body the object's schema accepts. Updates drop what only a create takes: a KObject's owner (customer, company)
    /// and a company's createdAt and importedAt (PUT /v1/companies rejects both, §5).
    /// </summary>
    public static JsonObject UpdatableBody(KustomerObject target, JsonObject payload, bool forUpdate)
    {
        var createOnly = !forUpdate ? Array.Empty<string>()
            : target.Kind == ObjectKind.KObject ? new[] { "customer", "company" }
            : target.Kind == ObjectKind.Company ? new[] { "createdAt", "importedAt" }
            : Array.Empty<string>();
        if (!createOnly.Any(payload.ContainsKey)) return payload;
        var body = (JsonObject)payload.DeepClone();
        foreach (var field in createOnly) body.Remove(field);
        return body;
    }

    /// <summary>
    /// True when Kustomer refuses a second record with the key, so a create may go before any lookup: customers' external
    /// ids and emails are unique across the org (§4.2). Companies' and KObjects' external ids are not documented as unique.
    /// </summary>
    public static bool KeyIsUnique(KustomerObject target, RecordKey key) =>
        target.Kind == ObjectKind.Customer && key.Kind is RecordKeyKind.ExternalId or RecordKeyKind.Email;

    /// <summary>
    /// A create refused because a unique value is taken. Kustomer documents no status for it (§11): 409, or a 400/422
    /// whose message says duplicate or already exists. The error never names the holder reliably.
    /// </summary>
    public static bool IsConflict(KustomerApiException ex) =>
        ex.Status == HttpStatusCode.Conflict ||
        (ex.Status == HttpStatusCode.BadRequest || (int)ex.Status == 422) &&
        (Mentions(ex.Detail, "duplicate") || Mentions(ex.Detail, "already exist"));

    /// <summary>
    /// The id of the record that holds the value a conflict names (an email or external id at the error's pointer),
    /// looked up by that value; null when the error names no such value or no record has it.
    /// </summary>
    public async Task<string?> FindHolderAsync(KustomerApiException conflict, JsonObject payload, CancellationToken cancellationToken)
    {
        var parts = (conflict.Pointer ?? "").Trim('/').Split('/');
        var (keyName, value) = parts switch
        {
            ["externalId"] => ("ExternalId", payload["externalId"]),
            ["emails", var index, "email"] when _target.Kind == ObjectKind.Customer && int.TryParse(index, out var i) && payload["emails"] is JsonArray emails && i < emails.Count
                => ("Email", emails[i]?["email"]),
            _ => ((string?)null, (JsonNode?)null),
        };
        if (keyName is null || value is not JsonValue text || !text.TryGetValue<string>(out var held)) return null;
        var holder = await new RecordGateway(_client, _target, RecordKey.Parse(keyName, _target)).FindAsync(held, cancellationToken).ConfigureAwait(false);
        return holder?.Id;
    }

    private static bool Mentions(string text, string word) => text.IndexOf(word, StringComparison.OrdinalIgnoreCase) >= 0;
}
