using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>How a request may be retried when its answer is lost.</summary>
public enum RequestKind
{
    /// <summary>Reads and idempotent writes (GET, PATCH, PUT): retried on 5xx and timeouts.</summary>
    Idempotent,

    /// <summary>Creates: a lost answer raises <see cref="KustomerOutcomeUnknownException"/>, the caller looks up first.</summary>
    Create,

    /// <summary>Search requests: idempotent, and counted against the separate search budget as well (§8).</summary>
    Search,
}

/// <summary>
/// HTTP to one Kustomer org: bearer auth, the org's shared rate budget and a search budget of its own, retries with
/// jittered backoff, error bodies turned into <see cref="KustomerApiException"/>. Thread-safe; one instance per destination.
/// </summary>
public sealed class KustomerClient : IDisposable
{
    private const string TokenPath = "auth/tokens/current";
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };
    private readonly HttpClient _http;
    private readonly string _apiKey;
    private readonly RateGate _gate;
    private readonly RateGate _searchGate;
    private readonly Random _jitter = new();
    private long _requests;
    private long _rateLimited;
    private long _retries;
    private Task<IReadOnlyList<string>>? _roles;

    public KustomerClient(Uri baseUri, SecureString apiKey, KustomerClientOptions? options = null, HttpMessageHandler? handler = null)
    {
        BaseUri = KustomerEndpoint.Normalize(baseUri);
        Options = options ?? new KustomerClientOptions();
        _apiKey = SecretText.Reveal(apiKey);
        _http = new HttpClient(handler ?? CreateHandler(), disposeHandler: handler is null)
        {
            BaseAddress = BaseUri,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("KustomerSync", typeof(KustomerClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        var budget = BaseUri.GetLeftPart(UriPartial.Authority);
        _gate = RateGate.For(budget, Options.Time);
        _searchGate = RateGate.ForOwnBudget(budget + "#search", Options.SearchLimit, Options.SearchWindow, Options.Time);
    }

    public Uri BaseUri { get; }
    public KustomerClientOptions Options { get; }
    public long Requests => Interlocked.Read(ref _requests);
    public long RateLimited => Interlocked.Read(ref _rateLimited);
    public long Retries => Interlocked.Read(ref _retries);
    public RateGate Gate => _gate;
    public RateGate SearchGate => _searchGate;
    public TimeProvider Time => Options.Time;

    /// <summary>Where requests and pacing waits are narrated (set by the host for the length of a run); null: nowhere.</summary>
    public Diagnostics.IEngineLog? Log { get; set; }

    /// <summary>True while some request waits for the rate window to turn over, so progress can say so.</summary>
    public bool WaitingForRateWindow => Volatile.Read(ref _waitingForWindow) > 0;
    private int _waitingForWindow;
    private long _lastToldWait = -1;

    /// <summary>The roles of the key (GET /v1/auth/tokens/current), asked once per client.</summary>
    public Task<IReadOnlyList<string>> GetRolesAsync(CancellationToken cancellationToken)
    {
        lock (_jitter)
        {
            if (_roles is null || _roles.IsFaulted || _roles.IsCanceled) _roles = ReadRolesAsync(cancellationToken);
            return _roles;
        }
    }

    private async Task<IReadOnlyList<string>> ReadRolesAsync(CancellationToken cancellationToken)
    {
        var token = await SendAsync(HttpMethod.Get, TokenPath, null, RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
        return KustomerRoles.FromToken(token.DataAttributes);
    }

    /// <summary>
    /// Whether a refusal means the key lacks a role for that route: a 403, or a 401 once the key itself has proved good
    /// (GET /v1/auth/tokens/current answers any valid key), since Kustomer documents 401 for a missing role too (§11).
    /// Paths that make do without a route (metadata, klass list) use it to treat both alike.
    /// </summary>
    public async Task<bool> IsRefusedForRoleAsync(KustomerApiException ex, CancellationToken cancellationToken) =>
        ex.Status == HttpStatusCode.Forbidden || ex.ErrorId == ErrorIds.MissingRole ||
        ex.Status == HttpStatusCode.Unauthorized && await KeyIsGoodAsync(cancellationToken).ConfigureAwait(false);

    private async Task<bool> KeyIsGoodAsync(CancellationToken cancellationToken)
    {
        try
        {
            await GetRolesAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (KustomerApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            return false;
        }
    }

    /// <summary>Removes the key from text that may be shown (exception messages from the HTTP stack).</summary>
    public string Redact(string text) => SecretText.Redact(text, new[] { _apiKey });

    /// <summary>
    /// Sends a request under /v1. 2xx answers are returned; 404 is returned too when <paramref name="notFoundIsAnswer"/>
    /// (lookups); every other status becomes a <see cref="KustomerApiException"/> once retries are spent.
    /// </summary>
    public async Task<KustomerResponse> SendAsync(HttpMethod method, string path, JsonNode? body, RequestKind kind,
        CancellationToken cancellationToken, bool notFoundIsAnswer = false)
    {
        var payload = body is null ? null : JsonSerializer.SerializeToUtf8Bytes(body);
        var attempt = 0;
        var rateLimitedWaits = 0;
        while (true)
        {
            attempt++;
            cancellationToken.ThrowIfCancellationRequested();
            using var searchTurn = kind == RequestKind.Search ? await _searchGate.AcquireAsync(cancellationToken).ConfigureAwait(false) : null;
            using var turn = await WaitForBudgetAsync(cancellationToken).ConfigureAwait(false);
            var sentAt = Time.GetTimestamp();

            using var request = new HttpRequestMessage(method, "v1/" + path.TrimStart('/'));
            if (payload is not null)
            {
                request.Content = new ByteArrayContent(payload);
                request.Content.Headers.ContentType = Json;
            }

            HttpResponseMessage response;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(Options.RequestTimeout);
                Interlocked.Increment(ref _requests);
                try
                {
                    response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    if (Log is { DebugEnabled: true } log) log.Debug($"{method} /v1/{path.TrimStart('/')} -> no answer after {Time.GetElapsedTime(sentAt).TotalMilliseconds:0} ms (attempt {attempt}): {Redact(ex.Message)}");
                    turn.ReportNoAnswer();
                    var reason = ex is OperationCanceledException ? $"no answer within {Options.RequestTimeout.TotalSeconds:0} s" : Redact(ex.Message);
                    if (kind == RequestKind.Create && ex is OperationCanceledException)
                        throw new KustomerOutcomeUnknownException(reason, ex);
                    if (attempt >= Options.MaxAttempts)
                        throw new KustomerConnectionException(BaseUri.Host, reason + (attempt > 1 ? $" (after {attempt} attempts)" : ""), null);
                    await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            using (response)
            {
                var (limit, remaining, reset) = ReadBudget(response, Time.GetUtcNow());
                var status = (int)response.StatusCode;
                // Which budget a search answer's figures describe is undocumented (§8): they never lower the org budget,
                // and the search budget is counted by its own gate.
                if (kind == RequestKind.Search) turn.ReportSpent();
                if (Log is { DebugEnabled: true } log)
                    log.Debug($"{method} /v1/{path.TrimStart('/')}{(payload is null ? "" : $" ({payload.Length:N0} bytes)")} -> {status} {response.StatusCode} in {Time.GetElapsedTime(sentAt).TotalMilliseconds:0} ms" +
                        (limit is null ? "" : $", {remaining} of {limit} requests left in the rate window") + (attempt > 1 ? $" (attempt {attempt})" : ""));
                if (status == 429)
                {
                    Interlocked.Increment(ref _rateLimited);
                    if (searchTurn is not null) searchTurn.ReportExhausted(reset);
                    else if (remaining is > 0) turn.Report(limit, remaining, reset);
                    else turn.ReportExhausted(reset);
                    if (++rateLimitedWaits > Options.MaxRateLimitWaits)
                        throw await ErrorAsync(response).ConfigureAwait(false);
                    attempt--;
                    // The org budget has room: a per-customer or per-record limit (§6, §10) refused this request alone,
                    // so it backs off by itself while every other request goes on.
                    if (kind != RequestKind.Search && remaining is > 0) await BackoffAsync(rateLimitedWaits, cancellationToken).ConfigureAwait(false);
                    else Interlocked.Increment(ref _retries);
                    continue;
                }

                if (kind != RequestKind.Search) turn.Report(limit, remaining, reset);

                if (response.IsSuccessStatusCode || notFoundIsAnswer && response.StatusCode == HttpStatusCode.NotFound)
                {
                    var bytes = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                    return new KustomerResponse(response.StatusCode, bytes.Length == 0 ? null : JsonNode.Parse(bytes));
                }

                var error = await ErrorAsync(response).ConfigureAwait(false);
                if (status == 401 && path != TokenPath && MentionsRole(error.Detail) && await KeyIsGoodAsync(cancellationToken).ConfigureAwait(false))
                    throw error.AsMissingRole();
                if (!error.IsTransient) throw error;
                if (kind == RequestKind.Create) throw new KustomerOutcomeUnknownException($"{status} {response.StatusCode}", error);
                if (attempt >= Options.MaxAttempts) throw error;
                await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// The org budget's turn. A hold is narrated before it starts, once per window and kind (the workers held for one
    /// reset make one line), and a request held for the window's reset shows in progress until it goes.
    /// </summary>
    private async Task<RateGate.Turn> WaitForBudgetAsync(CancellationToken cancellationToken)
    {
        var heldForReset = false;
        try
        {
            return await _gate.AcquireAsync(cancellationToken, wait =>
            {
                if (wait.Spent && !heldForReset)
                {
                    heldForReset = true;
                    Interlocked.Increment(ref _waitingForWindow);
                }
                Narrate(wait);
            }).ConfigureAwait(false);
        }
        finally
        {
            if (heldForReset) Interlocked.Decrement(ref _waitingForWindow);
        }
    }

    private void Narrate(RateWait wait)
    {
        if (Log is not { VerboseEnabled: true } log) return;
        var told = wait.Window * 2 + (wait.Spent ? 1 : 0);
        long last;
        do
        {
            last = Interlocked.Read(ref _lastToldWait);
            if (told <= last) return;
        }
        while (Interlocked.CompareExchange(ref _lastToldWait, told, last) != last);
        var seconds = Math.Max(1, Math.Round(wait.ResetsIn.TotalSeconds));
        if (wait.Share is { } share)
        {
            // The org still has requests left: saying the window is spent would hide that the sync holds back for the others.
            var within = wait.EndAssumed ? $"within {seconds:N0} s (Kustomer did not say when the window ends)" : $"in {seconds:N0} s";
            var allowed = $"of its {share.Allowed:N0} requests a rate window";
            var orgLimit = $"(the org's limit is {wait.Limit:N0})";
            log.Verbose(wait.Spent
                ? $"Pacing to this sync's share: {share.Used:N0} {allowed} used {orgLimit}, the org has {wait.Remaining:N0} left for its other apps; next request {within}."
                : $"Pacing requests to this sync's share: {share.Left:N0} {allowed} left {orgLimit}, the org has {wait.Remaining:N0} left; the window resets {within}.");
            return;
        }
        var left = wait.Limit is { } limit ? $"{wait.Remaining:N0} of {limit:N0} requests left" : "no requests left";
        var resets = wait.EndAssumed ? $"resets within {seconds:N0} s (Kustomer did not say when)" : $"resets in {seconds:N0} s";
        log.Verbose(wait.Spent
            ? $"Waiting for Kustomer's rate window: {left}, {resets}."
            : $"Pacing requests over Kustomer's rate window: {left}, {resets}.");
    }

    private async Task BackoffAsync(int attempt, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _retries);
        double jitter;
        lock (_jitter) jitter = _jitter.NextDouble();
        var ceiling = Math.Min(Options.MaxBackoff.TotalMilliseconds, Options.BaseBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1));
        await Clock.Delay(Time, TimeSpan.FromMilliseconds(ceiling / 2 + jitter * ceiling / 2), cancellationToken).ConfigureAwait(false);
    }

    private static bool MentionsRole(string detail) =>
        detail.IndexOf("role", StringComparison.OrdinalIgnoreCase) >= 0 || detail.IndexOf("permission", StringComparison.OrdinalIgnoreCase) >= 0;

    private static (int? Limit, int? Remaining, double? Reset) ReadBudget(HttpResponseMessage response, DateTimeOffset now)
    {
        return (Header("x-ratelimit-limit"), Header("x-ratelimit-remaining"),
            ResetSeconds(response.Headers.TryGetValues("x-ratelimit-reset", out var values) ? values.FirstOrDefault() : null, now));

        int? Header(string name) =>
            response.Headers.TryGetValues(name, out var found) &&
            int.TryParse(found.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>
    /// Seconds until the budget resets, from an x-ratelimit-reset whose unit Kustomer does not document (§10): above
    /// 1e12 epoch milliseconds, above 1e9 epoch seconds, else seconds to go; clamped to 0–120 s so that a bad value can
    /// neither overflow nor stall a run. Null when the header is absent or unreadable.
    /// </summary>
    internal static double? ResetSeconds(string? header, DateTimeOffset now)
    {
        if (!double.TryParse(header, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value) || double.IsInfinity(value))
            return null;
        var seconds = value > 1e12 ? value / 1000 - now.ToUnixTimeMilliseconds() / 1000.0
            : value > 1e9 ? value - now.ToUnixTimeMilliseconds() / 1000.0
            : value;
        return Math.Min(MaxResetWait.TotalSeconds, Math.Max(0, seconds));
    }

    private static readonly TimeSpan MaxResetWait = TimeSpan.FromMinutes(2);

    private async Task<KustomerApiException> ErrorAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        string? code = null, detail = null, pointer = null;
        try
        {
            if (JsonNode.Parse(text)?["errors"] is JsonArray { Count: > 0 } errors && errors[0] is JsonObject first)
            {
                code = first["code"]?.ToString();
                var title = first["title"]?.ToString();
                var message = first["detail"]?.ToString() ?? first["message"]?.ToString();
                detail = title is not null && message is not null && !message.StartsWith(title, StringComparison.Ordinal) ? $"{title}: {message}" : message ?? title;
                pointer = first["source"]?["pointer"]?.ToString() ?? first["source"]?["parameter"]?.ToString();
            }
        }
        catch (JsonException)
        {
        }
        detail ??= string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase ?? "no detail" : text.Length > 300 ? text.Substring(0, 300) : text;
        return new KustomerApiException(response.StatusCode, code, Redact(detail), pointer);
    }

    private static HttpMessageHandler CreateHandler()
    {
#if NET
        return new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 64,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        };
#else
        ServicePointManager.SecurityProtocol |= SecurityProtocolType.Tls12;
        return new HttpClientHandler
        {
            MaxConnectionsPerServer = 64,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        };
#endif
    }
}

public sealed class KustomerClientOptions
{
    public int MaxAttempts { get; set; } = 5;
    public int MaxRateLimitWaits { get; set; } = 20;
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(20);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Searches per <see cref="SearchWindow"/>: Kustomer allows API keys 100 a minute (§8), apart from the org budget.</summary>
    public int SearchLimit { get; set; } = 100;
    public TimeSpan SearchWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock that paces and backs off (a fake one in tests).</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
