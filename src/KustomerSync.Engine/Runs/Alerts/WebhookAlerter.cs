using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>What became of one alert post.</summary>
public sealed record AlertDelivery(bool Sent, int Attempts, string? Problem);

/// <summary>
/// Posts run reports to one webhook (Teams, Slack or a receiver of one's own). The URL is a secret (its path is the
/// webhook's credential): only its host ever appears in a message. A post is tried a few times on timeouts, 408, 429
/// and 5xx answers, within a bounded time, and a failure is reported, never thrown: an alert must not fail the sync.
/// </summary>
public sealed class WebhookAlerter : IDisposable
{
    private static readonly TimeSpan[] Backoff = { TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5) };
    private static readonly TimeSpan LongestRetryAfter = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly WebhookFormat _format;
    private readonly TimeProvider _time;

    public WebhookAlerter(Uri url, WebhookFormat format = WebhookFormat.Auto, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        if (!url.IsAbsoluteUri || url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && url.IsLoopback))
            throw new ArgumentException($"The alert webhook must be an https URL (http only on loopback), not a {url.Scheme} URL for {url.Host}.");
        _url = url;
        _format = WebhookPayload.Resolve(format, url);
        _time = time ?? TimeProvider.System;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    /// <summary>The format posts are sent in (Auto resolved from the URL's host).</summary>
    public WebhookFormat Format => _format;

    /// <summary>Where posts go, without the secret path: for messages.</summary>
    public string Display => _url.Host;

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public async Task<AlertDelivery> SendAsync(RunReport report, CancellationToken cancellationToken = default)
    {
        var body = WebhookPayload.Build(report, _format).ToJsonString();
        string? problem = null;
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(AttemptTimeout);
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    request.Headers.UserAgent.Add(new ProductInfoHeaderValue("KustomerSync", typeof(WebhookAlerter).Assembly.GetName().Version?.ToString() ?? "0"));
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                    var status = (int)response.StatusCode;
                    if (status is >= 200 and < 300) return new AlertDelivery(true, attempt, null);
                    problem = $"{status} {response.ReasonPhrase}".TrimEnd();
                    if (!(status is 408 or 429 or >= 500)) return Refused(attempt, problem);
                    retryAfter = RetryAfter(response);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    problem = $"no answer within {AttemptTimeout.TotalSeconds:0} s";
                }
                catch (HttpRequestException ex)
                {
                    problem = Scrub(ex.Message);
                }
            }
            if (attempt > Backoff.Length) return new AlertDelivery(false, attempt, $"The alert to {Display} was not delivered after {attempt} attempts: {problem}.");
            var wait = retryAfter is { } asked && asked > Backoff[attempt - 1] ? (asked < LongestRetryAfter ? asked : LongestRetryAfter) : Backoff[attempt - 1];
            await Clock.Delay(_time, wait, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();

    private AlertDelivery Refused(int attempt, string problem) =>
        new(false, attempt, $"The alert webhook at {Display} refused the post ({problem}); check that the webhook still exists and that its format ({_format}) is the one it takes.");

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter?.Delta is { } delta) return delta;
        if (response.Headers.TryGetValues("Retry-After", out var values) &&
            double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            return TimeSpan.FromSeconds(seconds);
        return null;
    }

    /// <summary>Driver messages may quote the URL; its path is the webhook's secret.</summary>
    private string Scrub(string message) =>
        message.Replace(_url.AbsoluteUri, Display).Replace(_url.PathAndQuery, "/****");
}
