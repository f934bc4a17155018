using System.Data;
using System.Data.Common;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>
/// What a run learns, queued so that concurrent write tasks never wait on the database: confirmations, failures,
/// source hashes and valued fields per key (the latest confirmation or failure wins; a source hash or valued fields
/// set after a confirmation join it) and per-row outcomes. A background flush writes the queue in one transaction
/// of multi-row statements every <see cref="StateStoreOptions.FlushBatchSize"/> items or
/// <see cref="StateStoreOptions.FlushInterval"/>, whichever comes first; a failed write is kept and retried by the
/// next flush, and <see cref="Flush"/> throws it (StateWriteFailed).
/// </summary>
internal sealed class StateWriteBuffer : IDisposable
{
    private const int MaxMessage = 4000;

    private readonly SqlStateStore _store;
    private readonly string _syncName;
    private readonly object _lock = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private Dictionary<string, StateOp> _ops = new(StringComparer.Ordinal);
    private List<OutcomeOp> _outcomes = new();
    private ITimer? _flushTimer;
    private int _flushScheduled;
    private volatile Exception? _lastWriteError;

    public StateWriteBuffer(SqlStateStore store, string syncName)
    {
        _store = store;
        _syncName = syncName;
        var interval = store.Options.FlushInterval;
        if (interval > TimeSpan.Zero && interval != Timeout.InfiniteTimeSpan)
            _flushTimer = store.Options.Time.CreateTimer(_ => ScheduleFlush(), null, interval, interval);
    }

    /// <summary>The last background write failure, cleared by the next successful write.</summary>
    public Exception? LastWriteError
    {
        get => _lastWriteError;
        set => _lastWriteError = value;
    }

    public int Pending
    {
        get
        {
            lock (_lock) return _ops.Count + _outcomes.Count;
        }
    }

    public void Confirm(string key, string kustomerId, string hash, string? sourceHash, string? valued, string? stamp, DateTime at) =>
        Queue(key, new StateOp(OpKind.Confirm, kustomerId, hash, sourceHash, valued, stamp, null, at));

    public void Fail(string key, string error, string? kustomerId, DateTime at) =>
        Queue(key, new StateOp(OpKind.Fail, kustomerId, null, null, null, null, Truncate(error), at));

    public void SourceHash(string key, string sourceHash, DateTime at) =>
        Queue(key, new StateOp(OpKind.Columns, null, null, sourceHash, null, null, null, at));

    public void Valued(string key, string valued, DateTime at) =>
        Queue(key, new StateOp(OpKind.Columns, null, null, null, valued, null, null, at));

    public void Outcome(long runId, long row, string? key, UpsertStatus status, string? kustomerId, string? errorId, string? message)
    {
        int pending;
        lock (_lock)
        {
            _outcomes.Add(new OutcomeOp(runId, row, key, status, kustomerId, errorId, message is null ? null : Truncate(message)));
            pending = _ops.Count + _outcomes.Count;
        }
        AfterQueue(pending);
    }

    public static string Truncate(string text) => text.Length <= MaxMessage ? text : text.Substring(0, MaxMessage - 1) + "…";

    private void Queue(string key, StateOp op)
    {
        if (key is null) throw new ArgumentNullException(nameof(key));
        int pending;
        lock (_lock)
        {
            // A column set after a confirmation (or another column set) of the same key joins it rather than replacing it.
            if (op.Kind == OpKind.Columns && _ops.TryGetValue(key, out var existing) && existing.Kind is OpKind.Confirm or OpKind.Columns)
                op = existing with { SourceHash = op.SourceHash ?? existing.SourceHash, Valued = op.Valued ?? existing.Valued };
            _ops[key] = op;
            pending = _ops.Count + _outcomes.Count;
        }
        AfterQueue(pending);
    }

    private void AfterQueue(int pending)
    {
        var batch = _store.Options.FlushBatchSize;
        if (pending >= batch * 20)
        {
            // The database is slower than Kustomer: hold the writer back instead of growing without bound.
            FlushCore(throwOnError: false);
        }
        else if (pending >= batch) ScheduleFlush();
    }

    /// <summary>Writes everything queued now; throws StateWriteFailed when the store refuses (the items stay queued).</summary>
    public void Flush() => FlushCore(throwOnError: true);

    private void ScheduleFlush()
    {
        if (Interlocked.CompareExchange(ref _flushScheduled, 1, 0) != 0) return;
        Task.Run(() =>
        {
            try
            {
                FlushCore(throwOnError: false);
            }
            finally
            {
                Volatile.Write(ref _flushScheduled, 0);
            }
        });
    }

    private void FlushCore(bool throwOnError)
    {
        _flushGate.Wait();
        try
        {
            Dictionary<string, StateOp> ops;
            List<OutcomeOp> outcomes;
            lock (_lock)
            {
                if (_ops.Count == 0 && _outcomes.Count == 0) return;
                ops = _ops;
                outcomes = _outcomes;
                _ops = new Dictionary<string, StateOp>(StringComparer.Ordinal);
                _outcomes = new List<OutcomeOp>();
            }
            try
            {
                Write(ops, outcomes);
                _lastWriteError = null;
            }
            catch (Exception ex)
            {
                lock (_lock)
                {
                    foreach (var pair in ops)
                        if (!_ops.ContainsKey(pair.Key)) _ops[pair.Key] = pair.Value;
                    _outcomes.InsertRange(0, outcomes);
                }
                _lastWriteError = ex;
                if (throwOnError)
                    throw ex as StateException ?? new StateException(ErrorIds.StateWriteFailed,
                        $"Could not write {ops.Count + outcomes.Count} state changes of sync '{_syncName}' to {_store.Display}: {ex.Message}", ex);
            }
        }
        finally
        {
            _flushGate.Release();
        }
    }

    private void Write(Dictionary<string, StateOp> ops, List<OutcomeOp> outcomes)
    {
        var d = _store.Dialect;
        using var connection = _store.Connect();
        using var tx = connection.BeginTransaction();

        var confirms = ops.Where(p => p.Value.Kind == OpKind.Confirm).ToList();
        WriteRows(_store, _syncName, connection, tx, confirms, d.ConfirmStatement, (command, i, pair) =>
        {
            StateDialect.AddText(command, "@k" + i, pair.Key);
            StateDialect.AddText(command, "@i" + i, pair.Value.KustomerId);
            StateDialect.AddText(command, "@h" + i, pair.Value.Hash);
            StateDialect.AddText(command, "@x" + i, pair.Value.SourceHash);
            StateDialect.AddText(command, "@v" + i, pair.Value.Valued);
            StateDialect.AddText(command, "@r" + i, pair.Value.Stamp);
            d.AddTime(command, "@t" + i, pair.Value.At);
        }, withSync: true);

        var fails = ops.Where(p => p.Value.Kind == OpKind.Fail).ToList();
        WriteRows(_store, _syncName, connection, tx, fails, d.FailStatement, (command, i, pair) =>
        {
            StateDialect.AddText(command, "@k" + i, pair.Key);
            StateDialect.AddText(command, "@i" + i, pair.Value.KustomerId);
            StateDialect.AddText(command, "@e" + i, pair.Value.Error);
            d.AddTime(command, "@t" + i, pair.Value.At);
        }, withSync: true);

        var sourceHashes = ops.Where(p => p.Value.Kind == OpKind.Columns && p.Value.SourceHash is not null).Select(p => (p.Key, Value: p.Value.SourceHash)).ToList();
        var valued = ops.Where(p => p.Value.Kind == OpKind.Columns && p.Value.Valued is not null).Select(p => (p.Key, Value: p.Value.Valued)).ToList();
        foreach (var (columns, statement) in new[] { (sourceHashes, (Func<int, string>)d.SourceHashStatement), (valued, d.ValuedStatement) })
            WriteRows(_store, _syncName, connection, tx, columns, statement, (command, i, pair) =>
            {
                StateDialect.AddText(command, "@k" + i, pair.Key);
                StateDialect.AddText(command, "@x" + i, pair.Value);
            }, withSync: true);

        WriteRows(_store, _syncName, connection, tx, outcomes, d.OutcomeStatement, (command, i, o) =>
        {
            StateDialect.Add(command, "@r" + i, o.RunId, DbType.Int64);
            StateDialect.Add(command, "@n" + i, o.Row, DbType.Int64);
            StateDialect.AddText(command, "@k" + i, o.Key);
            StateDialect.AddText(command, "@st" + i, o.Status.ToString());
            StateDialect.AddText(command, "@i" + i, o.KustomerId);
            StateDialect.AddText(command, "@ei" + i, o.ErrorId);
            StateDialect.AddText(command, "@m" + i, o.Message);
        }, withSync: false);
        tx.Commit();
    }

    /// <summary>
    /// Multi-row statements of up to <see cref="StateDialect.RowsPerStatement"/> rows (Postgres, SQL Server: fewer round
    /// trips), or one prepared single-row statement run per item (SQLite: in-process, and binding thousands of named
    /// parameters costs more than it saves).
    /// </summary>
    public static void WriteRows<T>(SqlStateStore store, string syncName, DbConnection connection, DbTransaction tx, List<T> items, Func<int, string> statement, Action<DbCommand, int, T> bind, bool withSync)
    {
        if (items.Count == 0) return;
        var d = store.Dialect;
        if (d.SingleRowStatements)
        {
            using var command = store.Command(connection, tx, statement(1));
            foreach (var item in items)
            {
                command.Parameters.Clear();
                if (withSync) StateDialect.AddText(command, "@s", syncName);
                bind(command, 0, item);
                command.ExecuteNonQuery();
            }
            return;
        }
        var per = d.RowsPerStatement;
        for (var start = 0; start < items.Count; start += per)
        {
            var n = Math.Min(per, items.Count - start);
            using var command = store.Command(connection, tx, statement(n));
            if (withSync) StateDialect.AddText(command, "@s", syncName);
            for (var i = 0; i < n; i++) bind(command, i, items[start + i]);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Stops the flush timer and writes what is queued; a failure is kept in <see cref="LastWriteError"/>.</summary>
    public void Dispose()
    {
        _flushTimer?.Dispose();
        try
        {
            FlushCore(throwOnError: false);
        }
        catch (Exception ex)
        {
            _lastWriteError = ex;
        }
        // _flushGate is not disposed: a background flush scheduled just before may still be waiting on it.
    }

    private enum OpKind
    {
        Confirm,
        Fail,

        /// <summary>Sets the source hash and/or the valued fields (whichever is not null) of an existing row only.</summary>
        Columns,
    }

    private sealed record StateOp(OpKind Kind, string? KustomerId, string? Hash, string? SourceHash, string? Valued, string? Stamp, string? Error, DateTime At);

    private readonly record struct OutcomeOp(long RunId, long Row, string? Key, UpsertStatus Status, string? KustomerId, string? ErrorId, string? Message);
}
