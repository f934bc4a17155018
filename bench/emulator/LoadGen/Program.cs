// Load generator for the Kustomer emulator: a fixed mix of GET externalId lookups, POST creates
// and PATCH updates from N concurrent workers over keep-alive connections, for a fixed duration.
// Usage: dotnet LoadGen.dll <baseUrl> [--seconds 15] [--warmup 3] [--workers 32] [--seed-customers 2000]
//        [--mix get:60,post:20,patch:20] [--key emulator-key]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

var baseUrl = args.Length > 0 && !args[0].StartsWith("--") ? args[0].TrimEnd('/') + "/" : "http://127.0.0.1:5130/";
int Opt(string name, int fallback)
{
    var i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
string OptS(string name, string fallback)
{
    var i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
var seconds = Opt("seconds", 15);
var warmup = Opt("warmup", 3);
var workers = Opt("workers", 32);
var seedCount = Opt("seed-customers", 2000);
var key = OptS("key", "emulator-key");
var mix = OptS("mix", "get:60,post:20,patch:20").Split(',').Select(p => p.Split(':')).ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
var getW = mix.GetValueOrDefault("get"); var postW = mix.GetValueOrDefault("post"); var patchW = mix.GetValueOrDefault("patch");
var totalW = getW + postW + patchW;

var handler = new SocketsHttpHandler { MaxConnectionsPerServer = workers, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseCookies = false, AutomaticDecompression = DecompressionMethods.None };
using var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
var runId = Guid.NewGuid().ToString("N")[..8];

// Seed customers (ids and externalIds for lookups and patches).
Console.WriteLine($"seeding {seedCount} customers at {baseUrl} ...");
var ids = new string[seedCount];
var exts = new string[seedCount];
await Parallel.ForEachAsync(Enumerable.Range(0, seedCount), new ParallelOptions { MaxDegreeOfParallelism = workers }, async (i, ct) =>
{
    exts[i] = $"seed-{runId}-{i}";
    var body = $$"""{"name":"Seed {{i}}","externalId":"{{exts[i]}}","emails":[{"type":"work","email":"seed{{i}}-{{runId}}@example.com"}],"custom":{"tierStr":"gold","lifetimeValueNum":{{i}} } }""";
    using var r = await http.PostAsync("v1/customers", new StringContent(body, Encoding.UTF8, "application/json"), ct);
    if (r.StatusCode != HttpStatusCode.Created) throw new Exception($"seed failed: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
    using var doc = JsonDocument.Parse(await r.Content.ReadAsStreamAsync(ct));
    ids[i] = doc.RootElement.GetProperty("data").GetProperty("id").GetString()!;
});

var created = 0L;
long[] counts = new long[3]; long[] errors = new long[3];
var latencies = new List<double>[workers];
var measuring = false;
var stop = false;

async Task Worker(int w)
{
    var rnd = new Random(w * 7919 + 1);
    var lat = latencies[w] = new List<double>(200_000);
    var sw = new Stopwatch();
    while (!Volatile.Read(ref stop))
    {
        var pick = rnd.Next(totalW);
        int kind; HttpRequestMessage req;
        var i = rnd.Next(seedCount);
        if (pick < getW) { kind = 0; req = new HttpRequestMessage(HttpMethod.Get, $"v1/customers/externalId={exts[i]}"); }
        else if (pick < getW + postW)
        {
            kind = 1;
            var n = Interlocked.Increment(ref created);
            req = new HttpRequestMessage(HttpMethod.Post, "v1/customers")
            {
                Content = new StringContent($$"""{"name":"Load {{n}}","externalId":"load-{{runId}}-{{n}}","emails":[{"email":"load{{n}}-{{runId}}@example.com"}],"custom":{"tierStr":"silver","optInBool":true} }""", Encoding.UTF8, "application/json"),
            };
        }
        else
        {
            kind = 2;
            req = new HttpRequestMessage(HttpMethod.Patch, $"v1/customers/{ids[i]}")
            {
                Content = new StringContent($$"""{"custom":{"lifetimeValueNum":{{rnd.Next(100000)}},"lastOrderAt":"2026-01-02T03:04:05Z"} }""", Encoding.UTF8, "application/json"),
            };
        }
        sw.Restart();
        using (req)
        using (var resp = await http.SendAsync(req, HttpCompletionOption.ResponseContentRead))
        {
            var ok = kind == 1 ? resp.StatusCode == HttpStatusCode.Created : resp.StatusCode == HttpStatusCode.OK;
            if (Volatile.Read(ref measuring))
            {
                Interlocked.Increment(ref counts[kind]);
                if (!ok) Interlocked.Increment(ref errors[kind]);
                lat.Add(sw.Elapsed.TotalMilliseconds);
            }
        }
    }
}

Console.WriteLine($"running: {workers} workers, mix get:{getW} post:{postW} patch:{patchW}, warm-up {warmup}s, measure {seconds}s");
var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(() => Worker(w))).ToArray();
await Task.Delay(TimeSpan.FromSeconds(warmup));
Volatile.Write(ref measuring, true);
var clock = Stopwatch.StartNew();
await Task.Delay(TimeSpan.FromSeconds(seconds));
Volatile.Write(ref measuring, false);
var elapsed = clock.Elapsed.TotalSeconds;
Volatile.Write(ref stop, true);
await Task.WhenAll(tasks);

var all = latencies.SelectMany(l => l).Order().ToArray();
double P(double q) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(q * all.Length))];
var total = counts.Sum();
Console.WriteLine($"requests: {total} in {elapsed:F1}s = {total / elapsed:F0} req/s");
Console.WriteLine($"  GET externalId: {counts[0]} ({errors[0]} errors)  POST create: {counts[1]} ({errors[1]} errors)  PATCH: {counts[2]} ({errors[2]} errors)");
Console.WriteLine($"latency ms: p50 {P(0.50):F2}  p90 {P(0.90):F2}  p99 {P(0.99):F2}  max {all.LastOrDefault():F2}");
return errors.Sum() == 0 ? 0 : 1;
