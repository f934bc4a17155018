using System.Net;
using System.Net.Http.Headers;
using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace KustomerSync.Emulator;

/// <summary>
/// A running Kustomer API emulator. Start one in process for tests:
/// <code>
/// await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 0 });
/// using var http = server.CreateClient();                 // BaseAddress + Bearer emulator-key
/// var r = await http.GetAsync("v1/auth/tokens/current");
/// </code>
/// It binds 127.0.0.1 on <see cref="EmulatorOptions.Port"/> (0 = a free port) unless
/// <see cref="EmulatorOptions.Urls"/> is set. Dispose to stop it.
/// </summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    /// <summary>The key holding exactly the eight Census roles.</summary>
    public const string DefaultKey = KeyStore.DefaultKey;
    /// <summary>The Census roles plus <c>org.permission.bulk</c>.</summary>
    public const string BulkKey = KeyStore.BulkKey;
    /// <summary>Every role the emulator knows (define klasses, edit metadata, delete customers).</summary>
    public const string AdminKey = KeyStore.AdminKey;

    private readonly WebApplication _app;
    private readonly EmulatorServices _services;

    private EmulatorServer(WebApplication app, EmulatorServices services, Uri baseUri)
    {
        _app = app;
        _services = services;
        BaseUri = baseUri;
    }

    /// <summary>Root URL with a trailing slash, e.g. <c>http://127.0.0.1:41234/</c>; API paths are <c>v1/…</c> under it.</summary>
    public Uri BaseUri { get; }

    /// <summary>The options in force now (run-time changes through <c>PUT /_emulator/options</c> included).</summary>
    public EmulatorOptions Options => _services.Options.Current;

    /// <summary>Starts an emulator and returns once it accepts connections.</summary>
    public static Task<EmulatorServer> StartAsync(EmulatorOptions options, CancellationToken ct = default) =>
        StartAsync(options, processMode: false, ct);

    internal static async Task<EmulatorServer> StartAsync(EmulatorOptions options, bool processMode, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var services = new EmulatorServices(options);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(EmulatorServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (processMode) builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        else builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = Math.Max(options.MaxBodyBytes * 4L, 1024 * 1024);
        });
        if (!string.IsNullOrEmpty(options.Urls)) builder.WebHost.UseUrls(options.Urls);
        else builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));

        var app = builder.Build();
        EmulatorApp.Configure(app, services);
        await app.StartAsync(ct);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(address.Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1").Replace("localhost", "127.0.0.1").TrimEnd('/') + "/");
        return new EmulatorServer(app, services, uri);
    }

    /// <summary>An HttpClient with <see cref="BaseUri"/> and <c>Authorization: Bearer {key}</c> set.</summary>
    public HttpClient CreateClient(string? key = DefaultKey)
    {
        var client = new HttpClient { BaseAddress = BaseUri };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>The emulator clock now (the injected time source, or the system clock, plus every advance).</summary>
    public DateTimeOffset Now => _services.Clock.GetUtcNow();

    /// <summary>Moves the emulator clock forward (like <c>POST /_emulator/clock</c>): windows expire, bulk jobs come due.</summary>
    public void AdvanceClock(TimeSpan by) => _services.Clock.Advance(by);

    /// <summary>Clears all data and counters (like <c>POST /_emulator/reset</c>); options stay.</summary>
    public void Reset() => _services.Reset();

    /// <summary>The built-in keys (and any from <c>--keys</c>) with their roles.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Keys =>
        _services.Keys.Keys.ToDictionary(k => k.Key, k => k.Roles);

    /// <summary>Completes when the host is asked to stop (Ctrl+C / SIGTERM in process mode).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        _services.Store.BulkJobs.Shutdown();
        try { await _app.StopAsync(TimeSpan.FromSeconds(5)); }
        finally { await _app.DisposeAsync(); }
    }

    /// <summary>In-process hosts must not grab the test runner's Ctrl+C / SIGTERM.</summary>
    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
