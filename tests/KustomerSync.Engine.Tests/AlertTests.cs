using System.Net;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Runs.Alerts;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>Alerts about runs: which runs alert, what the posts carry in each format, and how a post is retried.</summary>
public class AlertTests
{
    private const string SecretPath = "/services/T000/B000/s3cr3tT0ken";
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private static readonly DateTime Start = new(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);

    private static RunReport Report(SyncRunStatus status, long total = 100, long invalid = 0, long failed = 0, string? guard = null) => new()
    {
        Sync = "customers",
        Object = "Customer",
        Status = status,
        Guard = guard,
        RunId = 42,
        Total = total,
        Created = total - invalid - failed,
        Invalid = invalid,
        Failed = failed,
        Requests = 7,
        StartedUtc = Start,
        EndedUtc = Start.AddSeconds(12),
        Machine = "SYNC01",
        Message = status == SyncRunStatus.Failed ? "Kustomer refused the API key (401)." : null,
        ErrorId = status == SyncRunStatus.Failed ? "KustomerSync.Unauthorized" : null,
        RejectedKeys = Enumerable.Range(1, (int)Math.Min(invalid + failed, RunReport.MaxKeys)).Select(i => $"crm-{i:0000}").ToArray(),
    };

    [Theory]
    [InlineData(SyncRunStatus.Failed, 0, null, true)]
    [InlineData(SyncRunStatus.Refused, 0, "SourceShrank", true)]
    [InlineData(SyncRunStatus.PartiallyFailed, 5, null, false)]
    [InlineData(SyncRunStatus.PartiallyFailed, 6, null, true)]
    [InlineData(SyncRunStatus.Succeeded, 0, null, false)]
    [InlineData(SyncRunStatus.Cancelled, 0, null, false)]
    public void Failed_and_refused_runs_alert_and_rejected_rows_alert_above_the_share(SyncRunStatus status, int rejected, string? guard, bool alerts)
    {
        var report = Report(status, invalid: rejected, guard: guard);

        Assert.Equal(alerts, new AlertPolicy().ShouldAlert(report));
    }

    [Fact]
    public void Successful_runs_alert_only_when_asked_and_a_zero_share_alerts_on_any_rejected_row()
    {
        Assert.True(new AlertPolicy { OnSuccess = true }.ShouldAlert(Report(SyncRunStatus.Succeeded)));
        Assert.True(new AlertPolicy { RejectedShare = 0 }.ShouldAlert(Report(SyncRunStatus.PartiallyFailed, invalid: 1)));
    }

    [Theory]
    [InlineData("https://hooks.slack.com" + SecretPath, WebhookFormat.Slack)]
    [InlineData("https://contoso.webhook.office.com/webhookb2/abc", WebhookFormat.Teams)]
    [InlineData("https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x", WebhookFormat.Teams)]
    [InlineData("https://monitor.corp.example/hooks/kustomer", WebhookFormat.Json)]
    public void The_format_follows_the_webhook_host(string url, WebhookFormat expected) =>
        Assert.Equal(expected, WebhookPayload.Resolve(WebhookFormat.Auto, new Uri(url)));

    [Fact]
    public void A_Teams_post_is_an_adaptive_card_message_with_the_counts_and_the_error()
    {
        var body = WebhookPayload.Build(Report(SyncRunStatus.Failed), WebhookFormat.Teams);

        Assert.Equal("message", (string?)body["type"]);
        var attachment = body["attachments"]![0]!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", (string?)attachment["contentType"]);
        Assert.Equal("AdaptiveCard", (string?)attachment["content"]!["type"]);
        var text = string.Join("\n", Strings(attachment));
        Assert.Contains("KustomerSync 'customers' failed on SYNC01", text);
        Assert.Contains("KustomerSync.Unauthorized", text);
        Assert.Contains("100 rows: 100 created", text);
    }

    [Fact]
    public void A_Slack_post_has_text_and_blocks_and_names_at_most_ten_rejected_keys()
    {
        var body = WebhookPayload.Build(Report(SyncRunStatus.PartiallyFailed, invalid: 30), WebhookFormat.Slack);

        Assert.Equal("KustomerSync 'customers' completed with 30 rejected rows on SYNC01", (string?)body["text"]);
        var detail = body["blocks"]![1]!["text"]!["text"]!.ToString();
        Assert.Contains("crm-0010 and 20 more", detail);
        Assert.DoesNotContain("crm-0011", detail);
    }

    [Fact]
    public void A_JSON_post_carries_the_report_fields()
    {
        var body = WebhookPayload.Build(Report(SyncRunStatus.Refused, guard: "SourceShrank"), WebhookFormat.Json);

        Assert.Equal("Refused", (string?)body["status"]);
        Assert.Equal("SourceShrank", (string?)body["guard"]);
        Assert.Equal(100, (long)body["total"]!);
        Assert.Equal(42, (long)body["runId"]!);
    }

    [Fact]
    public async Task A_post_that_meets_a_server_error_is_sent_again_after_a_backoff_on_the_clock()
    {
        var time = new FakeTimeProvider(Start);
        var receiver = new Receiver(HttpStatusCode.InternalServerError, HttpStatusCode.OK);
        using var alerter = new WebhookAlerter(new Uri("https://hooks.slack.com" + SecretPath), handler: receiver, time: time);

        var sending = alerter.SendAsync(Report(SyncRunStatus.Failed));
        await receiver.WaitForPosts(1);
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Single(receiver.Posts);
        time.Advance(TimeSpan.FromSeconds(0.2));
        var delivery = await sending.WaitAsync(Safety);

        Assert.True(delivery.Sent);
        Assert.Equal(2, delivery.Attempts);
        Assert.Equal(2, receiver.Posts.Count);
        Assert.Equal("KustomerSync 'customers' failed on SYNC01", (string?)JsonNode.Parse(receiver.Posts[0])!["text"]);
    }

    [Fact]
    public async Task A_429_waits_as_long_as_Retry_After_asks()
    {
        var time = new FakeTimeProvider(Start);
        var receiver = new Receiver(HttpStatusCode.TooManyRequests, HttpStatusCode.OK) { RetryAfterSeconds = 20 };
        using var alerter = new WebhookAlerter(new Uri("https://hooks.slack.com" + SecretPath), handler: receiver, time: time);

        var sending = alerter.SendAsync(Report(SyncRunStatus.Failed));
        await receiver.WaitForPosts(1);
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.Single(receiver.Posts);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.True((await sending.WaitAsync(Safety)).Sent);
    }

    [Fact]
    public async Task A_refused_post_is_not_repeated_and_the_problem_never_shows_the_secret_path()
    {
        var receiver = new Receiver(HttpStatusCode.NotFound);
        using var alerter = new WebhookAlerter(new Uri("https://hooks.slack.com" + SecretPath), handler: receiver);

        var delivery = await alerter.SendAsync(Report(SyncRunStatus.Failed)).WaitAsync(Safety);

        Assert.False(delivery.Sent);
        Assert.Single(receiver.Posts);
        Assert.Contains("hooks.slack.com refused the post (404 Not Found)", delivery.Problem);
        Assert.DoesNotContain("s3cr3t", delivery.Problem);
    }

    [Fact]
    public async Task A_webhook_that_stays_down_gives_up_after_three_attempts_without_throwing()
    {
        var time = new FakeTimeProvider(Start);
        var receiver = new Receiver(HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.OK);
        using var alerter = new WebhookAlerter(new Uri("https://hooks.slack.com" + SecretPath), handler: receiver, time: time);

        var sending = alerter.SendAsync(Report(SyncRunStatus.Failed));
        for (var posts = 1; posts <= 3; posts++)
        {
            await receiver.WaitForPosts(posts);
            time.Advance(TimeSpan.FromSeconds(5));
        }
        var delivery = await sending.WaitAsync(Safety);

        Assert.False(delivery.Sent);
        Assert.Equal(3, receiver.Posts.Count);
        Assert.Equal("The alert to hooks.slack.com was not delivered after 3 attempts: 502 Bad Gateway.", delivery.Problem);
    }

    [Fact]
    public void Only_https_webhooks_are_taken_except_on_loopback()
    {
        Assert.Throws<ArgumentException>(() => new WebhookAlerter(new Uri("http://hooks.slack.com" + SecretPath)));
        using var local = new WebhookAlerter(new Uri("http://127.0.0.1:5099/hook"));
        Assert.Equal(WebhookFormat.Json, local.Format);
    }

    [Theory]
    [InlineData(SyncRunStatus.Succeeded, null, RunEventLevel.Information, RunEventEntry.SucceededId)]
    [InlineData(SyncRunStatus.PartiallyFailed, null, RunEventLevel.Warning, RunEventEntry.PartiallyFailedId)]
    [InlineData(SyncRunStatus.Failed, null, RunEventLevel.Error, RunEventEntry.FailedId)]
    [InlineData(SyncRunStatus.Refused, "SourceShrank", RunEventLevel.Error, RunEventEntry.RefusedId)]
    public void Each_way_a_run_ends_has_its_event_level_and_id(SyncRunStatus status, string? guard, RunEventLevel level, int id)
    {
        var entry = RunEventEntry.For(Report(status, invalid: status == SyncRunStatus.PartiallyFailed ? 3 : 0, guard: guard));

        Assert.Equal(level, entry.Level);
        Assert.Equal(id, entry.EventId);
        Assert.Contains("Run 42 in the run history of sync 'customers'", entry.Text);
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var s) => new[] { s },
        _ => Array.Empty<string>(),
    };

    /// <summary>Answers posts with the given statuses in turn (the last one repeats) and keeps their bodies.</summary>
    private sealed class Receiver : HttpMessageHandler
    {
        private readonly HttpStatusCode[] _answers;
        private readonly object _lock = new();
        private readonly List<string> _posts = new();
        private readonly SemaphoreSlim _posted = new(0);

        public Receiver(params HttpStatusCode[] answers) => _answers = answers;

        public int? RetryAfterSeconds { get; init; }

        public IReadOnlyList<string> Posts
        {
            get
            {
                lock (_lock) return _posts.ToArray();
            }
        }

        public async Task WaitForPosts(int count)
        {
            while (Posts.Count < count) await _posted.WaitAsync(Safety);
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            int n;
            lock (_lock)
            {
                _posts.Add(body);
                n = _posts.Count;
            }
            var response = new HttpResponseMessage(_answers[Math.Min(n, _answers.Length) - 1]);
            if (RetryAfterSeconds is { } seconds) response.Headers.Add("Retry-After", seconds.ToString());
            _posted.Release();
            return response;
        }
    }
}

/// <summary>The notifier: the event log hears of every run, the webhook only of the runs the policy names.</summary>
public class RunNotifierTests
{
    private sealed class FakeEventLog : IRunEventLog
    {
        public List<RunEventEntry> Entries { get; } = new();
        public string? Refuse { get; init; }

        public string? Write(RunReport report)
        {
            if (Refuse is not null) return Refuse;
            Entries.Add(RunEventEntry.For(report));
            return null;
        }
    }

    private sealed class CountingHandler : HttpMessageHandler
    {
        public int Posts;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Posts);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }

    private static RunReport Report(SyncRunStatus status) => new() { Sync = "customers", Object = "Customer", Status = status, Total = 10, Created = 10 };

    [Fact]
    public async Task A_successful_run_is_logged_but_not_posted_and_a_failed_one_is_both()
    {
        var log = new FakeEventLog();
        var handler = new CountingHandler();
        using var notifier = new RunNotifier(new WebhookAlerter(new Uri("https://hooks.slack.com/services/x"), handler: handler), new AlertPolicy(), log);

        var ok = await notifier.NotifyAsync(Report(SyncRunStatus.Succeeded));
        var failed = await notifier.NotifyAsync(Report(SyncRunStatus.Failed));

        Assert.Equal(new Notification(false, null, true, null), ok);
        Assert.Equal(new Notification(true, null, true, null), failed);
        Assert.Equal(1, handler.Posts);
        Assert.Equal(new[] { RunEventEntry.SucceededId, RunEventEntry.FailedId }, log.Entries.Select(e => e.EventId));
    }

    [Fact]
    public async Task Where_there_is_no_event_log_the_reason_is_given_and_the_post_still_goes()
    {
        var handler = new CountingHandler();
        using var notifier = new RunNotifier(new WebhookAlerter(new Uri("https://hooks.slack.com/services/x"), handler: handler), new AlertPolicy(),
            new FakeEventLog { Refuse = "the event source KustomerSync is not registered" });

        var n = await notifier.NotifyAsync(Report(SyncRunStatus.Failed));

        Assert.True(n.Posted);
        Assert.False(n.Logged);
        Assert.Equal("the event source KustomerSync is not registered", n.EventLogSkipped);
    }
}
