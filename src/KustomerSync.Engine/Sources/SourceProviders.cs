using System.Data.Common;
using System.Net;
using KustomerSync.Engine.Sources.Rest;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources;

/// <summary>The providers Get-SourceRows knows, by name, and how each opens.</summary>
public static class SourceProviders
{
    /// <summary>The provider names, as -Provider takes them.</summary>
    public static readonly string[] Names =
    {
        "SqlServer", "Postgres", "Redshift", "MySql", "Sqlite", "Snowflake", "Databricks", "BigQuery", "Elasticsearch", "GoogleSheets",
    };

    /// <summary>Other names admins use for the same providers.</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["AzureSql"] = "SqlServer",
        ["Synapse"] = "SqlServer",
        ["MSSQL"] = "SqlServer",
        ["PostgreSQL"] = "Postgres",
        ["MariaDB"] = "MySql",
        ["OpenSearch"] = "Elasticsearch",
    };

    /// <summary>The canonical provider name, or null when unknown.</summary>
    public static string? Resolve(string provider)
    {
        var name = Names.FirstOrDefault(n => string.Equals(n, provider, StringComparison.OrdinalIgnoreCase));
        if (name is not null) return name;
        return Aliases.TryGetValue(provider, out var alias) ? alias : null;
    }

    /// <summary>A reader for the provider; the caller disposes it. <paramref name="handler"/> and <paramref name="time"/> are for tests.</summary>
    public static ISourceReader Create(string provider, string connectionString, NetworkCredential? credential = null, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        var name = Resolve(provider ?? "") ?? throw SourceErrors.Invalid(ErrorIds.SourceUnknownProvider,
            $"Unknown provider '{provider}'. Known providers: {string.Join(", ", Names)} (also {string.Join(", ", Aliases.Keys)}).");
        return name switch
        {
            "SqlServer" => DbProviders.SqlServer(connectionString, credential),
            "Postgres" => DbProviders.Postgres(connectionString, credential),
            "Redshift" => DbProviders.Postgres(connectionString, credential, redshift: true),
            "MySql" => DbProviders.MySql(connectionString, credential),
            "Sqlite" => DbProviders.Sqlite(connectionString, credential),
            "Snowflake" => new SnowflakeSource(RestSettings.Parse(name, connectionString, credential), handler, time),
            "Databricks" => new DatabricksSource(RestSettings.Parse(name, connectionString, credential), handler, time),
            "BigQuery" => new BigQuerySource(RestSettings.Parse(name, connectionString, credential), handler, time),
            "Elasticsearch" => new ElasticsearchSource(RestSettings.Parse(name, connectionString, credential), handler, time),
            "GoogleSheets" => new GoogleSheetsSource(RestSettings.Parse(name, connectionString, credential), handler, time),
            _ => throw new InvalidOperationException(name),
        };
    }

    /// <summary>A connection the user opened (any ADO.NET provider); it stays open and theirs.</summary>
    public static ISourceReader ForConnection(DbConnection connection) => DbProviders.ForConnection(connection);
}
