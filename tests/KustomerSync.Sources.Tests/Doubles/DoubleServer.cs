using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KustomerSync.Sources.Tests.Doubles;

/// <summary>One request a double received: what the provider sent, for assertions.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// An in-process Kestrel server on 127.0.0.1 that a test double maps its vendor's routes on; every request is
/// recorded before the double answers it, and every TCP connection is counted (to see a reader close what it opened).
/// With <see cref="Encoding"/> set, every answer is compressed that way whatever the client asked for, as some
/// services and proxies do.
/// </summary>
public sealed class DoubleServer : IDisposable
{
    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly List<TaskCompletionSource> _idleWaiters = new();
    private int _openConnections;
    private int _connections;

    private DoubleServer(WebApplication app)
    {
        _app = app;
    }

    public Uri Url { get; private set; } = null!;
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>gzip, deflate or br: the Content-Encoding of every answer from now on; null answers uncompressed.</summary>
    public string? Encoding { get; set; }

    /// <summary>How many TCP connections were ever opened to the double.</summary>
    public int Connections { get { lock (_gate) return _connections; } }

    /// <summary>Completes once every connection opened so far has been closed (at once when none is open).</summary>
    public Task AllConnectionsClosed()
    {
        lock (_gate)
        {
            if (_openConnections == 0) return Task.CompletedTask;
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _idleWaiters.Add(waiter);
            return waiter.Task;
        }
    }

    private async Task CountConnection(ConnectionContext connection, ConnectionDelegate next)
    {
        lock (_gate)
        {
            _openConnections++;
            _connections++;
        }
        try
        {
            await next(connection);
        }
        finally
        {
            List<TaskCompletionSource> done = new();
            lock (_gate)
            {
                if (--_openConnections == 0)
                {
                    done.AddRange(_idleWaiters);
                    _idleWaiters.Clear();
                }
            }
            foreach (var waiter in done) waiter.TrySetResult();
        }
    }

    public static DoubleServer Start(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        DoubleServer? server = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0,
            listen => listen.Use(next => connection => server!.CountConnection(connection, next))));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        server = new DoubleServer(app);
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            string body;
            using (var reader = new StreamReader(context.Request.Body, System.Text.Encoding.UTF8, leaveOpen: true)) body = await reader.ReadToEndAsync();
            context.Request.Body.Position = 0;
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            server.Requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body));
            if (server.Encoding is not { } encoding)
            {
                await next();
                return;
            }
            var original = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            await next();
            context.Response.Body = original;
            var compressed = Compress(buffer.ToArray(), encoding);
            context.Response.Headers.ContentEncoding = encoding;
            context.Response.ContentLength = compressed.Length;
            await original.WriteAsync(compressed);
        });
        map(app);
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address);
        return server;
    }

    /// <summary>The bytes compressed as an HTTP Content-Encoding: gzip, deflate (zlib-wrapped, as RFC 9110 says) or br.</summary>
    public static byte[] Compress(byte[] bytes, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream compressor = encoding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "br" => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => throw new ArgumentException(encoding),
        })
            compressor.Write(bytes);
        return output.ToArray();
    }

    /// <summary>A JSON answer compressed with <paramref name="encoding"/>, whatever the request's Accept-Encoding said.</summary>
    public static IResult CompressedJson(object body, string encoding) =>
        new WithHeader(Results.Bytes(Compress(JsonSerializer.SerializeToUtf8Bytes(body, new JsonSerializerOptions(JsonSerializerDefaults.Web)), encoding), "application/json"),
            "Content-Encoding", encoding);

    /// <summary>An answer with one more header.</summary>
    public sealed class WithHeader : IResult
    {
        private readonly IResult _inner;
        private readonly string _name;
        private readonly string _value;

        public WithHeader(IResult inner, string name, string value)
        {
            _inner = inner;
            _name = name;
            _value = value;
        }

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[_name] = _value;
            return _inner.ExecuteAsync(httpContext);
        }
    }

    public void Dispose() => _app.StopAsync().GetAwaiter().GetResult();

    public static async Task<JsonElement> BodyJson(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync();
        return JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone();
    }

    public static IResult Json(int status, object body) => Results.Json(body, statusCode: status);

    /// <summary>Verifies an RS256 JWT with the given public key and returns its claims (null when the signature is wrong).</summary>
    public static JsonElement? VerifyJwt(string jwt, RSA publicKey)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3) return null;
        var ok = publicKey.VerifyData(System.Text.Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (!ok) return null;
        var header = JsonDocument.Parse(FromBase64Url(parts[0])).RootElement;
        if (header.GetProperty("alg").GetString() != "RS256") return null;
        return JsonDocument.Parse(FromBase64Url(parts[1])).RootElement.Clone();
    }

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
