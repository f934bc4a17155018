using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Bulk;

/// <summary>
/// Runs bulk jobs in the background: queued for half of <c>--bulk-delay-ms</c>, running for the other
/// half, then every item is applied in order under the data lock and the job completes. Per-item
/// failures (duplicates → "duplicate detected", missing ids, bad references) land in the batch results.
/// </summary>
public sealed class BulkProcessor(DataStore store, LiveOptions options)
{
    public void Start(BulkJob job)
    {
        var ct = store.BulkJobs.Generation;
        var delay = options.Current.BulkDelayMs;
        _ = Task.Run(async () =>
        {
            try
            {
                if (delay > 0) await Task.Delay(delay / 2, ct);
                lock (store.BulkJobs.Sync) { job.Status = "running"; job.UpdatedAt = DateTimeOffset.UtcNow; }
                if (delay > 0) await Task.Delay(delay - delay / 2, ct);
                ct.ThrowIfCancellationRequested();
                Process(job);
            }
            catch (OperationCanceledException)
            {
                // reset or shutdown: the job is gone
            }
        }, CancellationToken.None);
    }

    private void Process(BulkJob job)
    {
        lock (store.Sync)
        {
            var results = new List<JsonObject>();
            var objectIds = new List<string>();
            var errors = new List<JsonObject>();
            var ok = 0;
            var failed = 0;
            for (var i = 0; i < job.Items.Count; i++)
            {
                var item = job.Items[i];
                var result = new JsonObject();
                if (item.ClientRef is not null) result["_clientRef"] = item.ClientRef;
                try
                {
                    var id = Apply(job, item);
                    objectIds.Add(id);
                    result["objectId"] = id;
                    result["status"] = job.Operation == BulkOperation.Create ? "created" : job.Operation == BulkOperation.Update ? "updated" : "deleted";
                    ok++;
                }
                catch (ApiException e)
                {
                    var message = e.Status == 409 && e.Title == "duplicate detected" ? "duplicate detected" : e.Detail ?? e.Title;
                    if (item.Id is not null) result["objectId"] = item.Id;
                    result["status"] = "error";
                    result["error"] = message;
                    var error = new JsonObject { ["status"] = e.Status, ["error"] = message, ["detail"] = e.Detail };
                    if (item.ClientRef is not null) error["_clientRef"] = item.ClientRef;
                    if (item.Id is not null) error["objectId"] = item.Id;
                    if (e.Meta is not null) error["meta"] = e.Meta.DeepClone();
                    errors.Add(error);
                    failed++;
                }
                results.Add(result);
            }
            lock (store.BulkJobs.Sync)
            {
                if (job.UsesClientRef) job.Results.AddRange(results);
                job.ObjectIds.AddRange(objectIds);
                job.Errors.AddRange(errors);
                job.SuccessCount = ok;
                job.FailureCount = failed;
                job.Status = "complete";
                job.CompletedAt = job.UpdatedAt = DateTimeOffset.UtcNow;
            }
        }
    }

    private string Apply(BulkJob job, BulkItem item)
    {
        var user = job.UserId;
        JsonObject resource;
        switch (job.Kind, job.Operation)
        {
            case (BulkObjectKind.Customer, BulkOperation.Create): resource = store.Customers.Create(item.Body!, user); break;
            case (BulkObjectKind.Customer, BulkOperation.Update): resource = store.Customers.Update(item.Id!, item.Body!, WriteMode.Merge, user); break;
            case (BulkObjectKind.Customer, BulkOperation.Delete): store.Customers.Delete(item.Id!); return item.Id!;
            case (BulkObjectKind.Company, BulkOperation.Create): resource = store.Companies.Create(item.Body!, user); break;
            case (BulkObjectKind.Company, BulkOperation.Update): resource = store.Companies.Update(item.Id!, item.Body!, user); break;
            case (BulkObjectKind.KObject, BulkOperation.Create): resource = store.KObjects.Create(job.Klass!, item.Body!, user); break;
            case (BulkObjectKind.KObject, BulkOperation.Update): resource = store.KObjects.Update(job.Klass!, item.Id!, item.Body!, user); break;
            case (BulkObjectKind.KObject, BulkOperation.Delete): store.KObjects.Delete(job.Klass!, item.Id!); return item.Id!;
            default: throw new InvalidOperationException($"unsupported bulk {job.Kind} {job.Operation}");
        }
        return resource["id"]!.GetValue<string>();
    }

    // ---- presentation ----

    public static JsonObject PresentJob(BulkJob job)
    {
        var ids = new JsonArray();
        foreach (var id in job.Ids) ids.Add(id);
        var attributes = new JsonObject
        {
            ["status"] = job.Status,
            ["context"] = job.Context,
            ["ids"] = ids,
            ["completed"] = job.Status == "complete",
            ["batches"] = new JsonObject { ["complete"] = job.Status == "complete" ? 1 : 0, ["total"] = 1 },
            ["createdAt"] = ResourcePresenter.Timestamp(job.CreatedAt),
            ["updatedAt"] = ResourcePresenter.Timestamp(job.UpdatedAt),
            ["completedAt"] = job.CompletedAt is { } c ? ResourcePresenter.Timestamp(c) : null,
        };
        if (job.Payload is not null) attributes["payload"] = job.Payload.DeepClone();
        return new JsonObject
        {
            ["type"] = "bulk",
            ["id"] = job.Id,
            ["attributes"] = attributes,
            ["links"] = new JsonObject { ["self"] = $"/v1/bulk/{job.Id}", ["batches"] = $"/v1/bulk/{job.Id}/batches" },
        };
    }

    public static JsonObject PresentBatch(BulkJob job)
    {
        var attributes = new JsonObject
        {
            ["status"] = job.Status switch { "complete" => "complete", "running" => "scheduled", _ => "queued" },
            ["objectIds"] = new JsonArray(job.ObjectIds.Select(id => (JsonNode)JsonValue.Create(id)).ToArray()),
            ["successCount"] = job.SuccessCount,
            ["failureCount"] = job.FailureCount,
            ["errors"] = new JsonArray(job.Errors.Select(e => (JsonNode)e.DeepClone()).ToArray()),
            ["completedAt"] = job.CompletedAt is { } c ? ResourcePresenter.Timestamp(c) : null,
            ["createdAt"] = ResourcePresenter.Timestamp(job.CreatedAt),
            ["updatedAt"] = ResourcePresenter.Timestamp(job.UpdatedAt),
        };
        if (job.UsesClientRef) attributes["results"] = new JsonArray(job.Results.Select(r => (JsonNode)r.DeepClone()).ToArray());
        return new JsonObject
        {
            ["type"] = "bulk_batch",
            ["id"] = job.BatchId,
            ["attributes"] = attributes,
            ["relationships"] = new JsonObject { ["bulk"] = ResourcePresenter.Link("bulk", job.Id, $"/v1/bulk/{job.Id}") },
        };
    }
}
