// Usage: UpsertProbe <baseUri> <mode raw|engine> <rows> <workers> <prefix> [key]
// raw:    per row GET /v1/customers/externalId=x, then POST or PATCH, with plain HttpClient and W workers.
// engine: the same rows through KustomerSync.Engine's UpsertRun (the path Invoke-KustomerUpsert drives), throttle W,
//         with the time the caller's thread spends in Submit (mapping, validation, waiting for a slot) and in TryTake.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using KustomerSync;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;

var baseUri = new Uri(args[0].TrimEnd('/') + "/");
var mode = args[1];
var rows = int.Parse(args[2]);
var workers = int.Parse(args[3]);
var prefix = args[4];
var key = args.Length > 5 ? args[5] : "emulator-key";
var version = prefix.EndsWith("-u") ? 2 : 1;
var prefixBase = prefix.EndsWith("-u") ? prefix[..^2] : prefix;
string[] tiers = { "gold", "silver", "bronze" };

var watch = Stopwatch.StartNew();
if (mode == "raw")
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = baseUri };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    var next = 0;
    long created = 0, updated = 0;
    var tasks = Enumerable.Range(0, workers).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) <= rows)
        {
            var ext = $"{prefixBase}-{i}";
            var body = $"{{\"externalId\":\"{ext}\",\"name\":\"Customer {i} v{version}\",\"emails\":[{{\"email\":\"{ext}@example.com\"}}],\"custom\":{{\"tierStr\":\"{tiers[(i + version) % 3]}\",\"lifetimeValueNum\":{i * 10 + version}}}}}";
            using var found = await http.GetAsync("v1/customers/externalId=" + Uri.EscapeDataString(ext));
            var text = await found.Content.ReadAsStringAsync();
            HttpResponseMessage write;
            if (found.StatusCode == HttpStatusCode.NotFound)
            {
                write = await http.PostAsync("v1/customers", new StringContent(body, Encoding.UTF8, "application/json"));
                Interlocked.Increment(ref created);
            }
            else
            {
                var id = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("id").GetString();
                write = await http.PatchAsync("v1/customers/" + id, new StringContent(body, Encoding.UTF8, "application/json"));
                Interlocked.Increment(ref updated);
            }
            await write.Content.ReadAsStringAsync();
            if (!write.IsSuccessStatusCode) throw new Exception($"{write.StatusCode}");
            write.Dispose();
        }
    }).ToArray();
    await Task.WhenAll(tasks);
    watch.Stop();
    Console.WriteLine($"raw workers={workers} rows={rows} created={created} updated={updated} seconds={watch.Elapsed.TotalSeconds:F2} rows/s={rows / watch.Elapsed.TotalSeconds:F0}");
}
else
{
    using var client = new KustomerClient(baseUri, SecretText.Protect(key));
    var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { ThrottleLimit = workers };
    var names = new[] { "externalId", "name", "email", "tierStr", "lifetimeValueNum" };
    var input = Enumerable.Range(1, rows).Select(i => new object?[] { $"{prefixBase}-{i}", $"Customer {i} v{version}", $"{prefixBase}-{i}@example.com", tiers[(i + version) % 3], (long)(i * 10 + version) }).ToList();
    watch.Restart();
    using var run = await UpsertRun.StartAsync(client, options, Array.Empty<MappingRule>(), skipNull: false, CancellationToken.None);
    var startup = watch.Elapsed;
    var submit = TimeSpan.Zero;
    var take = TimeSpan.Zero;
    var results = new Dictionary<UpsertStatus, int>();
    var part = new Stopwatch();
    foreach (var values in input)
    {
        part.Restart();
        run.Submit(names, values, null);
        submit += part.Elapsed;
        part.Restart();
        while (run.TryTake(out var r)) results[r.Status] = results.GetValueOrDefault(r.Status) + 1;
        take += part.Elapsed;
    }
    var drainStart = watch.Elapsed;
    while (!run.IsDrained)
    {
        run.WaitForResult(TimeSpan.FromMilliseconds(100));
        while (run.TryTake(out var r)) results[r.Status] = results.GetValueOrDefault(r.Status) + 1;
    }
    var summary = run.Finish(cancelled: false);
    watch.Stop();
    Console.WriteLine($"engine throttle={workers} rows={rows} {string.Join(" ", results.Select(kv => $"{kv.Key}={kv.Value}"))} requests={summary.Requests} " +
        $"seconds={watch.Elapsed.TotalSeconds:F2} rows/s={rows / watch.Elapsed.TotalSeconds:F0} startup_ms={startup.TotalMilliseconds:F0} " +
        $"submit_ms={submit.TotalMilliseconds:F0} take_ms={take.TotalMilliseconds:F0} drain_ms={(watch.Elapsed - drainStart).TotalMilliseconds:F0}");
}
