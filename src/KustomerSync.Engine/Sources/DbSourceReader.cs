using System.Data;
using System.Data.Common;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources;

/// <summary>How one ADO.NET provider is opened, named and diagnosed.</summary>
/// <param name="Target">host:port (or file), never a secret.</param>
public sealed record DbSourceOptions(string Provider, string Target, Func<DbConnection> Connect)
{
    public char ParameterPrefix { get; init; } = '@';
    public bool OwnsConnection { get; init; } = true;
    public SecretMask Mask { get; init; } = SecretMask.None;

    /// <summary>Turns a driver exception into a SourceException (null: fall back to the generic rules).</summary>
    public Func<Exception, DbPhase, SourceException?> Classify { get; init; } = (_, _) => null;
}

public enum DbPhase
{
    Open,
    Execute,
    Read,
}

/// <summary>
/// Streams rows from any ADO.NET provider: one reader, read forward, one row at a time, so memory does not grow
/// with the result. Parameters are bound as real parameters, never spliced into the text. Disposing it closes what a
/// read left open (a read abandoned half-way): its own connection, or the data reader on the user's connection.
/// </summary>
public sealed class DbSourceReader : ISourceReader
{
    private readonly DbSourceOptions _options;
    private readonly object _gate = new();
    private readonly List<IDisposable> _open = new();
    private bool _disposed;

    public DbSourceReader(DbSourceOptions options)
    {
        _options = options;
    }

    public string Provider => _options.Provider;
    public string Target => _options.Target;

    public IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = _options.Connect();
        DbDataReader? opened = null;
        if (_options.OwnsConnection) Track(connection);
        try
        {
            if (connection.State != ConnectionState.Open)
            {
                try
                {
                    using var openRegistration = cancellationToken.Register(() => TryDispose(connection));
                    connection.Open();
                }
                catch (Exception ex) when (IsDriverFailure(ex))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw Translate(ex, DbPhase.Open, query);
                }
            }

            using var command = connection.CreateCommand();
            command.CommandText = query.Query;
            if (query.CommandTimeout is { } timeout) command.CommandTimeout = (int)Math.Min(int.MaxValue, Math.Ceiling(timeout.TotalSeconds));
            foreach (var parameter in query.Parameters)
            {
                var p = command.CreateParameter();
                var name = parameter.Key.TrimStart('@', ':', '$', '?');
                p.ParameterName = _options.ParameterPrefix + name;
                p.Value = ToParameterValue(parameter.Value);
                command.Parameters.Add(p);
            }

            using var registration = cancellationToken.Register(() => TryCancel(command));
            DbDataReader reader;
            try
            {
                reader = command.ExecuteReader();
            }
            catch (Exception ex) when (IsDriverFailure(ex))
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw Translate(ex, DbPhase.Execute, query);
            }

            Track(opened = reader);
            // A cancel that came before the command started is not seen by the driver.
            cancellationToken.ThrowIfCancellationRequested();
            var finished = false;
            try
            {
                var names = new string[reader.FieldCount];
                for (var i = 0; i < names.Length; i++) names[i] = reader.GetName(i);
                var columns = new SourceColumns(names);
                while (true)
                {
                    bool more;
                    var values = new object?[names.Length];
                    var column = -1;
                    try
                    {
                        more = reader.Read();
                        if (more)
                            for (column = 0; column < values.Length; column++) values[column] = SourceValues.Normalize(reader.GetValue(column));
                    }
                    catch (Exception ex) when (IsDriverFailure(ex) || ex is InvalidCastException or OverflowException)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (ex is InvalidCastException or OverflowException && column >= 0)
                            throw new SourceException(ErrorIds.SourceReadFailed,
                                $"Reading column '{columns.Names[column]}' of the {Provider} result failed: {_options.Mask.Mask(ex.Message)}");
                        throw Translate(ex, DbPhase.Read, query);
                    }
                    if (!more)
                    {
                        finished = true;
                        yield break;
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return new SourceRow(columns, values);
                }
            }
            finally
            {
                // A read abandoned early (Select-Object -First): without a cancel, disposing the reader makes the driver
                // read the rest of the result, however large.
                if (!finished) TryCancel(command);
                TryDispose(reader);
            }
        }
        finally
        {
            lock (_gate) _open.RemoveAll(item => ReferenceEquals(item, connection) || ReferenceEquals(item, opened));
            if (_options.OwnsConnection) connection.Dispose();
        }
    }

    public void Dispose()
    {
        List<IDisposable> open;
        lock (_gate)
        {
            _disposed = true;
            open = _open.ToList();
            _open.Clear();
        }
        foreach (var item in open) TryDispose(item);
    }

    private void Track(IDisposable item)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _open.Add(item);
                return;
            }
        }
        TryDispose(item);
        throw new ObjectDisposedException(nameof(DbSourceReader));
    }


    private static object ToParameterValue(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset o => o.UtcDateTime,
        DateTime { Kind: DateTimeKind.Local } d => d.ToUniversalTime(),
        _ => value,
    };

    private static bool IsDriverFailure(Exception ex) =>
        ex is DbException or InvalidOperationException or ArgumentException or IOException or TimeoutException
            or System.Net.Sockets.SocketException or NotSupportedException or System.Security.Authentication.AuthenticationException;

    private SourceException Translate(Exception ex, DbPhase phase, SourceQuery query)
    {
        var specific = _options.Classify(ex, phase);
        var message = _options.Mask.Mask(ex.Message);
        if (specific is not null && specific.ErrorId != ErrorIds.SourceQueryFailed) return specific;
        if (phase != DbPhase.Open)
        {
            var missing = QueryPlaceholders.Missing(query.Query, _options.ParameterPrefix, query.Parameters.Keys);
            if (missing.Count > 0) return SourceErrors.Missing(Provider, missing, message);
        }
        if (specific is not null) return specific;
        if (Chain(ex).Any(e => e is TimeoutException))
            return SourceErrors.TimedOut($"The {Provider} query at {Target} timed out (command timeout {query.CommandTimeout?.TotalSeconds:0} s): {message}");
        if (phase == DbPhase.Open || Chain(ex).Any(e => e is System.Net.Sockets.SocketException or IOException))
            return SourceErrors.Connection($"Could not connect to {Provider} at {Target}: {message}");
        return SourceErrors.Query($"The {Provider} query failed: {message}");
    }

    internal static IEnumerable<Exception> Chain(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException) yield return e;
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

    private static void TryDispose(IDisposable item)
    {
        try
        {
            item.Dispose();
        }
        catch (Exception)
        {
            // Best effort: abandons a connection attempt that Ctrl+C interrupted.
        }
    }
}
