using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Kustomer;

/// <summary>One item's outcome in a finished bulk job, matched to its request item by _clientRef.</summary>
public sealed class BulkItemResult
{
    public BulkItemResult(string clientRef, string? objectId, bool succeeded, string? error)
    {
        ClientRef = clientRef;
        ObjectId = objectId;
        Succeeded = succeeded;
        Error = error;
    }

    public string ClientRef { get; }
    public string? ObjectId { get; }
    public bool Succeeded { get; }
    public string? Error { get; }
    public bool IsDuplicate => Error is not null && Error.IndexOf("duplicate", StringComparison.OrdinalIgnoreCase) >= 0;
    public bool IsNotFound => Error is not null && Error.IndexOf("not found", StringComparison.OrdinalIgnoreCase) >= 0;
}

/// <summary>
/// Kustomer's asynchronous bulk endpoints (kustomer-api.md §9): up to 100 items per request, each tagged with a
/// _clientRef; the job is polled until complete and its per-item results read from GET /v1/bulk/{id}/batches.
/// Following a job needs a bulk role (org.permission.bulk or org.user.bulk.read).
/// </summary>
public sealed class BulkGateway
{
    public const int MaxItems = 100;
    private readonly KustomerClient _client;
    private readonly SyncTarget _target;

    public BulkGateway(KustomerClient client, SyncTarget target)
    {
        _client = client;
        _target = target;
    }

    public TimeSpan JobTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Submits items (each already carrying _clientRef; updates also id) and waits for the job's per-item results.
    /// A create whose submission answer was lost raises <see cref="KustomerOutcomeUnknownException"/>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, BulkItemResult>> RunAsync(bool create, JsonArray items, CancellationToken cancellationToken)
    {
        var submitted = await _client.SendAsync(create ? HttpMethod.Post : HttpMethod.Put, _target.CollectionPath + "/bulk", items,
            create ? RequestKind.Create : RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
        var jobId = submitted.DataId ?? throw new KustomerException("KustomerSync.UnexpectedResponse", "Kustomer accepted the bulk request but sent no job id.");
        await WaitForCompletionAsync(jobId, cancellationToken).ConfigureAwait(false);

        var batches = await _client.SendAsync(HttpMethod.Get, $"bulk/{Uri.EscapeDataString(jobId)}/batches", null, RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
        var results = new Dictionary<string, BulkItemResult>(StringComparer.Ordinal);
        foreach (var batch in batches.DataList.OfType<JsonObject>())
        {
            if (batch["attributes"]?["results"] is not JsonArray list) continue;
            foreach (var item in list.OfType<JsonObject>())
            {
                var clientRef = item["_clientRef"]?.ToString();
                if (clientRef is null) continue;
                var status = item["status"]?.ToString();
                results[clientRef] = new BulkItemResult(clientRef, item["objectId"]?.ToString(), status is "created" or "updated", status == "error" ? item["error"]?.ToString() ?? "error" : null);
            }
        }
        return results;
    }

    private async Task WaitForCompletionAsync(string jobId, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(20);
        var deadline = DateTime.UtcNow + JobTimeout;
        while (true)
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            var job = await _client.SendAsync(HttpMethod.Get, $"bulk/{Uri.EscapeDataString(jobId)}", null, RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
            var attributes = job.DataAttributes;
            if (attributes?["status"]?.ToString() == "complete" || attributes?["completed"]?.GetValue<bool>() == true) return;
            if (DateTime.UtcNow > deadline)
                throw new KustomerException("KustomerSync.BulkTimeout", $"Bulk job {jobId} did not complete within {JobTimeout.TotalMinutes:0} minutes.");
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2));
        }
    }

    public static bool IsWholeRequestRejection(KustomerApiException ex) =>
        ex.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge;
}
