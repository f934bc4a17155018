using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Store;

public enum BulkObjectKind { Customer, Company, KObject }

public enum BulkOperation { Create, Update, Delete }

/// <summary>One item of a bulk request: its body (without <c>_clientRef</c>), target id for updates/deletes, and client reference.</summary>
public sealed record BulkItem(JsonObject? Body, string? Id, string? ClientRef);

/// <summary>One batch of a job: a run of its items with its own counts, results and errors.</summary>
public sealed class BulkBatch
{
    public required string Id { get; init; }
    public required int Start { get; init; }
    public required int Count { get; init; }
    public DateTimeOffset? CompletedAt { get; set; }
    public List<JsonObject> Results { get; } = [];
    public List<string> ObjectIds { get; } = [];
    public List<JsonObject> Errors { get; } = [];
    public int SuccessCount { get; set; }
    public int FailureCount { get; set; }
}

/// <summary>
/// An asynchronous bulk job (§9) of ≤100 items in batches of <c>--bulk-batch-items</c>: queued for the first half of
/// its latency, running for the second, then every item is applied and the job is complete.
/// </summary>
public sealed class BulkJob
{
    public required string Id { get; init; }
    public required BulkObjectKind Kind { get; init; }
    public string? Klass { get; init; }
    public required BulkOperation Operation { get; init; }
    public required string Context { get; init; }
    public required IReadOnlyList<BulkItem> Items { get; init; }
    public required IReadOnlyList<BulkBatch> Batches { get; init; }
    public bool UsesClientRef { get; init; }
    /// <summary>The shared body of <c>?ids=</c> mode.</summary>
    public JsonObject? Payload { get; init; }
    public IReadOnlyList<string> Ids { get; init; } = [];
    public required string UserId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The latency the job was submitted with (queued for half of it, then running).</summary>
    public required TimeSpan Delay { get; init; }
    /// <summary>Customer updates: an item without <c>company</c> unlinks it (captured at submit).</summary>
    public bool UnlinkCompanyOnOmit { get; init; }

    // Mutable state, guarded by the bulk store's lock.
    public string Status { get; set; } = "queued";
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>Bulk jobs by id. Its lock guards job state; <see cref="Generation"/> is cancelled on reset.</summary>
public sealed class BulkJobStore
{
    private readonly Dictionary<string, BulkJob> _jobs = new(StringComparer.Ordinal);
    private CancellationTokenSource _generation = new();

    public object Sync { get; } = new();

    public CancellationToken Generation { get { lock (Sync) return _generation.Token; } }

    public void Add(BulkJob job) { lock (Sync) _jobs[job.Id] = job; }

    public BulkJob? Get(string id) { lock (Sync) return _jobs.GetValueOrDefault(id); }

    public List<BulkJob> All() { lock (Sync) return _jobs.Values.OrderBy(j => j.CreatedAt).ToList(); }

    public void Clear()
    {
        lock (Sync)
        {
            _generation.Cancel();
            _generation.Dispose();
            _generation = new CancellationTokenSource();
            _jobs.Clear();
        }
    }

    public void Shutdown() { lock (Sync) _generation.Cancel(); }
}
