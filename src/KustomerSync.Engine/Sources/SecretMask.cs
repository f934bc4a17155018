using System.Data.Common;

namespace KustomerSync.Engine.Sources;

/// <summary>
/// Masks secrets in any text shown to the user: the literal values it was told about (passwords, tokens, keys) and
/// every secret-looking key=value pair.
/// </summary>
public sealed class SecretMask
{
    private static readonly string[] SecretKeyWords = { "password", "pwd", "token", "secret", "apikey", "api key", "privatekey", "private key", "passphrase", "key" };
    private readonly List<string> _secrets = new();

    public static SecretMask None { get; } = new();

    public SecretMask Add(string? secret)
    {
        if (!string.IsNullOrEmpty(secret) && secret!.Length >= 3 && !_secrets.Contains(secret)) _secrets.Add(secret);
        return this;
    }

    /// <summary>Adds the value of every secret-looking key of a connection string.</summary>
    public SecretMask AddFrom(DbConnectionStringBuilder builder)
    {
        foreach (var key in builder.Keys.Cast<string>())
            if (IsSecretKey(key)) Add(Convert.ToString(builder[key]));
        return this;
    }

    public static bool IsSecretKey(string key)
    {
        var k = key.Replace(" ", "").Replace("_", "").ToLowerInvariant();
        if (k is "privatekeyfile" or "keyfile" or "serviceaccountkeyfile" or "credentialsfile") return false; // paths, not secrets
        return SecretKeyWords.Any(w => k.Contains(w.Replace(" ", "")));
    }

    public string Mask(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var result = text!;
        foreach (var secret in _secrets.OrderByDescending(s => s.Length))
            result = result.Replace(secret, "****");
        return ConnectionStrings.Redact(result);
    }
}
