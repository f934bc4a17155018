using System.Globalization;
using System.Text.Json;

namespace KustomerSync.Emulator.Hosting;

/// <summary>A command-line or config-file problem; the process prints it and exits with code 2.</summary>
public sealed class OptionsException(string message) : Exception(message);

/// <summary>
/// Parses <c>--name value</c> / <c>--name=value</c> arguments and the <c>--config</c> JSON file into
/// <see cref="EmulatorOptions"/>. The JSON file uses the same names in camelCase or kebab-case
/// (<c>{"rateLimit": 50}</c> or <c>{"rate-limit": 50}</c>); command-line values win over the file.
/// </summary>
public static class OptionsParser
{
    /// <summary>One option: its kebab-case name, help text, setter from text, and whether PUT /_emulator/options may change it.</summary>
    private sealed record Option(string Name, string Help, Action<EmulatorOptions, string> Set, bool RunTime = true);

    private static readonly Option[] Options =
    [
        new("urls", "URL to listen on, e.g. http://127.0.0.1:5123 (default http://127.0.0.1:5123)", (o, v) => o.Urls = v, RunTime: false),
        new("port", "loopback port (alternative to --urls; 0 = any free port)", (o, v) => o.Port = Int("port", v), RunTime: false),
        new("org", "org name (default emulator)", (o, v) => o.Org = v, RunTime: false),
        new("rate-limit", "org requests per window, 0 = off (default 1000)", (o, v) => o.RateLimit = Int("rate-limit", v)),
        new("rate-window-seconds", "rate-limit window in seconds (default 60)", (o, v) => o.RateWindowSeconds = Int("rate-window-seconds", v)),
        new("rate-reset-format", "x-ratelimit-reset as epoch-seconds | epoch-ms | seconds (to go) (default epoch-seconds)", (o, v) => o.RateResetFormat = v),
        new("rate-reset-on-success", "true|false: send x-ratelimit-reset on non-429 responses too (default false)", (o, v) => o.RateResetOnSuccess = Bool("rate-reset-on-success", v)),
        new("search-rate-limit", "search requests per window per API key, apart from the org budget, 0 = off (default 100)", (o, v) => o.SearchRateLimit = Int("search-rate-limit", v)),
        new("search-hits", "what a search hit shows: whole (the record, default) | summary (the OAS example: no links, no custom attributes)", (o, v) => o.SearchHits = v),
        new("search-rate-headers", "budget the x-ratelimit-* headers of search responses describe: org | search | both (default org)", (o, v) => o.SearchRateHeaders = v),
        new("search-window-days", "search sees only records updated within this many days, 0 = all (default 730)", (o, v) => o.SearchWindowDays = Int("search-window-days", v)),
        new("kobject-create-limit", "kobject creates per customer per key per window without importedAt, 0 = off (default 120)", (o, v) => o.KObjectCreateLimitPerCustomer = Int("kobject-create-limit", v)),
        new("object-update-limit", "updates of one customer/company/kobject per key per window, 0 = off (default 60)", (o, v) => o.ObjectUpdateLimit = Int("object-update-limit", v)),
        new("latency-ms", "latency added to every /v1 request (default 0)", (o, v) => o.LatencyMs = Int("latency-ms", v)),
        new("fault-5xx-rate", "0..1, share of /v1 requests answered 5xx before processing (default 0)", (o, v) => o.Fault5xxRate = Dbl("fault-5xx-rate", v)),
        new("fault-lost-create-rate", "0..1, share of single creates committed then answered 5xx (default 0)", (o, v) => o.FaultLostCreateRate = Dbl("fault-lost-create-rate", v)),
        new("seed", "seed for deterministic faults", (o, v) => o.Seed = Int("seed", v), RunTime: false),
        new("metadata", "metadata seed JSON (default: built-in Resources/default-metadata.json)", (o, v) => o.MetadataPath = v, RunTime: false),
        new("keys", "keys JSON (extra/replacement API keys and roles)", (o, v) => o.KeysPath = v, RunTime: false),
        new("bulk-delay-ms", "how long bulk jobs stay queued+running (default 200)", (o, v) => o.BulkDelayMs = Int("bulk-delay-ms", v)),
        new("bulk-batch-items", "items per batch of a bulk job, 1..100 (default 25)", (o, v) => o.BulkBatchItems = Int("bulk-batch-items", v)),
        new("batches-envelope", "GET /bulk/{id}/batches as a bare array | data (paged list) (default array)", (o, v) => o.BatchesEnvelope = v),
        new("batches-page-size", "batches per page in the data envelope (default 2)", (o, v) => o.BatchesPageSize = Int("batches-page-size", v)),
        new("undocumented-client-ref", "_clientRef on PUT /companies/bulk and /klasses/{name}/bulk: accept | ignore | reject (default ignore)", (o, v) => o.UndocumentedClientRef = v),
        new("max-body-bytes", "413 above this body size, bulk included (default 102400)", (o, v) => o.MaxBodyBytes = Int("max-body-bytes", v)),
        new("unlink-company-on-omit", "true|false: customer PATCH/PUT without company unlinks it (default true)", (o, v) => o.UnlinkCompanyOnOmit = Bool("unlink-company-on-omit", v)),
        new("unlink-company-on-bulk-omit", "true|false: PUT /customers/bulk items without company unlink it (default true)", (o, v) => o.UnlinkCompanyOnBulkOmit = Bool("unlink-company-on-bulk-omit", v)),
        new("duplicate-status", "status of a duplicate identifier on single writes: 400 | 409 (default 400)", (o, v) => o.DuplicateStatus = Int("duplicate-status", v)),
        new("duplicate-existing-id", "true|false: duplicate errors carry meta.existingId (default false)", (o, v) => o.DuplicateExistingId = Bool("duplicate-existing-id", v)),
        new("missing-role-status", "status when the key lacks the route's roles: 403 | 401 (default 403)", (o, v) => o.MissingRoleStatus = Int("missing-role-status", v)),
    ];

    /// <summary>Usage text for <c>--help</c>.</summary>
    public static string Usage()
    {
        var width = Options.Max(o => o.Name.Length) + "  -- <value>  ".Length;
        var lines = new List<string>
        {
            "Usage: dotnet KustomerSync.Emulator.dll [--urls http://127.0.0.1:5123] [options]",
            "",
            "  --config <path>".PadRight(width) + "JSON file with any of the options below (camelCase or kebab-case names)",
        };
        foreach (var o in Options) lines.Add(("  --" + o.Name + " <value>").PadRight(width) + o.Help);
        lines.Add("  --help".PadRight(width) + "this text");
        lines.Add("");
        lines.Add("All but urls, port, org, seed, metadata and keys can be changed at run time with PUT /_emulator/options.");
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Parses arguments. Returns null when --help was asked for.</summary>
    public static EmulatorOptions? Parse(IReadOnlyList<string> args)
    {
        var pairs = new List<(string Name, string Value)>();
        string? configPath = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h" or "-?") return null;
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new OptionsException($"Unexpected argument '{arg}'. Options start with --; see --help.");
            var name = arg[2..];
            string? value = null;
            var eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            if (name != "config" && Find(name) is null)
                throw new OptionsException($"Unknown option '--{name}'. See --help.");
            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new OptionsException($"Option '--{name}' needs a value.");
                value = args[++i];
            }
            if (name == "config") configPath = value; else pairs.Add((name, value));
        }

        var options = new EmulatorOptions();
        if (configPath is not null) ApplyConfigFile(options, configPath);
        foreach (var (name, value) in pairs) Find(name)!.Set(options, value);
        try { options.Validate(); }
        catch (ArgumentException e) { throw new OptionsException(e.Message); }
        return options;
    }

    /// <summary>Applies a JSON options file (an object of option name → value).</summary>
    public static void ApplyConfigFile(EmulatorOptions options, string path)
    {
        if (!File.Exists(path)) throw new OptionsException($"--config file not found: {path}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new OptionsException($"--config file {path} is not valid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new OptionsException($"--config file {path} must contain a JSON object");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                var option = Find(prop.Name) ?? throw new OptionsException($"Unknown option '{prop.Name}' in --config file {path}.");
                option.Set(options, ValueText(prop, $"--config file {path}"));
            }
        }
    }

    /// <summary>
    /// PUT /_emulator/options: applies an object of option name → value (the same names as the config file) to
    /// <paramref name="options"/>; options that only make sense at start (urls, port, org, seed, metadata, keys) are refused.
    /// </summary>
    public static void ApplyRunTime(EmulatorOptions options, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new OptionsException("the options body must be a JSON object");
        foreach (var prop in body.EnumerateObject())
        {
            var option = Find(prop.Name) ?? throw new OptionsException($"Unknown option '{prop.Name}'.");
            if (!option.RunTime) throw new OptionsException($"Option '{prop.Name}' can only be set at start.");
            option.Set(options, ValueText(prop, "the options body"));
        }
        try { options.Validate(); }
        catch (ArgumentException e) { throw new OptionsException(e.Message); }
    }

    private static string ValueText(JsonProperty prop, string where) => prop.Value.ValueKind switch
    {
        JsonValueKind.String => prop.Value.GetString()!,
        JsonValueKind.Number => prop.Value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new OptionsException($"Option '{prop.Name}' in {where} must be a string, number or boolean."),
    };

    private static Option? Find(string name)
    {
        var norm = Normalize(name);
        return Options.FirstOrDefault(o => Normalize(o.Name) == norm)
            ?? norm switch
            {
                "metadatapath" => Options.First(o => o.Name == "metadata"),
                "keyspath" => Options.First(o => o.Name == "keys"),
                "kobjectcreatelimitpercustomer" => Options.First(o => o.Name == "kobject-create-limit"),
                _ => null,
            };
    }

    private static string Normalize(string name) => name.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    private static int Int(string name, string v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
            : throw new OptionsException($"Option '--{name}' needs an integer, got '{v}'.");

    private static double Dbl(string name, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
            : throw new OptionsException($"Option '--{name}' needs a number, got '{v}'.");

    private static bool Bool(string name, string v) =>
        bool.TryParse(v, out var b) ? b : throw new OptionsException($"Option '--{name}' needs true or false, got '{v}'.");
}
