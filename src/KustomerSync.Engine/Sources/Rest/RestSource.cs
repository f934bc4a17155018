using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// What the HTTPS providers share: one HttpClient, requests that honour Ctrl+C and a per-request timeout, JSON
/// bodies read one page at a time, retries of 429/503 with Retry-After, and failures turned into the stable source
/// errors with every secret masked.
/// </summary>
public abstract class RestSource : ISourceReader, IDisposable
{
    private static readonly TimeSpan[] RetryDelays = { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(8) };
    private readonly HttpClient _http;

    protected RestSource(RestSettings settings, HttpMessageHandler? handler)
    {
        Settings = settings;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("KustomerSync", "0.1"));
        RequestTimeout = TimeSpan.FromSeconds(settings.GetInt(120, "RequestTimeout"));
        PollInterval = TimeSpan.FromMilliseconds(settings.GetInt(1000, "PollIntervalMs"));
    }

    public abstract string Provider { get; }
    public abstract string Target { get; }
    protected RestSettings Settings { get; }
    protected SecretMask Mask => Settings.Mask;
    protected TimeSpan RequestTimeout { get; }

    /// <summary>How often a running statement is polled.</summary>
    public TimeSpan PollInterval { get; set; }

    /// <summary>When a statement still running is given up (and cancelled): -CommandTimeout, plus the same again (at most 30 s) for the server's own timeout to answer first.</summary>
    protected static DateTime Deadline(SourceQuery query) =>
        query.CommandTimeout is { } t && t > TimeSpan.Zero ? DateTime.UtcNow + t + TimeSpan.FromSeconds(Math.Min(30, t.TotalSeconds)) : DateTime.MaxValue;

    public abstract IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken);

    public void Dispose() => _http.Dispose();

    /// <summary>A response: its status and its JSON body (null when the body is empty or not JSON).</summary>
    protected sealed class Reply : IDisposable
    {
        public Reply(HttpStatusCode status, JsonDocument? json, string? text)
        {
            Status = status;
            Json = json;
            Text = text;
        }

        public HttpStatusCode Status { get; }
        public JsonDocument? Json { get; }
        public string? Text { get; }
        public JsonElement Root => Json?.RootElement ?? default;
        public bool Ok => (int)Status is >= 200 and < 300;
        public void Dispose() => Json?.Dispose();
    }

    /// <summary>Sends a request (built anew for each retry) and reads the JSON reply; network failures become ConnectionFailed.</summary>
    protected Reply Send(Func<HttpRequestMessage> build, CancellationToken cancellationToken) =>
        SendAsync(build, cancellationToken).GetAwaiter().GetResult();

    private async Task<Reply> SendAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var request = build();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw SourceErrors.TimedOut($"{Provider} at {Target} did not answer within {RequestTimeout.TotalSeconds:0} s (RequestTimeout).");
            }
            catch (HttpRequestException ex)
            {
                var inner = ex.InnerException?.Message;
                throw SourceErrors.Connection($"Could not connect to {Provider} at {Authority(request.RequestUri)}: {Mask.Mask(ex.Message)}{(inner is null ? "" : " " + Mask.Mask(inner))}");
            }

            using (response)
            {
                if ((response.StatusCode == (HttpStatusCode)429 || response.StatusCode == HttpStatusCode.ServiceUnavailable) && attempt < RetryDelays.Length)
                {
                    var delay = response.Headers.RetryAfter?.Delta ?? RetryDelays[attempt];
                    if (delay > TimeSpan.FromSeconds(60)) delay = TimeSpan.FromSeconds(60);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                try
                {
                    var bytes = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                    JsonDocument? json = null;
                    string? text = null;
                    if (bytes.Length > 0)
                    {
                        try
                        {
                            json = JsonDocument.Parse(bytes);
                        }
                        catch (JsonException)
                        {
                            text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 2000));
                        }
                    }
                    return new Reply(response.StatusCode, json, text);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw SourceErrors.Connection($"The connection to {Provider} at {Target} broke while reading a response: {Mask.Mask(ex.Message)}");
                }
            }
        }
    }

    protected static HttpRequestMessage Json(HttpMethod method, Uri uri, object? body)
    {
        var request = new HttpRequestMessage(method, uri);
        if (body is not null)
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>The stable error for a failed reply: 401/403 authentication, 408/504 timeout, other statuses the server's message.</summary>
    protected SourceException Failure(Reply reply, string? serverMessage, string doing)
    {
        var message = Mask.Mask(serverMessage ?? reply.Text ?? reply.Status.ToString());
        return (int)reply.Status switch
        {
            401 or 403 => SourceErrors.Authentication($"{Provider} at {Target} refused the credentials ({(int)reply.Status}): {message}"),
            408 or 504 => SourceErrors.TimedOut($"{Provider} at {Target} timed out {doing}: {message}"),
            _ => SourceErrors.Query($"{Provider} {doing} failed ({(int)reply.Status}): {message}"),
        };
    }

    /// <summary>Runs a best-effort cancel request (Ctrl+C or timeout) without letting its failure hide the first one.</summary>
    protected void TryCancel(Func<HttpRequestMessage> build)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var request = build();
            using var response = _http.SendAsync(request, cts.Token).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // Best effort: the statement also dies with its session or its own timeout.
        }
    }

    /// <summary>A statement (or job) that may still be running after its first reply, and how to follow it.</summary>
    protected sealed class RunningStatement
    {
        public RunningStatement(SourceQuery query, string name, Func<Reply, bool> running, Func<HttpRequestMessage> poll, Action cancel)
        {
            Query = query;
            Name = name;
            Running = running;
            Poll = poll;
            Cancel = cancel;
            Deadline = RestSource.Deadline(query);
        }

        public SourceQuery Query { get; }
        /// <summary>How the timeout message names it: "statement 01ab...", "job job_x".</summary>
        public string Name { get; }
        public Func<Reply, bool> Running { get; }
        public Func<HttpRequestMessage> Poll { get; }
        public Action Cancel { get; }
        public DateTime Deadline { get; init; }
        /// <summary>Checks the first reply; throws when the statement did not start.</summary>
        public Action<Reply>? Started { get; init; }
        /// <summary>Checks each poll's reply; throws when polling failed.</summary>
        public Action<Reply>? Polled { get; init; }
        /// <summary>Checks the last reply; throws when the statement failed.</summary>
        public Action<Reply>? Finished { get; init; }
        /// <summary>False where each poll waits on the server (a long poll) instead of here.</summary>
        public bool PauseBetweenPolls { get; init; } = true;
    }

    /// <summary>
    /// Follows a statement from its first reply until it has finished, and returns the last reply. At the deadline the
    /// statement is cancelled and a timeout thrown. Whatever fails, the reply in hand is disposed; on Ctrl+C the
    /// statement is cancelled too.
    /// </summary>
    protected Reply AwaitFinished(Reply reply, RunningStatement statement, CancellationToken cancellationToken)
    {
        try
        {
            statement.Started?.Invoke(reply);
            while (statement.Running(reply))
            {
                if (DateTime.UtcNow > statement.Deadline)
                {
                    statement.Cancel();
                    throw SourceErrors.TimedOut($"The {Provider} {statement.Name} did not finish within -CommandTimeout {statement.Query.CommandTimeout!.Value.TotalSeconds:0} s; it was cancelled.");
                }
                if (statement.PauseBetweenPolls) Pause(cancellationToken);
                reply.Dispose();
                reply = Send(statement.Poll, cancellationToken);
                statement.Polled?.Invoke(reply);
            }
            statement.Finished?.Invoke(reply);
            return reply;
        }
        catch (OperationCanceledException)
        {
            statement.Cancel();
            reply.Dispose();
            throw;
        }
        catch
        {
            reply.Dispose();
            throw;
        }
    }

    /// <summary>Fetches more of a finished statement's result; on Ctrl+C the statement is cancelled before giving up.</summary>
    protected Reply SendOrCancel(Func<HttpRequestMessage> build, Action cancel, CancellationToken cancellationToken)
    {
        try
        {
            return Send(build, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            cancel();
            throw;
        }
    }

    /// <summary>A result's columns: their names and, for each, how its cells become values.</summary>
    protected sealed class ResultColumns
    {
        private readonly SourceColumns _names;
        private readonly List<Func<JsonElement, object?>> _converters = new();

        /// <summary>Reads a JSON array of column objects, each named by its "name", with the converter each one's type asks for.</summary>
        public ResultColumns(JsonElement? columns, Func<JsonElement, Func<JsonElement, object?>> converterOf)
        {
            var names = new List<string>();
            if (columns is { ValueKind: JsonValueKind.Array } list)
                foreach (var column in list.EnumerateArray())
                {
                    names.Add(StringOf(column, "name") ?? "");
                    _converters.Add(converterOf(column));
                }
            _names = new SourceColumns(names);
        }

        /// <summary>A row from its cells in column order: a null or missing cell is null; cells beyond the columns are ignored.</summary>
        public SourceRow Row(IEnumerable<JsonElement> cells)
        {
            var values = new object?[_converters.Count];
            var i = 0;
            foreach (var cell in cells)
            {
                if (i >= values.Length) break;
                values[i] = cell.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : _converters[i](cell);
                i++;
            }
            return new SourceRow(_names, values);
        }

        /// <summary>The rows of a result page held under <paramref name="property"/> as arrays of cells.</summary>
        public IEnumerable<SourceRow> ArrayRows(JsonElement page, string property)
        {
            if (Property(page, property) is not { ValueKind: JsonValueKind.Array } rows) yield break;
            foreach (var row in rows.EnumerateArray()) yield return Row(row.EnumerateArray());
        }
    }

    /// <summary>Waits before the next poll; throws when the user cancels.</summary>
    protected void Pause(CancellationToken cancellationToken) => Task.Delay(PollInterval, cancellationToken).GetAwaiter().GetResult();

    protected static string Authority(Uri? uri) => uri is null ? "?" : $"{uri.Host}:{uri.Port}";

    protected static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    protected static JsonElement? Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>The base URL (which may carry a path prefix) with a path appended.</summary>
    protected static Uri Combine(Uri baseUri, string pathAndQuery) => new(baseUri.AbsoluteUri.TrimEnd('/') + "/" + pathAndQuery.TrimStart('/'));
}
