using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;
using KustomerSync.Emulator.RateLimiting;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Bulk;

/// <summary>
/// Runs bulk jobs on the emulator clock: queued for the first half of the job's latency, running for the second,
/// then every item is applied in order under the data lock and the job completes. Timers move a job along, and
/// every read of a job catches it up with the clock first, so advancing the clock (POST /_emulator/clock) finishes
/// jobs without waiting. Per-item failures (duplicates → "duplicate detected", missing ids, bad references, the
/// per-customer KObject create limit) land in the batch results.
/// </summary>
public sealed class BulkProcessor(DataStore store, LiveOptions options, RecordLimits limits, TimeProvider clock)
{
    public void Start(BulkJob job)
    {
        var ct = store.BulkJobs.Generation;
        var half = job.Delay / 2;
        _ = Task.Run(async () =>
        {
            try
            {
                if (half > TimeSpan.Zero) await Task.Delay(half, clock, ct);
                CatchUp(job);
                if (job.Delay - half > TimeSpan.Zero) await Task.Delay(job.Delay - half, clock, ct);
                CatchUp(job);
            }
            catch (OperationCanceledException)
            {
                // reset or shutdown: the job is gone
            }
        }, CancellationToken.None);
    }

    /// <summary>Brings a job to the state the clock says it is in (running, or applied and complete).</summary>
    public void CatchUp(BulkJob job)
    {
        lock (store.Sync)
        {
            var elapsed = clock.GetUtcNow() - job.CreatedAt;
            lock (store.BulkJobs.Sync)
            {
                if (job.Status == "complete" || !ReferenceEquals(store.BulkJobs.Get(job.Id), job)) return;
                if (elapsed < job.Delay)
                {
                    if (elapsed >= job.Delay / 2 && job.Status == "queued") { job.Status = "running"; job.UpdatedAt = clock.GetUtcNow(); }
                    return;
                }
            }
            Process(job);
        }
    }

    private void Process(BulkJob job)
    {
        var o = options.Current;
        var outcomes = new List<(BulkBatch Batch, JsonObject Result, string? ObjectId, JsonObject? Error)>();
        foreach (var batch in job.Batches)
            for (var i = batch.Start; i < batch.Start + batch.Count; i++)
            {
                var item = job.Items[i];
                var result = new JsonObject();
                if (item.ClientRef is not null) result["_clientRef"] = item.ClientRef;
                try
                {
                    var id = Apply(job, item);
                    result["objectId"] = id;
                    result["status"] = job.Operation switch { BulkOperation.Create => "created", BulkOperation.Update => "updated", _ => "deleted" };
                    outcomes.Add((batch, result, id, null));
                }
                catch (ApiException raw)
                {
                    var e = raw.ForClient(o);
                    var message = raw.DuplicateOf is not null ? "duplicate detected" : e.Detail ?? e.Title;
                    if (item.Id is not null) result["objectId"] = item.Id;
                    result["status"] = "error";
                    result["error"] = message;
                    var error = new JsonObject { ["status"] = e.Status, ["error"] = message, ["detail"] = e.Detail };
                    if (item.ClientRef is not null) error["_clientRef"] = item.ClientRef;
                    if (item.Id is not null) error["objectId"] = item.Id;
                    if (e.Meta is not null) error["meta"] = e.Meta.DeepClone();
                    outcomes.Add((batch, result, null, error));
                }
            }
        lock (store.BulkJobs.Sync)
        {
            var now = clock.GetUtcNow();
            foreach (var (batch, result, objectId, error) in outcomes)
            {
                if (job.UsesClientRef) batch.Results.Add(result);
                if (objectId is not null) { batch.ObjectIds.Add(objectId); batch.SuccessCount++; }
                if (error is not null) { batch.Errors.Add(error); batch.FailureCount++; }
            }
            foreach (var batch in job.Batches) batch.CompletedAt = now;
            job.Status = "complete";
            job.CompletedAt = job.UpdatedAt = now;
        }
    }

    private string Apply(BulkJob job, BulkItem item)
    {
        var user = job.UserId;
        JsonObject resource;
        switch (job.Kind, job.Operation)
        {
            case (BulkObjectKind.Customer, BulkOperation.Create): resource = store.Customers.Create(item.Body!, user); break;
            case (BulkObjectKind.Customer, BulkOperation.Update): resource = store.Customers.Update(item.Id!, item.Body!, WriteMode.Merge, job.UnlinkCompanyOnOmit, user); break;
            case (BulkObjectKind.Customer, BulkOperation.Delete): store.Customers.Delete(item.Id!); return item.Id!;
            case (BulkObjectKind.Company, BulkOperation.Create): resource = store.Companies.Create(item.Body!, user); break;
            case (BulkObjectKind.Company, BulkOperation.Update): resource = store.Companies.Update(item.Id!, item.Body!, user); break;
            case (BulkObjectKind.KObject, BulkOperation.Create):
                limits.KObjectCreate(user, item.Body!);
                resource = store.KObjects.Create(job.Klass!, item.Body!, user);
                break;
            case (BulkObjectKind.KObject, BulkOperation.Update): resource = store.KObjects.Update(job.Klass!, item.Id!, item.Body!, user); break;
            case (BulkObjectKind.KObject, BulkOperation.Delete): store.KObjects.Delete(job.Klass!, item.Id!); return item.Id!;
            default: throw new InvalidOperationException($"unsupported bulk {job.Kind} {job.Operation}");
        }
        return resource["id"]!.GetValue<string>();
    }

    // ---- presentation (call under the bulk store's lock) ----

    public static JsonObject PresentJob(BulkJob job)
    {
        var ids = new JsonArray();
        foreach (var id in job.Ids) ids.Add(id);
        var complete = job.Status == "complete";
        var attributes = new JsonObject
        {
            ["status"] = job.Status,
            ["context"] = job.Context,
            ["ids"] = ids,
            ["completed"] = complete,
            ["batches"] = new JsonObject { ["complete"] = complete ? job.Batches.Count : 0, ["total"] = job.Batches.Count },
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

    /// <summary>A batch's attributes: status, objectIds, counts, errors, results[] (only when _clientRef was used).</summary>
    public static JsonObject BatchAttributes(BulkJob job, BulkBatch batch)
    {
        var attributes = new JsonObject
        {
            ["status"] = job.Status switch { "complete" => "complete", "running" => "scheduled", _ => "queued" },
            ["objectIds"] = new JsonArray(batch.ObjectIds.Select(id => (JsonNode)JsonValue.Create(id)).ToArray()),
            ["successCount"] = batch.SuccessCount,
            ["failureCount"] = batch.FailureCount,
            ["errors"] = new JsonArray(batch.Errors.Select(e => (JsonNode)e.DeepClone()).ToArray()),
            ["completedAt"] = batch.CompletedAt is { } c ? ResourcePresenter.Timestamp(c) : null,
            ["createdAt"] = ResourcePresenter.Timestamp(job.CreatedAt),
            ["updatedAt"] = ResourcePresenter.Timestamp(job.UpdatedAt),
        };
        if (job.UsesClientRef) attributes["results"] = new JsonArray(batch.Results.Select(r => (JsonNode)r.DeepClone()).ToArray());
        return attributes;
    }

    /// <summary>A batch as a JSON:API resource (the <c>data</c> envelope).</summary>
    public static JsonObject PresentBatch(BulkJob job, BulkBatch batch) => new()
    {
        ["type"] = "bulk_batch",
        ["id"] = batch.Id,
        ["attributes"] = BatchAttributes(job, batch),
        ["relationships"] = new JsonObject { ["bulk"] = ResourcePresenter.Link("bulk", job.Id, $"/v1/bulk/{job.Id}") },
    };
}
