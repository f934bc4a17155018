using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace KustomerSync.Engine.Sources;

/// <summary>The providers Get-SourceRows knows, by name, and how each opens a connection.</summary>
public static class SourceProviders
{
    public static readonly string[] Names = { "Sqlite" };

    public static DbSourceReader Create(string provider, string connectionString)
    {
        if (string.Equals(provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            SqliteSetup.EnsureInitialized();
            return new DbSourceReader("Sqlite", () => new SqliteConnection(connectionString), "@", ConnectionStrings.Redact);
        }
        throw new SourceException("KustomerSync.UnknownProvider", SourceFailure.InvalidArgument,
            $"Unknown provider '{provider}'. Known providers: {string.Join(", ", Names)}.");
    }

    /// <summary>A connection the user opened (any ADO.NET provider); it stays open and theirs.</summary>
    public static DbSourceReader ForConnection(DbConnection connection)
    {
        var name = connection.GetType().Name.Replace("Connection", "");
        var prefix = name.IndexOf("Oracle", StringComparison.OrdinalIgnoreCase) >= 0 ? ":" : "@";
        return new DbSourceReader(name, () => connection, prefix, ConnectionStrings.Redact, ownsConnection: false);
    }
}
