namespace KustomerSync.Sources.Tests;

/// <summary>
/// The real servers tests/servers/TestServers.psm1 starts. A missing one skips its tests with the reason, except
/// under CI=true, where it fails them.
/// </summary>
internal static class TestServers
{
    public static string Postgres => Require("KUSTOMERSYNC_TEST_POSTGRES", "Postgres");
    public static string MySql => Require("KUSTOMERSYNC_TEST_MYSQL", "MariaDB");

    private static string Require(string variable, string name)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(value)) return value;
        var reason = $"{variable} is not set: start {name} with tests/servers/TestServers.psm1 (Start-TestServers), as build.ps1 -Task Test does.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("CI=true and " + reason);
        throw new SkipException(reason);
    }

    /// <summary>A loopback port nothing listens on.</summary>
    public static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
