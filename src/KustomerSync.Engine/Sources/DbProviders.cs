using System.Data.Common;
using System.Net;
using KustomerSync.Engine.Diagnostics;
using Microsoft.Data.Sqlite;
using MySqlConnector;
using Npgsql;
#if NET
using SqlClient = Microsoft.Data.SqlClient;
#else
using SqlClient = System.Data.SqlClient;
#endif

namespace KustomerSync.Engine.Sources;

/// <summary>
/// The database providers: how each builds its connection string (with -Credential merged in), names its
/// endpoint, and turns its driver's errors into the stable source errors.
/// </summary>
public static class DbProviders
{
    // ---- SQL Server, Azure SQL, Azure Synapse -------------------------------------------------------------------

    /// <summary>The SQL Server connection string with the credential merged in (user id and password).</summary>
    public static SqlClient.SqlConnectionStringBuilder SqlServerBuilder(string connectionString, NetworkCredential? credential)
    {
        var builder = Build("SqlServer", () => new SqlClient.SqlConnectionStringBuilder(connectionString));
        if (credential is not null)
        {
            if (!string.IsNullOrEmpty(credential.UserName)) builder.UserID = credential.UserName;
            builder.Password = credential.Password;
            if (builder.IntegratedSecurity) builder.IntegratedSecurity = false;
        }
        if (string.IsNullOrEmpty(builder.ApplicationName) || builder.ApplicationName.StartsWith("Core Microsoft SqlClient", StringComparison.Ordinal)
            || builder.ApplicationName.StartsWith(".Net SqlClient", StringComparison.Ordinal))
            builder.ApplicationName = "KustomerSync";
        return builder;
    }

    public static DbSourceReader SqlServer(string connectionString, NetworkCredential? credential)
    {
        var builder = SqlServerBuilder(connectionString, credential);
        var target = string.IsNullOrEmpty(builder.DataSource) ? "(local)" : builder.DataSource;
        if (!target.Contains(',') && !target.Contains('\\')) target += ",1433";
        var mask = new SecretMask().AddFrom(builder).Add(credential?.Password);
        var text = builder.ConnectionString;
        return new DbSourceReader(new DbSourceOptions("SqlServer", target, () => new SqlClient.SqlConnection(text))
        {
            Mask = mask,
            Classify = (ex, phase) => ClassifySqlServer(ex, phase, target, builder.UserID, mask),
        });
    }

    public static SourceException? ClassifySqlServer(Exception ex, DbPhase phase, string target, string? user, SecretMask mask)
    {
        if (ex is not SqlClient.SqlException sql) return null;
        var message = mask.Mask(sql.Message);
        return sql.Number switch
        {
            18456 or 18452 or 18486 or 18487 or 18488 or 18470 =>
                SourceErrors.Authentication($"SqlServer at {target} refused the login{ForUser(user)}: {message}"),
            -2 => SourceErrors.TimedOut($"The SqlServer query at {target} timed out: {message}"),
            4060 or 53 or 40 or 2 or -1 or 11001 or 10060 or 10061 or 26 or 35 or 0 when phase == DbPhase.Open =>
                SourceErrors.Connection($"Could not connect to SqlServer at {target}: {message}"),
            _ when phase == DbPhase.Open => SourceErrors.Connection($"Could not connect to SqlServer at {target}: {message}"),
            _ => SourceErrors.Query($"The SqlServer query failed: {message}"),
        };
    }

    // ---- Postgres and Redshift --------------------------------------------------------------------------------------

    /// <summary>The Npgsql connection string with the credential merged in; Redshift mode sets its compatibility and port.</summary>
    public static NpgsqlConnectionStringBuilder PostgresBuilder(string connectionString, NetworkCredential? credential, bool redshift)
    {
        var provider = redshift ? "Redshift" : "Postgres";
        var original = ConnectionStrings.Parse(provider, connectionString);
        var builder = Build(provider, () => new NpgsqlConnectionStringBuilder(connectionString));
        if (credential is not null)
        {
            if (!string.IsNullOrEmpty(credential.UserName)) builder.Username = credential.UserName;
            builder.Password = credential.Password;
        }
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "KustomerSync";
        if (redshift)
        {
            // Redshift speaks the Postgres protocol but has no DISCARD ALL and a reduced catalog: never reset pooled
            // connections, and (below) skip loading the catalog's types.
            builder.NoResetOnClose = true;
#if !NET
            builder.ServerCompatibilityMode = ServerCompatibilityMode.Redshift;
#endif
            if (!original.ContainsKey("Port")) builder.Port = 5439;
        }
        return builder;
    }

#if NET
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, NpgsqlDataSource> RedshiftSources = new();
#endif

    public static DbSourceReader Postgres(string connectionString, NetworkCredential? credential, bool redshift = false)
    {
        var provider = redshift ? "Redshift" : "Postgres";
        var builder = PostgresBuilder(connectionString, credential, redshift);
        var target = $"{(string.IsNullOrEmpty(builder.Host) ? "localhost" : builder.Host)}:{builder.Port}";
        var mask = new SecretMask().AddFrom(builder).Add(credential?.Password);
        var text = builder.ConnectionString;
        Func<DbConnection> connect = () => new NpgsqlConnection(text);
#if NET
        if (redshift)
        {
            var dataSource = RedshiftSources.GetOrAdd(text, t =>
            {
                var sourceBuilder = new NpgsqlDataSourceBuilder(t);
                sourceBuilder.ConfigureTypeLoading(b => b.EnableTypeLoading(false));
                return sourceBuilder.Build();
            });
            connect = () => dataSource.CreateConnection();
        }
#endif
        return new DbSourceReader(new DbSourceOptions(provider, target, connect)
        {
            Mask = mask,
            Classify = (ex, phase) => ClassifyPostgres(ex, phase, provider, target, builder.Username, mask),
        });
    }

    public static SourceException? ClassifyPostgres(Exception ex, DbPhase phase, string provider, string target, string? user, SecretMask mask)
    {
        if (ex is PostgresException pg)
        {
            var message = mask.Mask($"{pg.SqlState}: {pg.MessageText}" + (pg.Position > 0 ? $" (at character {pg.Position})" : ""));
            if (pg.SqlState is "28P01" or "28000")
                return SourceErrors.Authentication($"{provider} at {target} refused the login{ForUser(user)}: {message}");
            if (pg.SqlState == "57014" && DbSourceReader.Chain(ex).Any(e => e is TimeoutException))
                return SourceErrors.TimedOut($"The {provider} query at {target} timed out: {message}");
            if (phase == DbPhase.Open || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState == "3D000")
                return SourceErrors.Connection($"Could not connect to {provider} at {target}: {message}");
            return SourceErrors.Query($"The {provider} query failed: {message}");
        }
        if (ex is NpgsqlException npg)
        {
            var message = mask.Mask(npg.Message);
            if (message.IndexOf("password", StringComparison.OrdinalIgnoreCase) >= 0)
                return SourceErrors.Authentication($"{provider} at {target} refused the login{ForUser(user)}: {message}");
            if (DbSourceReader.Chain(ex).Any(e => e is TimeoutException))
                return SourceErrors.TimedOut($"The {provider} query at {target} timed out: {message}");
            if (phase == DbPhase.Open || DbSourceReader.Chain(ex).Any(e => e is System.Net.Sockets.SocketException))
            {
                var inner = DbSourceReader.Chain(ex).Last();
                return SourceErrors.Connection($"Could not connect to {provider} at {target}: {mask.Mask(inner.Message)}");
            }
        }
        return null;
    }

    // ---- MySQL and MariaDB ---------------------------------------------------------------------------------------------

    public static MySqlConnectionStringBuilder MySqlBuilder(string connectionString, NetworkCredential? credential)
    {
        var builder = Build("MySql", () => new MySqlConnectionStringBuilder(connectionString));
        if (credential is not null)
        {
            if (!string.IsNullOrEmpty(credential.UserName)) builder.UserID = credential.UserName;
            builder.Password = credential.Password;
        }
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "KustomerSync";
        return builder;
    }

    public static DbSourceReader MySql(string connectionString, NetworkCredential? credential)
    {
        var builder = MySqlBuilder(connectionString, credential);
        var target = $"{(string.IsNullOrEmpty(builder.Server) ? "localhost" : builder.Server)}:{builder.Port}";
        var mask = new SecretMask().AddFrom(builder).Add(credential?.Password);
        var text = builder.ConnectionString;
        return new DbSourceReader(new DbSourceOptions("MySql", target, () => new MySqlConnection(text))
        {
            Mask = mask,
            Classify = (ex, phase) => ClassifyMySql(ex, phase, target, builder.UserID, mask),
        });
    }

    public static SourceException? ClassifyMySql(Exception ex, DbPhase phase, string target, string? user, SecretMask mask)
    {
        if (ex is not MySqlException my) return null;
        var message = mask.Mask(my.Message);
        return my.ErrorCode switch
        {
            MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied or MySqlErrorCode.PasswordNoMatch =>
                SourceErrors.Authentication($"MySql at {target} refused the login{ForUser(user)}: {message}"),
            MySqlErrorCode.CommandTimeoutExpired => SourceErrors.TimedOut($"The MySql query at {target} timed out: {message}"),
            MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.UnknownDatabase =>
                SourceErrors.Connection($"Could not connect to MySql at {target}: {message}"),
            _ when phase == DbPhase.Open => SourceErrors.Connection($"Could not connect to MySql at {target}: {message}"),
            _ => SourceErrors.Query($"The MySql query failed: {message}"),
        };
    }

    // ---- SQLite -----------------------------------------------------------------------------------------------------------

    public static DbSourceReader Sqlite(string connectionString, NetworkCredential? credential)
    {
        SqliteSetup.EnsureInitialized();
        var builder = Build("Sqlite", () => new SqliteConnectionStringBuilder(connectionString));
        if (credential is not null) builder.Password = credential.Password;
        var mask = new SecretMask().AddFrom(builder).Add(credential?.Password);
        var text = builder.ConnectionString;
        return new DbSourceReader(new DbSourceOptions("Sqlite", builder.DataSource, () => new SqliteConnection(text))
        {
            Mask = mask,
            Classify = (ex, phase) => ex is SqliteException s
                ? phase == DbPhase.Open || s.SqliteErrorCode == 14
                    ? SourceErrors.Connection($"Could not open Sqlite database '{builder.DataSource}': {mask.Mask(s.Message)}")
                    : SourceErrors.Query($"The Sqlite query failed: {mask.Mask(s.Message)}")
                : null,
        });
    }

    // ---- any DbConnection -------------------------------------------------------------------------------------------------

    /// <summary>A connection the user opened (any ADO.NET provider); it stays open and theirs.</summary>
    public static DbSourceReader ForConnection(DbConnection connection)
    {
        var name = connection.GetType().Name;
        if (name.EndsWith("Connection", StringComparison.Ordinal)) name = name.Substring(0, name.Length - "Connection".Length);
        var prefix = name.IndexOf("Oracle", StringComparison.OrdinalIgnoreCase) >= 0 ? ':' : '@';
        var target = string.IsNullOrEmpty(connection.DataSource) ? name : connection.DataSource;
        var mask = new SecretMask();
        try
        {
            mask.AddFrom(new DbConnectionStringBuilder { ConnectionString = connection.ConnectionString });
        }
        catch (ArgumentException)
        {
            // Some providers hide or reshape the connection string once open; the regex redaction still applies.
        }
        return new DbSourceReader(new DbSourceOptions(name, target, () => connection)
        {
            ParameterPrefix = prefix,
            OwnsConnection = false,
            Mask = mask,
            Classify = (ex, phase) => ex switch
            {
                SqlClient.SqlException => ClassifySqlServer(ex, phase, target, null, mask),
                NpgsqlException => ClassifyPostgres(ex, phase, name, target, null, mask),
                MySqlException => ClassifyMySql(ex, phase, target, null, mask),
                _ => null,
            },
        });
    }

    private static string ForUser(string? user) => string.IsNullOrEmpty(user) ? "" : $" for user '{user}'";

    private static T Build<T>(string provider, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException or InvalidCastException or NotSupportedException)
        {
            // The driver's message names the bad keyword; it never needs the value, which may be a secret.
            var reason = ex.Message;
            var quote = reason.IndexOf('\'');
            var keyword = quote >= 0 && reason.IndexOf('\'', quote + 1) > quote ? reason.Substring(quote, reason.IndexOf('\'', quote + 1) - quote + 1) : null;
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
                $"The {provider} connection string is not valid{(keyword is null ? "" : $" (near {keyword})")}: check its keywords and Key=Value;Key=Value syntax.");
        }
    }
}
