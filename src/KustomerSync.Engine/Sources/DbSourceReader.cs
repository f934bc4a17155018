using System.Data;
using System.Data.Common;

namespace KustomerSync.Engine.Sources;

/// <summary>
/// Streams rows from any ADO.NET provider: one reader, read forward, one row at a time, so memory does not grow
/// with the result. Parameters are bound as real parameters, never spliced into the text.
/// </summary>
public sealed class DbSourceReader
{
    private readonly Func<DbConnection> _connect;
    private readonly string _provider;
    private readonly string _parameterPrefix;
    private readonly Func<string, string> _redact;
    private readonly bool _ownsConnection;

    public DbSourceReader(string provider, Func<DbConnection> connect, string parameterPrefix, Func<string, string> redact, bool ownsConnection = true)
    {
        _provider = provider;
        _connect = connect;
        _parameterPrefix = parameterPrefix;
        _redact = redact;
        _ownsConnection = ownsConnection;
    }

    public IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken)
    {
        var connection = _connect();
        try
        {
            if (connection.State != ConnectionState.Open)
            {
                try
                {
                    connection.Open();
                }
                catch (Exception ex) when (ex is DbException or InvalidOperationException or ArgumentException or System.Net.Sockets.SocketException)
                {
                    throw new SourceException("KustomerSync.SourceConnectionFailed", SourceFailure.ConnectionFailed,
                        $"Could not open the {_provider} connection: {_redact(ex.Message)}", null);
                }
            }

            using var command = connection.CreateCommand();
            command.CommandText = query.Query;
            if (query.CommandTimeout is { } timeout) command.CommandTimeout = (int)Math.Ceiling(timeout.TotalSeconds);
            foreach (var parameter in query.Parameters)
            {
                var p = command.CreateParameter();
                p.ParameterName = parameter.Key.StartsWith(_parameterPrefix, StringComparison.Ordinal) ? parameter.Key : _parameterPrefix + parameter.Key;
                p.Value = parameter.Value ?? DBNull.Value;
                command.Parameters.Add(p);
            }

            using var registration = cancellationToken.Register(() => TryCancel(command));
            DbDataReader reader;
            try
            {
                reader = command.ExecuteReader(CommandBehavior.SequentialAccess);
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new SourceException("KustomerSync.SourceQueryFailed", SourceFailure.QueryFailed,
                    $"The {_provider} query failed: {_redact(ex.Message)}", null);
            }

            using (reader)
            {
                var names = new string[reader.FieldCount];
                for (var i = 0; i < names.Length; i++) names[i] = reader.GetName(i);
                var columns = new SourceColumns(names);
                while (true)
                {
                    bool more;
                    var values = new object?[names.Length];
                    try
                    {
                        more = reader.Read();
                        if (more)
                            for (var i = 0; i < values.Length; i++) values[i] = SourceValues.Normalize(reader.GetValue(i));
                    }
                    catch (Exception ex) when (ex is DbException or InvalidOperationException)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new SourceException("KustomerSync.SourceQueryFailed", SourceFailure.QueryFailed,
                            $"Reading the {_provider} result failed: {_redact(ex.Message)}", null);
                    }
                    if (!more) yield break;
                    yield return new SourceRow(columns, values);
                }
            }
        }
        finally
        {
            if (_ownsConnection) connection.Dispose();
        }
    }

    private static void TryCancel(DbCommand command)
    {
        try
        {
            command.Cancel();
        }
        catch (Exception)
        {
            // Cancelling is best effort: some providers throw when the command already finished.
        }
    }
}
