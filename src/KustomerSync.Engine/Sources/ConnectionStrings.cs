using System.Data.Common;
using System.Text.RegularExpressions;

namespace KustomerSync.Engine.Sources;

/// <summary>Connection-string handling that keeps secrets out of anything shown.</summary>
public static class ConnectionStrings
{
    private static readonly string[] SecretKeys = { "password", "pwd", "token", "access token", "accesstoken", "secret", "apikey", "api key", "private key", "privatekey" };
    private static readonly Regex SecretPairs = new(
        @"(?<key>(?:password|pwd|token|access\s*token|secret|api\s*key|private\s*key)\s*=\s*)(?<value>'[^']*'|""[^""]*""|[^;]*)",
        RegexOptions.IgnoreCase | RegexOptions.Compiled);

    /// <summary>Masks the value of every secret-looking key=value pair in a text.</summary>
    public static string Redact(string text) => SecretPairs.Replace(text, m => m.Groups["key"].Value + "****");

    /// <summary>A connection string with every secret's value masked, for display.</summary>
    public static string Display(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().ToList())
                if (SecretKeys.Contains(key.ToLowerInvariant())) builder[key] = "****";
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return Redact(connectionString);
        }
    }
}
