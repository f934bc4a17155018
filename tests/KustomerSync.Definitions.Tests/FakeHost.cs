using System.Collections;
using System.Collections.Specialized;
using KustomerSync.Engine.Security;

namespace KustomerSync.Definitions.Tests;

/// <summary>Environment variables, commands, files and secrets of a pretend PowerShell session.</summary>
internal sealed class FakeHost : IDefinitionHost
{
    public Dictionary<string, string> Environment { get; } = new(StringComparer.OrdinalIgnoreCase) { ["KUSTOMER_KEY"] = "k-secret-123" };
    public HashSet<string> Commands { get; } = new(StringComparer.OrdinalIgnoreCase);
    public HashSet<string> Files { get; } = new();
    public Dictionary<string, ResolvedSecret> Secrets { get; } = new(StringComparer.OrdinalIgnoreCase);
    public List<SecretReference> Resolved { get; } = new();

    public string? GetEnvironmentVariable(string name) => Environment.TryGetValue(name, out var v) ? v : null;
    public bool CommandExists(string name) => Commands.Contains(name);
    public bool FileExists(string path) => Files.Contains(path) || File.Exists(path);

    public ResolvedSecret Resolve(SecretReference reference)
    {
        Resolved.Add(reference);
        if (Secrets.TryGetValue(reference.Name, out var secret)) return secret;
        throw new InvalidOperationException($"no secret named '{reference.Name}' was found");
    }

    public static ResolvedSecret Secret(string text, string? user = null) => new(SecretText.Protect(text), user);
}

/// <summary>Builds definition data the way the cmdlet hands it over: ordered, case-insensitive dictionaries.</summary>
internal static class Data
{
    public static OrderedDictionary Table(params (string Key, object? Value)[] pairs)
    {
        var table = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in pairs) table[key] = value;
        return table;
    }

    /// <summary>A valid definition: SQLite source, emulator destination, SQLite state.</summary>
    public static OrderedDictionary Valid() => Table(
        ("Name", "customers"),
        ("Source", Table(("Provider", "Sqlite"), ("ConnectionString", "Data Source=crm.db"), ("Query", "select id as externalId, name, email from customers where updated_at > @since"),
            ("Parameters", Table(("since", "$LastRunStart"))))),
        ("Destination", Table(("BaseUri", "http://127.0.0.1:5080"), ("ApiKeyEnvironmentVariable", "KUSTOMER_KEY"))),
        ("Object", "Customer"),
        ("SyncKey", "ExternalId"),
        ("State", Table(("Path", "customers.state.db"))));

    public static OrderedDictionary Section(IDictionary root, string name) => (OrderedDictionary)root[name]!;
}
