using System.Data.Common;
using System.Net;
using KustomerSync.Engine.Sources;

namespace KustomerSync.Sources.Tests;

/// <summary>What the tests against the real database servers share.</summary>
internal static class DatabaseTesting
{
    /// <summary>Runs a query through a provider and reads every row.</summary>
    public static List<SourceRow> ReadAll(string provider, string cs, string sql, Dictionary<string, object?>? parameters, TimeSpan? timeout, NetworkCredential? credential, CancellationToken token)
    {
        var query = new SourceQuery(sql) { CommandTimeout = timeout ?? TimeSpan.FromSeconds(30) };
        foreach (var p in parameters ?? new()) query.Parameters[p.Key] = p.Value;
        using var reader = SourceProviders.Create(provider, cs, credential);
        return reader.Read(query, token).ToList();
    }

    public static object? Value(SourceRow row, string column) => row.Values[Array.IndexOf(row.Columns.Names, column)];
}

/// <summary>A test class's tables and users, created by one script the first time a test needs them (again after a failure).</summary>
internal sealed class TestSchema
{
    private readonly object _gate = new();
    private bool _created;

    public void Ensure(Func<DbConnection> connect, string script, Action<DbCommand>? bind = null)
    {
        lock (_gate)
        {
            if (_created) return;
            using var connection = connect();
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = script;
            bind?.Invoke(command);
            command.ExecuteNonQuery();
            _created = true;
        }
    }
}
