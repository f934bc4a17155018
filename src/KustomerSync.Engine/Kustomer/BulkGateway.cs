using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>One item's outcome in a finished bulk job, matched to its request item by _clientRef.</summary>
public sealed record BulkItemResult(string ClientRef, string? ObjectId, bool Succeeded, string? Error)
{
    public bool IsDuplicate => Error is not null && Error.IndexOf("duplicate", StringComparison.OrdinalIgnoreCase) >= 0;
    public bool IsNotFound => Error is not null && Error.IndexOf("not found", StringComparison.OrdinalIgnoreCase) >= 0;
}

/// <summary>
/// What a bulk job reported, from its batches that finished. <see cref="Complete"/> is false when the job outlived the
/// timeout or its batches could not be read: items without a result then have an unknown outcome.
/// </summary>
public sealed class BulkJobResult
{
    private readonly Dictionary<string, int> _objectIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _errorIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BulkItemResult> _byClientRef = new(StringComparer.Ordinal);

    public bool Complete { get; internal set; }

    /// <summary>Per-item results of the endpoints that take _clientRef.</summary>
    public IReadOnlyDictionary<string, BulkItemResult> ByClientRef => _byClientRef;

    /// <summary>How often a batch listed the id as created or updated.</summary>
    public int TimesWritten(string id) => _objectIds.TryGetValue(id, out var count) ? count : 0;

    /// <summary>True when an error entry named the id.</summary>
    public bool NamedInErrors(string id) => _errorIds.Contains(id);

    internal void Read(JsonObject batch)
    {
        if (batch["objectIds"] is JsonArray ids)
            foreach (var id in ids.Select(i => i?.ToString()).Where(i => i is not null))
                _objectIds[id!] = TimesWritten(id!) + 1;
        if (batch["errors"] is JsonArray errors)
            foreach (var error in errors.OfType<JsonObject>())
                if ((error["objectId"] ?? error["id"])?.ToString() is { } id) _errorIds.Add(id);
        if (batch["results"] is not JsonArray results) return;
        foreach (var item in results.OfType<JsonObject>())
        {
            var clientRef = item["_clientRef"]?.ToString();
            if (clientRef is null) continue;
            var status = item["status"]?.ToString();
            _byClientRef[clientRef] = new BulkItemResult(clientRef, item["objectId"]?.ToString(), status is "created" or "updated",
                status is "created" or "updated" ? null : item["error"]?.ToString() ?? status ?? "no status");
        }
    }
}

/// <summary>
/// Kustomer's asynchronous bulk endpoints (kustomer-api.md §9): up to 100 items and about 100 KB per request, one unit
/// of the rate budget each. A job is followed through GET /v1/bulk/{id}/batches alone, since every batch carries its
/// own status and results, and polled slowly because each poll costs a unit of the budget the whole org shares.
/// Following a job needs a bulk role (org.permission.bulk or org.user.bulk.read).
/// </summary>
public sealed class BulkGateway
{
    public const int MaxItems = 100;

    /// <summary>
    /// Kustomer answers 413 to bodies over about 100 KB, bulk ones included (§1, §9); the exact limit and how it counts
    /// are not documented, so batches stay 10 KB short of it.
    /// </summary>
    public const int MaxBodyBytes = 90 * 1024;

    /// <summary>No poll interval is documented: a job is rarely done within a second, and every poll is a budget unit.</summary>
    public static readonly TimeSpan FirstPoll = TimeSpan.FromSeconds(1.5);
    public static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(8);

    private readonly KustomerClient _client;
    private readonly KustomerObject _target;

    public BulkGateway(KustomerClient client, KustomerObject target)
    {
        _client = client;
        _target = target;
    }

    public TimeSpan JobTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// _clientRef is documented for customer bulk create and update and company bulk create only (§9); elsewhere the
    /// server may reject it or ignore it.
    /// </summary>
    public bool TakesClientRef(bool create) => _target.Kind == ObjectKind.Customer || _target.Kind == ObjectKind.Company && create;

    /// <summary>The item's share of a request body: its serialized bytes plus the separating comma.</summary>
    public static int SizeOf(JsonNode item) => JsonSerializer.SerializeToUtf8Bytes(item).Length + 1;

    /// <summary>
    /// Submits items (updates carrying their id, and _clientRef where <see cref="TakesClientRef"/>) and waits for the
    /// job's batches. A create whose submission answer was lost raises <see cref="KustomerOutcomeUnknownException"/>; a
    /// rejected request raises <see cref="KustomerApiException"/>. Once the job exists nothing is thrown: a job that
    /// outlives <see cref="JobTimeout"/>, or whose batches cannot be read, comes back incomplete.
    /// </summary>
    public async Task<BulkJobResult> RunAsync(bool create, JsonArray items, CancellationToken cancellationToken)
    {
        var submitted = await _client.SendAsync(create ? HttpMethod.Post : HttpMethod.Put, _target.CollectionPath + "/bulk", items,
            create ? RequestKind.Create : RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
        var jobId = submitted.DataId;
        if (jobId is null) return new BulkJobResult();

        var time = _client.Time;
        var deadline = time.GetUtcNow() + JobTimeout;
        var delay = FirstPoll;
        while (true)
        {
            var left = deadline - time.GetUtcNow();
            if (left > TimeSpan.Zero) await Clock.Delay(time, delay < left ? delay : left, cancellationToken).ConfigureAwait(false);
            BulkJobResult result;
            try
            {
                result = await ReadBatchesAsync(jobId, cancellationToken).ConfigureAwait(false);
            }
            catch (KustomerException failed)
            {
                // The job ran or will run regardless, so its items are not failed: they come back without a result. A
                // server error, lost answer or spent rate budget may pass by the next poll; a refusal (no role, no job) will not.
                if (failed is KustomerApiException { IsTransient: false, Status: not (HttpStatusCode)429 } || time.GetUtcNow() >= deadline)
                    return new BulkJobResult();
                result = new BulkJobResult();
            }
            if (result.Complete || time.GetUtcNow() >= deadline) return result;
            delay = delay + delay < MaxPollInterval ? delay + delay : MaxPollInterval;
        }
    }

    /// <summary>Every page of the job's batches; complete when there is at least one and all say complete.</summary>
    private async Task<BulkJobResult> ReadBatchesAsync(string jobId, CancellationToken cancellationToken)
    {
        var result = new BulkJobResult();
        var complete = true;
        var batches = 0;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        for (var path = $"bulk/{Uri.EscapeDataString(jobId)}/batches"; path is not null && visited.Add(path);)
        {
            var page = await _client.SendAsync(HttpMethod.Get, path, null, RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
            // The envelope is undocumented: DEV draws a bare array, the rest of the API wraps lists in data[].attributes.
            var list = page.Body as JsonArray ?? page.Body?["data"] as JsonArray
                ?? throw new KustomerException(ErrorIds.UnexpectedResponse, $"Kustomer's batches of bulk job {jobId} were neither a list nor a data list.");
            foreach (var batch in list.OfType<JsonObject>())
            {
                var fields = batch["attributes"] as JsonObject ?? batch;
                batches++;
                if (fields["status"]?.ToString() == "complete") result.Read(fields);
                else complete = false;
            }
            path = NextPage(page.Body);
        }
        result.Complete = complete && batches > 0;
        return result;
    }

    /// <summary>links.next as a path under /v1 (links are relative, §2), or null on the last page.</summary>
    private static string? NextPage(JsonNode? body)
    {
        if (body is not JsonObject envelope || envelope["links"]?["next"] is not JsonValue next || next.ToString() is not { Length: > 0 } link) return null;
        if (Uri.TryCreate(link, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal)) link = absolute.PathAndQuery;
        link = link.TrimStart('/');
        return link.StartsWith("v1/", StringComparison.Ordinal) ? link.Substring(3) : link;
    }

    public static bool IsWholeRequestRejection(KustomerApiException ex) =>
        ex.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge;
}
