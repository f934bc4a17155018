using KustomerSync.Emulator.Auth;

namespace KustomerSync.Emulator.Hosting;

/// <summary>The one line printed on start: URL, org and keys.</summary>
public static class StartupBanner
{
    public static string Text(EmulatorServer server)
    {
        var keys = server.Keys.Select(k => k.Key switch
        {
            KeyStore.DefaultKey => $"{k.Key} (8 Census roles)",
            KeyStore.BulkKey => $"{k.Key} (+ org.permission.bulk)",
            KeyStore.AdminKey => $"{k.Key} (all roles)",
            _ => $"{k.Key} ({k.Value.Count} roles)",
        });
        var url = server.BaseUri.ToString().TrimEnd('/');
        return $"Kustomer emulator listening on {url} (org: {server.Options.Org}) keys: {string.Join(", ", keys)}";
    }
}
