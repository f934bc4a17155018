using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
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
/// recorded before the double answers it.
/// </summary>
public sealed class DoubleServer : IDisposable
{
    private readonly WebApplication _app;

    private DoubleServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public static DoubleServer Start(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        DoubleServer? server = null;
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            string body;
            using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true)) body = await reader.ReadToEndAsync();
            context.Request.Body.Position = 0;
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            server!.Requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body));
            await next();
        });
        map(app);
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new DoubleServer(app, new Uri(address));
        return server;
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
        var ok = publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
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
