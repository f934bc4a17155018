using System.Text.Json;
using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Auth;

/// <summary>
/// The API keys an instance accepts: built-in <c>emulator-key</c> (the eight Census roles),
/// <c>emulator-bulk-key</c> (those + org.permission.bulk), <c>emulator-admin-key</c> (every role),
/// plus or instead of those, the keys of a <c>--keys</c> file:
/// <code>{ "replaceBuiltIn": false, "keys": [ { "key": "k1", "name": "sync", "roles": ["…"], "expired": false, "pod": "prod1" } ] }</code>
/// </summary>
public sealed class KeyStore
{
    public const string DefaultKey = "emulator-key";
    public const string BulkKey = "emulator-bulk-key";
    public const string AdminKey = "emulator-admin-key";

    private readonly Dictionary<string, ApiKey> _keys = new(StringComparer.Ordinal);

    public KeyStore(EmulatorOptions options)
    {
        var created = DateTimeOffset.UtcNow;
        var replace = false;
        var fileKeys = new List<ApiKey>();
        if (options.KeysPath is not null) (replace, fileKeys) = LoadFile(options.KeysPath, created);
        if (!replace)
        {
            Add(Make(DefaultKey, "Emulator sync key (Census roles)", Roles.Census, created));
            Add(Make(BulkKey, "Emulator bulk key", Roles.Census.Append(Roles.Bulk).ToArray(), created));
            Add(Make(AdminKey, "Emulator admin key (all roles)", Roles.All, created));
        }
        foreach (var k in fileKeys) _keys[k.Key] = k;
    }

    public IReadOnlyCollection<ApiKey> Keys => _keys.Values;

    public ApiKey? Find(string key) => _keys.GetValueOrDefault(key);

    private void Add(ApiKey key) => _keys[key.Key] = key;

    private static ApiKey Make(string key, string name, IReadOnlyList<string> roles, DateTimeOffset created, bool expired = false, string pod = "prod1") => new()
    {
        Key = key,
        Name = name,
        Roles = roles,
        Expired = expired,
        Pod = pod,
        TokenId = ObjectIds.FromName("token:" + key),
        UserId = ObjectIds.FromName("user:" + key),
        CreatedAt = created,
    };

    private static (bool Replace, List<ApiKey> Keys) LoadFile(string path, DateTimeOffset created)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var replace = root.TryGetProperty("replaceBuiltIn", out var r) && r.ValueKind == JsonValueKind.True;
            var list = new List<ApiKey>();
            if (!root.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
                throw new OptionsException($"--keys file {path} must contain a \"keys\" array");
            foreach (var k in keys.EnumerateArray())
            {
                var key = k.GetProperty("key").GetString();
                if (string.IsNullOrEmpty(key)) throw new OptionsException($"--keys file {path}: every key needs a non-empty \"key\"");
                var roles = k.TryGetProperty("roles", out var rs) ? rs.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];
                var name = k.TryGetProperty("name", out var n) ? n.GetString() ?? key : key;
                var expired = k.TryGetProperty("expired", out var e) && e.ValueKind == JsonValueKind.True;
                var pod = k.TryGetProperty("pod", out var p) ? p.GetString() ?? "prod1" : "prod1";
                list.Add(Make(key, name, roles, created, expired, pod));
            }
            return (replace, list);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new OptionsException($"--keys file {path} is invalid: {e.Message}");
        }
    }
}
