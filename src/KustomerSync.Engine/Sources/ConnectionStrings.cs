using System.Data.Common;
using System.Text.RegularExpressions;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources;

/// <summary>Connection-string handling that keeps secrets out of anything shown.</summary>
public static class ConnectionStrings
{
    private static readonly Regex SecretPairs = new(
        @"(?<key>\b(?:password|pwd|token|access\s*token|secret|client\s*secret|api\s*key|private\s*key|passphrase|private\s*key\s*passphrase)\s*=\s*)(?<value>'[^']*'|""[^""]*""|[^;]*)",
        RegexOptions.IgnoreCase | RegexOptions.Compiled);

    private static readonly Regex BearerTokens = new(@"(?<key>\b(?:Bearer|ApiKey|Basic)\s+)(?<value>[A-Za-z0-9\-_\.=+/]{8,})", RegexOptions.Compiled);

    /// <summary>Masks the value of every secret-looking key=value pair and authorization header value in a text.</summary>
    public static string Redact(string text)
    {
        var masked = SecretPairs.Replace(text, m => m.Groups["key"].Value + "****");
        return BearerTokens.Replace(masked, m => m.Groups["key"].Value + "****");
    }

    /// <summary>A connection string with every secret's value masked, for display.</summary>
    public static string Display(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().ToList())
                if (SecretMask.IsSecretKey(key)) builder[key] = "****";
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return Redact(connectionString);
        }
    }

    /// <summary>Parses a connection string; a malformed one is an InvalidArgument error that does not echo it.</summary>
    public static DbConnectionStringBuilder Parse(string provider, string connectionString)
    {
        try
        {
            return new DbConnectionStringBuilder { ConnectionString = connectionString };
        }
        catch (ArgumentException)
        {
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
                $"The {provider} connection string is not valid: write it as Key=Value pairs separated by ';' (quote values that contain ';').");
        }
    }
}
