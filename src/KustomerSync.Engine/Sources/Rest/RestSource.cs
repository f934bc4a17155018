using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// What the HTTPS providers share: one HttpClient (owned, disposed with the reader), requests that honour Ctrl+C and
/// a per-request timeout, JSON bodies read one page at a time and decompressed whatever the server chose (gzip,
/// deflate, brotli), retries of 429/503 with Retry-After, one retry with fresh credentials on a 401 where the reader
/// mints its own token, and failures turned into the stable source errors with every secret masked. A 2xx answer
/// whose body cannot be read is an error naming what was being read, never an empty page.
/// </summary>
public abstract class RestSource : ISourceReader
{
    // Up to about a minute in all: Google's read quotas are per minute and say nothing of when to come back.
    private static readonly TimeSpan[] RetryDelays =
    {
        TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(32),
    };
    private static readonly TimeSpan LongestRetryAfter = TimeSpan.FromMinutes(5);
#if NET
    private const string Encodings = "gzip, deflate, br";
#else
    private const string Encodings = "gzip, deflate";
#endif
    private readonly HttpClient _http;

    protected RestSource(RestSettings settings, HttpMessageHandler? handler, TimeProvider? time)
    {
        Settings = settings;
        Time = time ?? TimeProvider.System;
        // Decompression is done here, not by the handler, so that it holds whatever handler is given.
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("KustomerSync", "0.1"));
        _http.DefaultRequestHeaders.TryAddWithoutValidation("Accept-Encoding", Encodings);
        RequestTimeout = TimeSpan.FromSeconds(settings.GetInt(120, "RequestTimeout"));
        PollInterval = TimeSpan.FromMilliseconds(settings.GetInt(1000, "PollIntervalMs"));
    }

    public abstract string Provider { get; }
    public abstract string Target { get; }
    protected RestSettings Settings { get; }
    protected SecretMask Mask => Settings.Mask;
    protected TimeSpan RequestTimeout { get; }

    /// <summary>The clock of deadlines, token lifetimes, polls and retry waits.</summary>
    protected TimeProvider Time { get; }

    protected DateTime UtcNow => Time.GetUtcNow().UtcDateTime;

    /// <summary>How often a running statement is polled.</summary>
    public TimeSpan PollInterval { get; set; }

    /// <summary>When a statement still running is given up (and cancelled): -CommandTimeout, plus the same again (at most 30 s) for the server's own timeout to answer first.</summary>
    protected DateTime Deadline(SourceQuery query) =>
        query.CommandTimeout is { } t && t > TimeSpan.Zero ? UtcNow + t + TimeSpan.FromSeconds(Math.Min(30, t.TotalSeconds)) : DateTime.MaxValue;

    public abstract IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken);

    /// <summary>Closes the HTTP connections this reader opened.</summary>
    public void Dispose() => _http.Dispose();

    /// <summary>A response: its status and its JSON body (for an error status, null when the body is empty or not JSON).</summary>
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

    /// <summary>
    /// Sends a request (built anew for each retry) and reads the JSON reply; <paramref name="what"/> names what is
    /// being read ("partition 2 of statement 01ab...") in the errors. Network failures become ConnectionFailed; a 2xx
    /// answer whose body is empty, cannot be decompressed or is not JSON becomes ReadFailed.
    /// </summary>
    protected Reply Send(Func<HttpRequestMessage> build, string what, CancellationToken cancellationToken) =>
        SendAsync(build, what, cancellationToken).GetAwaiter().GetResult();

    private async Task<Reply> SendAsync(Func<HttpRequestMessage> build, string what, CancellationToken cancellationToken)
    {
        var renewed = false;
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var request = build();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // The per-request timeout guards a real socket, so it runs on the real clock.
            timeout.CancelAfter(RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw SourceErrors.TimedOut($"{Provider} at {Target} did not answer within {RequestTimeout.TotalSeconds:0} s (RequestTimeout) while reading {what}.");
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
                    await WaitAsync(RetryWait(response, attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.Unauthorized && !renewed && RenewCredentials())
                {
                    // A token this reader minted expired early or was refused: mint a new one, once.
                    renewed = true;
                    continue;
                }
                byte[] bytes;
                try
                {
                    bytes = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw ReadFailed($"the connection broke while reading {what}: {Mask.Mask(ex.Message)}");
                }
                var ok = (int)response.StatusCode is >= 200 and < 300;
                try
                {
                    bytes = Decompress(bytes, response.Content.Headers.ContentEncoding, what);
                }
                catch (SourceException) when (!ok)
                {
                    bytes = Array.Empty<byte>(); // an unreadable error body: the status still says what happened
                }
                JsonDocument? json = null;
                string? text = null;
                if (bytes.Length > 0)
                {
                    try
                    {
                        json = JsonDocument.Parse(bytes);
                    }
                    catch (JsonException ex)
                    {
                        if (ok) throw ReadFailed($"{what} is not readable JSON ({Mask.Mask(ex.Message)})");
                        text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 2000));
                    }
                }
                else if (ok)
                {
                    throw ReadFailed($"{what} came with an empty body");
                }
                return new Reply(response.StatusCode, json, text);
            }
        }
    }

    /// <summary>How long to wait before retrying a 429 or 503: the server's Retry-After (seconds or a date), else the next back-off step.</summary>
    private TimeSpan RetryWait(HttpResponseMessage response, int attempt)
    {
        var retryAfter = response.Headers.RetryAfter;
        var wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - Time.GetUtcNow() : RetryDelays[attempt]);
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        if (wait > LongestRetryAfter)
            throw SourceErrors.Query($"{Provider} at {Target} is busy and asks to come back in {wait.TotalMinutes:0} minutes ({(int)response.StatusCode}, Retry-After); run again later.");
        return wait;
    }

    /// <summary>
    /// Drops a token this reader minted itself (a key-pair JWT, a service-account access token) so that the next
    /// request mints a fresh one; false when the credentials are the user's own and cannot be renewed here.
    /// </summary>
    protected virtual bool RenewCredentials() => false;

    /// <summary>A 2xx answer that could not be read, or fewer rows than announced: never taken for an empty or short page.</summary>
    protected SourceException ReadFailed(string detail) =>
        new(ErrorIds.SourceReadFailed, $"{Provider} at {Target}: {detail}. The read stops here rather than return fewer rows than the result has.");

    /// <summary>Checks the rows read against the count the service announced for them (nothing to check when it announced none).</summary>
    protected void CheckCount(string what, long? announced, long read)
    {
        if (announced is { } expected && expected != read)
            throw ReadFailed($"{what} was announced with {expected:N0} rows, but {read:N0} arrived");
    }

    /// <summary>A whole number given as a JSON number or as a string of digits (Google sends int64 as strings).</summary>
    protected static long? LongOf(JsonElement element, string name) => Property(element, name) switch
    {
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt64(out var value) => value,
        { ValueKind: JsonValueKind.String } s when long.TryParse(s.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) => value,
        _ => null,
    };

    /// <summary>Undoes the Content-Encoding the server applied (last applied first), whether or not it was asked for.</summary>
    private byte[] Decompress(byte[] bytes, ICollection<string> encodings, string what)
    {
        foreach (var encoding in encodings.Reverse())
        {
            var name = encoding.Trim().ToLowerInvariant();
            if (name is "" or "identity") continue;
            try
            {
                using var input = new MemoryStream(bytes);
                using Stream decoder = name switch
                {
                    "gzip" or "x-gzip" => new GZipStream(input, CompressionMode.Decompress),
                    "deflate" => Deflate(input, bytes),
#if NET
                    "br" => new BrotliStream(input, CompressionMode.Decompress),
#endif
                    _ => throw ReadFailed($"{what} is encoded as '{encoding}', which this build cannot decode (it asks for {Encodings})"),
                };
                using var output = new MemoryStream();
                decoder.CopyTo(output);
                bytes = output.ToArray();
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                throw ReadFailed($"{what} is compressed as {name} but could not be decompressed ({ex.Message})");
            }
        }
        return bytes;
    }

    /// <summary>HTTP "deflate" is zlib-wrapped (RFC 1950), though some servers send raw deflate: the header tells which.</summary>
    private static Stream Deflate(MemoryStream input, byte[] bytes)
    {
        var zlib = bytes.Length >= 2 && (bytes[0] & 0x0F) == 8 && ((bytes[0] << 8) | bytes[1]) % 31 == 0;
#if NET
        return zlib ? new ZLibStream(input, CompressionMode.Decompress) : new DeflateStream(input, CompressionMode.Decompress);
#else
        if (zlib) input.Position = 2; // the Adler-32 trailer after the deflate data is left unread
        return new DeflateStream(input, CompressionMode.Decompress);
#endif
    }

    /// <summary>Waits on the injected clock; throws when the user cancels.</summary>
    protected Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken) =>
#if NET
        Task.Delay(delay, Time, cancellationToken);
#else
        Time.Delay(delay, cancellationToken);
#endif

    protected static HttpRequestMessage Json(HttpMethod method, Uri uri, object? body)
    {
        var request = new HttpRequestMessage(method, uri);
        if (body is not null)
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>The stable error for a failed reply: 401/403 (or <paramref name="authentication"/>) authentication, 408/504 timeout, other statuses the server's message.</summary>
    protected SourceException Failure(Reply reply, string? serverMessage, string doing, bool authentication = false)
    {
        var message = Mask.Mask(serverMessage ?? reply.Text ?? reply.Status.ToString());
        return (int)reply.Status switch
        {
            _ when authentication => SourceErrors.Authentication($"{Provider} at {Target} refused the credentials ({(int)reply.Status}): {message}"),
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
    /// <param name="Name">How the timeout message names it: "statement 01ab...", "job job_x".</param>
    protected sealed record RunningStatement(SourceQuery Query, string Name, Func<Reply, bool> Running, Func<HttpRequestMessage> Poll, Action Cancel)
    {
        /// <summary>When it is given up; by default <see cref="RestSource.Deadline"/>.</summary>
        public DateTime? Deadline { get; init; }
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
        var deadline = statement.Deadline ?? Deadline(statement.Query);
        try
        {
            statement.Started?.Invoke(reply);
            while (statement.Running(reply))
            {
                if (UtcNow > deadline)
                {
                    statement.Cancel();
                    throw SourceErrors.TimedOut($"The {Provider} {statement.Name} did not finish within the command timeout of {statement.Query.CommandTimeout!.Value.TotalSeconds:0} s; it was cancelled.");
                }
                if (statement.PauseBetweenPolls) Pause(cancellationToken);
                reply.Dispose();
                reply = Send(statement.Poll, $"the status of {statement.Name}", cancellationToken);
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
    protected Reply SendOrCancel(Func<HttpRequestMessage> build, string what, Action cancel, CancellationToken cancellationToken)
    {
        try
        {
            return Send(build, what, cancellationToken);
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
    protected void Pause(CancellationToken cancellationToken) => WaitAsync(PollInterval, cancellationToken).GetAwaiter().GetResult();

    protected static string Authority(Uri? uri) => uri is null ? "?" : $"{uri.Host}:{uri.Port}";

    protected static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    protected static JsonElement? Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>The base URL (which may carry a path prefix) with a path appended.</summary>
    protected static Uri Combine(Uri baseUri, string pathAndQuery) => new(baseUri.AbsoluteUri.TrimEnd('/') + "/" + pathAndQuery.TrimStart('/'));
}
