using System.Text.Json.Nodes;
using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

using static KustomerSync.Engine.Tests.EmulatorRuns;

namespace KustomerSync.Engine.Tests;

/// <summary>
/// How bulk jobs are followed, on a fake clock: only through their batches, slowly (each poll costs a unit of the org's
/// budget), and a job that outlives the timeout handed to the single-record path rather than failing its rows.
/// </summary>
public class BulkPollingTests
{
    /// <summary>Long enough that the emulator's job is still queued when the test ends.</summary>
    private const int PendingForever = 3_600_000;

    private static KustomerClient Client(EmulatorServer server, RequestLog log, TimeProvider clock) =>
        new(server.BaseUri, SecretText.Protect(EmulatorServer.BulkKey),
            new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50), Time = clock }, log);

    private static UpsertOptions Options(string obj)
    {
        var target = KustomerObject.Parse(obj);
        return new UpsertOptions(target, RecordKey.Parse("ExternalId", target));
    }

    private static PlannedRecord Planned(int row, string key, JsonObject payload, string? knownId = null) =>
        new(new MappedRecord(new InputRecord(row, new[] { "externalId" }, new object?[] { key }, null), key, payload, Array.Empty<RecordReference>()),
            knownId, default(PayloadHash), null);

    private static BulkExecutor Executor(KustomerClient client, UpsertOptions options, BulkGateway gateway)
    {
        var records = new RecordGateway(client, options.Target, options.Key);
        return new BulkExecutor(records, gateway, new UpsertExecutor(records, new ReferenceResolver(client), options), options);
    }

    private static JsonArray Items(int count) =>
        new(Enumerable.Range(1, count).Select(i => (JsonNode)new JsonObject { ["externalId"] = $"p-{i}", ["name"] = $"Polled {i}", ["_clientRef"] = $"row-{i}" }).ToArray());

    [Fact]
    public async Task A_job_is_polled_through_its_batches_from_a_second_and_a_half_on_backing_off_to_eight_seconds()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = PendingForever });
        var clock = new BulkClock();
        var log = new RequestLog(clock);
        using var client = Client(server, log, clock);
        var gateway = new BulkGateway(client, KustomerObject.Customer) { JobTimeout = TimeSpan.FromSeconds(30) };

        var result = await clock.RunAsync(gateway.RunAsync(create: true, Items(3), CancellationToken.None));

        Assert.False(result.Complete);
        Assert.Empty(result.ByClientRef);
        var sent = log.Sent.ToList();
        Assert.Equal("POST /v1/customers/bulk", $"{sent[0].Method} {sent[0].Path}");
        var polls = sent.Skip(1).ToList();
        Assert.All(polls, p => Assert.Matches("^/v1/bulk/[0-9a-f]{24}/batches$", p.Path));
        // 1.5 s, then 3, 6 and 8 s apart, and a last look at the 30 s deadline.
        Assert.Equal(new[] { 1.5, 4.5, 10.5, 18.5, 26.5, 30 }, polls.Select(p => (p.At - sent[0].At).TotalSeconds).ToArray());
    }

    [Fact]
    public async Task A_finished_job_costs_its_submit_and_one_read_of_its_batches()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0 });
        var clock = new BulkClock();
        var log = new RequestLog(clock);
        using var client = Client(server, log, clock);
        var gateway = new BulkGateway(client, KustomerObject.Customer);

        var result = await clock.RunAsync(gateway.RunAsync(create: true, Items(3), CancellationToken.None), () => JobsFinishedAsync(server));

        Assert.True(result.Complete);
        Assert.Equal(new[] { "row-1", "row-2", "row-3" }, result.ByClientRef.Keys.OrderBy(k => k));
        Assert.All(result.ByClientRef.Values, r => Assert.True(r.Succeeded));
        Assert.Equal(2, log.Sent.Count);
        Assert.Equal(1.5, (log.Sent.Last().At - log.Sent.First().At).TotalSeconds);
    }

    [Fact]
    public async Task A_poll_that_meets_only_server_errors_is_tried_again_at_the_next_poll()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 0 });
        var clock = new BulkClock();
        var log = new RequestLog(clock);
        using var client = Client(server, log, clock);
        var gateway = new BulkGateway(client, KustomerObject.Customer);
        var armed = false;

        // Before the first poll: every attempt the client makes at it (five) gets a 503.
        var result = await clock.RunAsync(gateway.RunAsync(create: true, Items(3), CancellationToken.None), async () =>
        {
            if (armed) return;
            armed = true;
            await JobsFinishedAsync(server);
            using var admin = server.CreateClient(EmulatorServer.AdminKey);
            (await admin.PostAsync("_emulator/faults", new StringContent("{\"failNext\": 5, \"status\": 503}", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        });

        Assert.True(result.Complete);
        Assert.All(result.ByClientRef.Values, r => Assert.True(r.Succeeded));
        Assert.Equal(3, result.ByClientRef.Count);
        Assert.Equal(7, log.Sent.Count); // the submit, five failed attempts at the first poll, the second poll
    }

    private static async Task JobsFinishedAsync(EmulatorServer server)
    {
        while ((await GetAsync(server, "_emulator/state"))["bulkJobs"]!["items"]!.AsArray().Any(j => j!["attributes"]!["status"]!.GetValue<string>() != "complete"))
            await Task.Yield();
    }

    [Fact]
    public async Task Customer_creates_of_a_job_that_outlives_the_timeout_are_settled_by_the_single_path()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = PendingForever });
        var clock = new BulkClock();
        using var client = Client(server, new RequestLog(clock), clock);
        var options = Options("Customer");
        var gateway = new BulkGateway(client, options.Target) { JobTimeout = TimeSpan.FromMinutes(2) };
        var batch = Enumerable.Range(1, 25).Select(i => Planned(i, $"t-{i}", new JsonObject { ["externalId"] = $"t-{i}", ["name"] = $"Timed {i}" })).ToList();

        var outcomes = await clock.RunAsync(Executor(client, options, gateway).ExecuteAsync(batch, CancellationToken.None));

        // Kustomer refuses a second customer with the same externalId, so creating them now cannot duplicate them later.
        Assert.Equal(25, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(UpsertStatus.Created, o.Result.Status));
        Assert.Equal(25, (await CustomersAsync(server)).Count);
    }

    [Fact]
    public async Task Company_creates_of_a_job_that_outlives_the_timeout_are_not_made_twice()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = PendingForever });
        var clock = new BulkClock();
        using var client = Client(server, new RequestLog(clock), clock);
        var options = Options("Company");
        var gateway = new BulkGateway(client, options.Target) { JobTimeout = TimeSpan.FromMinutes(2) };
        var batch = Enumerable.Range(1, 25).Select(i => Planned(i, $"co-{i}", new JsonObject { ["externalId"] = $"co-{i}", ["name"] = $"Company {i}" })).ToList();

        var outcomes = await clock.RunAsync(Executor(client, options, gateway).ExecuteAsync(batch, CancellationToken.None));

        // The job may still create them, and Kustomer would take a second company with the same externalId.
        Assert.Equal(25, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal("KustomerSync.BulkTimeout", o.Result.ErrorId));
        Assert.All(outcomes, o => Assert.Contains(o.Planned.Record.Key, o.Result.Message));
        Assert.Equal(0, (await GetAsync(server, "_emulator/state"))["companies"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Updates_of_a_job_that_outlives_the_timeout_are_made_through_the_single_path()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = PendingForever });
        var ids = new List<string>();
        using (var admin = server.CreateClient(EmulatorServer.AdminKey))
            for (var i = 1; i <= 25; i++)
            {
                var created = await admin.PostAsync("v1/companies", new StringContent(new JsonObject { ["externalId"] = $"co-{i}", ["name"] = $"Company {i}" }.ToJsonString(),
                    System.Text.Encoding.UTF8, "application/json"));
                ids.Add(JsonNode.Parse(await created.Content.ReadAsStringAsync())!["data"]!["id"]!.GetValue<string>());
            }
        var clock = new BulkClock();
        using var client = Client(server, new RequestLog(clock), clock);
        var options = Options("Company");
        var gateway = new BulkGateway(client, options.Target) { JobTimeout = TimeSpan.FromMinutes(2) };
        var batch = Enumerable.Range(1, 25).Select(i => Planned(i, $"co-{i}", new JsonObject { ["externalId"] = $"co-{i}", ["name"] = $"Renamed {i}" }, ids[i - 1])).ToList();

        var outcomes = await clock.RunAsync(Executor(client, options, gateway).ExecuteAsync(batch, CancellationToken.None));

        Assert.All(outcomes, o => Assert.Equal(UpsertStatus.Updated, o.Result.Status));
        var names = ((JsonArray)(await GetAsync(server, "_emulator/state"))["companies"]!["items"]!).Select(c => c!["attributes"]!["name"]!.GetValue<string>());
        Assert.All(names, n => Assert.StartsWith("Renamed", n));
    }

    /// <summary>Passes bulk submissions on, then loses their answers: the job exists, the client does not know it.</summary>
    private sealed class LostBulkAnswers : DelegatingHandler
    {
        public LostBulkAnswers() : base(new SocketsHttpHandler()) { }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method != HttpMethod.Post || !request.RequestUri!.AbsolutePath.EndsWith("/bulk", StringComparison.Ordinal)) return response;
            response.Dispose();
            return new HttpResponseMessage(System.Net.HttpStatusCode.BadGateway) { Content = new StringContent("") };
        }
    }

    [Fact]
    public async Task Company_creates_whose_bulk_answer_was_lost_are_not_sent_again()
    {
        var clock = new BulkClock();
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0, BulkDelayMs = 3000, TimeProvider = clock.Silent });
        using var client = new KustomerClient(server.BaseUri, SecretText.Protect(EmulatorServer.BulkKey),
            new KustomerClientOptions { BaseBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50), Time = clock }, new LostBulkAnswers());
        var options = Options("Company");
        var batch = Enumerable.Range(1, 25).Select(i => Planned(i, $"co-{i}", new JsonObject { ["externalId"] = $"co-{i}", ["name"] = $"Company {i}" })).ToList();

        var outcomes = await clock.RunAsync(Executor(client, options, new BulkGateway(client, options.Target)).ExecuteAsync(batch, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(5));

        // The job ran after all: sending the rows again would have made every company twice.
        Assert.All(outcomes, o => Assert.Equal("KustomerSync.OutcomeUnknown", o.Result.ErrorId));
        Assert.Equal(25, (await GetAsync(server, "_emulator/state"))["companies"]!["count"]!.GetValue<int>());
    }
}
