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

    /// <summary>When true, a customer PATCH / PUT?replace=false that omits <c>company</c> unlinks the company (the doubtful doc sentence). Default false.</summary>
    public bool UnlinkCompanyOnOmit { get; set; }

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
        if (MetadataPath is not null && !File.Exists(MetadataPath)) throw new ArgumentException($"--metadata file not found: {MetadataPath}");
        if (KeysPath is not null && !File.Exists(KeysPath)) throw new ArgumentException($"--keys file not found: {KeysPath}");
    }
}
