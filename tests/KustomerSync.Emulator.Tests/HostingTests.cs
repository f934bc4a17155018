using System.Diagnostics;
using System.Net;
using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.Tests;

public class HostingTests
{
    [Fact]
    public async Task StartAsync_binds_loopback_on_a_free_port_and_health_needs_no_auth()
    {
        await using var server = await Api.Start();
        Assert.Equal("127.0.0.1", server.BaseUri.Host);
        Assert.NotEqual(0, server.BaseUri.Port);
        using var anon = server.CreateClient(key: null);
        var r = (await anon.Get("health")).Expect(200);
        Assert.Equal("ok", r.Body!["status"]!.GetValue<string>());
        Assert.Null(r.Header("x-ratelimit-limit"));
    }

    [Fact]
    public async Task Two_servers_are_independent()
    {
        await using var a = await Api.Start();
        await using var b = await Api.Start();
        using var ca = a.CreateClient();
        using var cb = b.CreateClient();
        await ca.CreateCustomer("""{"externalId":"only-in-a"}""");
        (await ca.Get("v1/customers/externalId=only-in-a")).Expect(200);
        (await cb.Get("v1/customers/externalId=only-in-a")).Expect(404);
    }

    [Fact]
    public void Parser_reads_every_option()
    {
        var o = OptionsParser.Parse([
            "--urls", "http://127.0.0.1:5999", "--org", "acme", "--rate-limit", "50", "--rate-window-seconds=2",
            "--search-rate-limit", "7", "--latency-ms", "3", "--fault-5xx-rate", "0.25", "--fault-lost-create-rate", "0.5",
            "--seed", "42", "--bulk-delay-ms", "10", "--kobject-create-limit", "5", "--max-body-bytes", "2048", "--unlink-company-on-omit", "false",
            "--unlink-company-on-bulk-omit", "false", "--duplicate-status", "409", "--duplicate-existing-id", "true", "--missing-role-status", "401",
            "--search-window-days", "0", "--search-rate-headers", "both", "--object-update-limit", "3", "--undocumented-client-ref", "reject",
            "--batches-envelope", "data", "--bulk-batch-items", "100", "--batches-page-size", "7", "--rate-reset-format", "epoch-ms",
            "--rate-reset-on-success", "true", "--search-hits", "summary",
        ])!;
        Assert.Equal("http://127.0.0.1:5999", o.Urls);
        Assert.Equal("acme", o.Org);
        Assert.Equal(50, o.RateLimit);
        Assert.Equal(2, o.RateWindowSeconds);
        Assert.Equal(7, o.SearchRateLimit);
        Assert.Equal(3, o.LatencyMs);
        Assert.Equal(0.25, o.Fault5xxRate);
        Assert.Equal(0.5, o.FaultLostCreateRate);
        Assert.Equal(42, o.Seed);
        Assert.Equal(10, o.BulkDelayMs);
        Assert.Equal(5, o.KObjectCreateLimitPerCustomer);
        Assert.Equal(2048, o.MaxBodyBytes);
        Assert.False(o.UnlinkCompanyOnOmit);
        Assert.False(o.UnlinkCompanyOnBulkOmit);
        Assert.Equal(409, o.DuplicateStatus);
        Assert.True(o.DuplicateExistingId);
        Assert.Equal(401, o.MissingRoleStatus);
        Assert.Equal(0, o.SearchWindowDays);
        Assert.Equal("both", o.SearchRateHeaders);
        Assert.Equal(3, o.ObjectUpdateLimit);
        Assert.Equal("reject", o.UndocumentedClientRef);
        Assert.Equal("data", o.BatchesEnvelope);
        Assert.Equal(100, o.BulkBatchItems);
        Assert.Equal(7, o.BatchesPageSize);
        Assert.Equal("epoch-ms", o.RateResetFormat);
        Assert.True(o.RateResetOnSuccess);
    }

    [Fact]
    public void Defaults_model_the_documented_rules()
    {
        var o = new EmulatorOptions();
        Assert.True(o.UnlinkCompanyOnOmit);
        Assert.True(o.UnlinkCompanyOnBulkOmit);
        Assert.Equal(400, o.DuplicateStatus);
        Assert.False(o.DuplicateExistingId);
        Assert.Equal(403, o.MissingRoleStatus);
        Assert.Equal(730, o.SearchWindowDays);
        Assert.Equal(100, o.SearchRateLimit);
        Assert.Equal("org", o.SearchRateHeaders);
        Assert.Equal(120, o.KObjectCreateLimitPerCustomer);
        Assert.Equal(60, o.ObjectUpdateLimit);
        Assert.Equal(102_400, o.MaxBodyBytes);
        Assert.Equal("ignore", o.UndocumentedClientRef);
        Assert.Equal("array", o.BatchesEnvelope);
        Assert.Equal("epoch-seconds", o.RateResetFormat);
        Assert.False(o.RateResetOnSuccess);
    }

    [Fact]
    public void Help_lists_every_option()
    {
        var usage = OptionsParser.Usage();
        foreach (var name in new[] { "unlink-company-on-omit", "unlink-company-on-bulk-omit", "duplicate-status", "duplicate-existing-id",
                     "missing-role-status", "search-window-days", "search-rate-headers", "object-update-limit", "undocumented-client-ref",
                     "batches-envelope", "bulk-batch-items", "batches-page-size", "rate-reset-format", "rate-reset-on-success", "max-body-bytes", "search-hits" })
            Assert.Contains("--" + name + " ", usage);
    }

    [Theory]
    [InlineData("--duplicate-status", "500")]
    [InlineData("--missing-role-status", "404")]
    [InlineData("--search-rate-headers", "mine")]
    [InlineData("--search-hits", "some")]
    [InlineData("--undocumented-client-ref", "maybe")]
    [InlineData("--batches-envelope", "xml")]
    [InlineData("--rate-reset-format", "hours")]
    [InlineData("--bulk-batch-items", "0")]
    public void Parser_rejects_bad_rule_settings(string name, string value)
    {
        var e = Assert.Throws<OptionsException>(() => OptionsParser.Parse([name, value]));
        Assert.Contains(name, e.Message);
    }

    [Theory]
    [InlineData("--bogus", "1", "--bogus")]
    [InlineData("--rate-limit", "abc", "--rate-limit")]
    [InlineData("--fault-5xx-rate", "1.5", "--fault-5xx-rate")]
    [InlineData("--metadata", "/nonexistent/meta.json", "--metadata")]
    public void Parser_rejects_bad_options_naming_them(string name, string value, string expected)
    {
        var e = Assert.Throws<OptionsException>(() => OptionsParser.Parse([name, value]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Parser_reads_a_config_file_and_command_line_wins()
    {
        var path = Path.Combine(Path.GetTempPath(), $"emu-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"org":"fromfile","rateLimit":12,"rate-window-seconds":3,"seed":9}""");
        try
        {
            var o = OptionsParser.Parse(["--config", path, "--rate-limit", "99"])!;
            Assert.Equal("fromfile", o.Org);
            Assert.Equal(99, o.RateLimit);
            Assert.Equal(3, o.RateWindowSeconds);
            Assert.Equal(9, o.Seed);
            File.WriteAllText(path, """{"nope":1}""");
            Assert.Contains("nope", Assert.Throws<OptionsException>(() => OptionsParser.Parse(["--config", path])).Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task Process_exits_2_on_an_unknown_option_and_prints_its_name()
    {
        var (code, _, stderr) = await RunProcess("--no-such-option 1", TimeSpan.FromSeconds(30));
        Assert.Equal(2, code);
        Assert.Contains("--no-such-option", stderr);
    }

    [Fact]
    public async Task Process_starts_prints_the_banner_and_serves_health()
    {
        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet", $"\"{EmulatorDll}\" --urls http://127.0.0.1:{port} --org acme")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        try
        {
            var line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal($"Kustomer emulator listening on http://127.0.0.1:{port} (org: acme) keys: emulator-key (8 Census roles), emulator-bulk-key (+ org.permission.bulk), emulator-admin-key (all roles)", line);
            using var http = new HttpClient();
            var r = await http.GetAsync($"http://127.0.0.1:{port}/health");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    private static string EmulatorDll => Path.Combine(AppContext.BaseDirectory, "KustomerSync.Emulator.dll");

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunProcess(string args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("dotnet", $"\"{EmulatorDll}\" {args}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }
}
