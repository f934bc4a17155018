namespace KustomerSync.Emulator.Hosting;

/// <summary>
/// Everything that shapes an emulator instance. Settable from the command line, from a JSON file
/// (<c>--config</c>), in process (xunit) and partly at run time (<c>PUT /_emulator/options</c>).
/// Numeric properties are read on every request, so run-time changes take effect immediately.
/// </summary>
public sealed class EmulatorOptions
{
    /// <summary>Org name (the <c>{org}</c> of <c>{org}.api.kustomerapp.com</c>). Default <c>emulator</c>.</summary>
    public string Org { get; set; } = "emulator";

    /// <summary>URL to listen on when run as a process, e.g. <c>http://127.0.0.1:5123</c>. In process: 127.0.0.1 and <see cref="Port"/>.</summary>
    public string? Urls { get; set; }

    /// <summary>Loopback port for <see cref="EmulatorServer.StartAsync"/>; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>Org-wide requests per window; 0 turns rate limiting off. Default 1,000.</summary>
    public int RateLimit { get; set; } = 1000;

    /// <summary>Length of the fixed rate-limit window in seconds. Default 60.</summary>
    public int RateWindowSeconds { get; set; } = 60;

    /// <summary>Search requests per window (in addition to the org budget); 0 = off. Default 100.</summary>
    public int SearchRateLimit { get; set; } = 100;

    /// <summary>KObject creates per customer per window unless the body has <c>importedAt</c>; 0 = off. Default 120.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("kobjectCreateLimitPerCustomer")]
    public int KObjectCreateLimitPerCustomer { get; set; } = 120;

    /// <summary>Latency added to every /v1 request, in milliseconds.</summary>
    public int LatencyMs { get; set; }

    /// <summary>Probability (0..1) that a /v1 request fails with a 5xx before it is processed.</summary>
    public double Fault5xxRate { get; set; }

    /// <summary>Probability (0..1) that a single create (customer, company, kobject) is committed and then answered with a 5xx.</summary>
    public double FaultLostCreateRate { get; set; }

    /// <summary>Seed for the fault random generator; null = time-based.</summary>
    public int? Seed { get; set; }

    /// <summary>Path of a metadata seed JSON; null = the embedded default (Resources/default-metadata.json).</summary>
    public string? MetadataPath { get; set; }

    /// <summary>Path of a keys JSON (extra or replacement keys and roles); null = built-in keys only.</summary>
    public string? KeysPath { get; set; }

    /// <summary>How long a bulk job stays queued and then running before it completes (half each). Default 200 ms.</summary>
    public int BulkDelayMs { get; set; } = 200;

    /// <summary>Maximum request body size; larger bodies get 413. Default 100 KB (102,400 bytes).</summary>
    public int MaxBodyBytes { get; set; } = 100 * 1024;

    /// <summary>
    /// A customer PATCH / PUT (<c>replace=false</c>) without <c>company</c> unlinks the company (OAS text on both
    /// routes, §4.2). Default true.
    /// </summary>
    public bool UnlinkCompanyOnOmit { get; set; } = true;

    /// <summary>The same for <c>PUT /customers/bulk</c> items (and the <c>?ids=</c> body); undocumented, assumed (§14). Default true.</summary>
    public bool UnlinkCompanyOnBulkOmit { get; set; } = true;

    /// <summary>Status of a duplicate identifier on a single create/update: 400 (default; the reference says it may be 400) or 409.</summary>
    public int DuplicateStatus { get; set; } = 400;

    /// <summary>Whether duplicate errors carry <c>meta.existingId</c> (no public evidence, §11). Default false.</summary>
    public bool DuplicateExistingId { get; set; }

    /// <summary>Status when the key lacks every role of the route: 403 (DEV, default) or 401 (OLD errors page).</summary>
    public int MissingRoleStatus { get; set; } = 403;

    /// <summary>
    /// Search sees only records whose updatedAt is within this many days of the emulator clock (OAS: two years).
    /// Default 730; 0 = every record.
    /// </summary>
    public int SearchWindowDays { get; set; } = 730;

    /// <summary>Which budget the x-ratelimit-* headers of search responses describe: org (default), search, or both (org plus x-ratelimit-search-*).</summary>
    public string SearchRateHeaders { get; set; } = "org";

    /// <summary>
    /// What a search hit shows: <c>whole</c> (the record as a read by id shows it; default) or <c>summary</c> (the OAS
    /// example's hit: name, displayName, createdAt, updatedAt, lastActivityAt, verified and rev, relationships org only;
    /// no links, no custom attributes). Which one Kustomer sends is not documented (§8, §14).
    /// </summary>
    public string SearchHits { get; set; } = "whole";

    /// <summary>
    /// Object Rate Limiting (§4.2, §5, §6): updates of one customer, company or KObject by one key per window
    /// (PUT/PATCH, single routes). The number is undocumented. Default 60; 0 = off.
    /// </summary>
    public int ObjectUpdateLimit { get; set; } = 60;

    /// <summary>
    /// <c>_clientRef</c> on bulk routes where it is not documented (PUT /companies/bulk, POST|PUT /klasses/{name}/bulk):
    /// accept, ignore (default: stripped, the batch has no results[]) or reject (400).
    /// </summary>
    public string UndocumentedClientRef { get; set; } = "ignore";

    /// <summary>Envelope of GET /bulk/{id}/batches: array (a bare JSON array, DEV's diagram; default) or data (a paged list with links.next).</summary>
    public string BatchesEnvelope { get; set; } = "array";

    /// <summary>Items per batch of a bulk job (a job of 100 items with 25 makes 4 batches). Default 25.</summary>
    public int BulkBatchItems { get; set; } = 25;

    /// <summary>Page size of GET /bulk/{id}/batches in the data envelope (links.next when there are more). Default 2.</summary>
    public int BatchesPageSize { get; set; } = 2;

    /// <summary>x-ratelimit-reset format: epoch-seconds (default; TAP reads it so), epoch-ms, or seconds (seconds to go).</summary>
    public string RateResetFormat { get; set; } = "epoch-seconds";

    /// <summary>Whether x-ratelimit-reset is sent on responses other than 429 (TAP: "returned when the limit has been exceeded"). Default false.</summary>
    public bool RateResetOnSuccess { get; set; }

    /// <summary>
    /// In process only: the time source behind the emulator clock (rate windows, search window, per-customer
    /// and per-object windows, bulk latency, latency, timestamps). Null = the system clock. Tests pass a FakeTimeProvider.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Copy of these options (the server keeps its own live copy).</summary>
    public EmulatorOptions Clone() => (EmulatorOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Org)) throw new ArgumentException("--org must not be empty");
        if (Port is < 0 or > 65535) throw new ArgumentException("--port must be 0..65535");
        if (RateLimit < 0) throw new ArgumentException("--rate-limit must be >= 0");
        if (RateWindowSeconds < 1) throw new ArgumentException("--rate-window-seconds must be >= 1");
        if (SearchRateLimit < 0) throw new ArgumentException("--search-rate-limit must be >= 0");
        if (KObjectCreateLimitPerCustomer < 0) throw new ArgumentException("--kobject-create-limit must be >= 0");
        if (LatencyMs < 0) throw new ArgumentException("--latency-ms must be >= 0");
        if (Fault5xxRate is < 0 or > 1 || double.IsNaN(Fault5xxRate)) throw new ArgumentException("--fault-5xx-rate must be between 0 and 1");
        if (FaultLostCreateRate is < 0 or > 1 || double.IsNaN(FaultLostCreateRate)) throw new ArgumentException("--fault-lost-create-rate must be between 0 and 1");
        if (BulkDelayMs < 0) throw new ArgumentException("--bulk-delay-ms must be >= 0");
        if (MaxBodyBytes < 1024) throw new ArgumentException("--max-body-bytes must be >= 1024");
        if (DuplicateStatus is not (400 or 409)) throw new ArgumentException("--duplicate-status must be 400 or 409");
        if (MissingRoleStatus is not (401 or 403)) throw new ArgumentException("--missing-role-status must be 401 or 403");
        if (SearchWindowDays < 0) throw new ArgumentException("--search-window-days must be >= 0");
        if (SearchRateHeaders is not ("org" or "search" or "both")) throw new ArgumentException("--search-rate-headers must be org, search or both");
        if (SearchHits is not ("whole" or "summary")) throw new ArgumentException("--search-hits must be whole or summary");
        if (ObjectUpdateLimit < 0) throw new ArgumentException("--object-update-limit must be >= 0");
        if (UndocumentedClientRef is not ("accept" or "ignore" or "reject")) throw new ArgumentException("--undocumented-client-ref must be accept, ignore or reject");
        if (BatchesEnvelope is not ("array" or "data")) throw new ArgumentException("--batches-envelope must be array or data");
        if (BulkBatchItems is < 1 or > 100) throw new ArgumentException("--bulk-batch-items must be 1..100");
        if (BatchesPageSize is < 1 or > 100) throw new ArgumentException("--batches-page-size must be 1..100");
        if (RateResetFormat is not ("seconds" or "epoch-seconds" or "epoch-ms")) throw new ArgumentException("--rate-reset-format must be seconds, epoch-seconds or epoch-ms");
        if (MetadataPath is not null && !File.Exists(MetadataPath)) throw new ArgumentException($"--metadata file not found: {MetadataPath}");
        if (KeysPath is not null && !File.Exists(KeysPath)) throw new ArgumentException($"--keys file not found: {KeysPath}");
    }
}
