using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>
/// One session of one sync against a state store: holds the sync's exclusive lease while open, and buffers what the
/// run learns so that concurrent write tasks never wait on the database.
/// </summary>
/// <remarks>
/// <para><b>How the upsert run uses it</b> (all members thread-safe unless noted):</para>
/// <code>
/// var store = StateStores.Sqlite("./customers.state.db");          // or StateStores.Postgres(cs) / SqlServer(cs)
/// using var state = store.Open(new SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId", FullSync = fullSync });
/// var since  = store.LastSuccessfulRunStart("customers");          // a definition's @since (null on the first run)
/// var runId  = state.StartRun(new SyncRunStart { Object = "Customer", SyncKey = "ExternalId", Behavior = b, WhatIf = w, FullSync = f });
/// // per mapped record, on the submitting thread:
/// var hash = PayloadHash.Compute(record.Payload);
/// if (state.IsUnchanged(record.Key, hash)) { /* result Unchanged, no request */ }
/// var knownId = state.KnownKustomerId(record.Key);                   // skip the lookup when known
/// // on the write task, after Kustomer answered:
/// state.Confirm(record.Key, kustomerId, hash, DateTime.UtcNow);     // only after Kustomer confirmed the write; never under -WhatIf
/// state.Fail(record.Key, message, kustomerIdIfKnown);               // the stored hash stays: the row is retried next run
/// state.RecordOutcome(runId, result);                               // per-row history (every status)
/// // at the end (full-table sources only):
/// var left = state.KeysNotSeen(seenKeys, DateTime.UtcNow, record: !whatIf);
/// state.FinishRun(runId, summary, SyncRunInfo.StatusFor(summary, fatal), DateTime.UtcNow);   // flushes first, throws StateWriteFailed
/// // Dispose: flushes what is left and releases the lease.
/// </code>
/// <para><b>Pushed-down diff</b> (state in the same Postgres/SQL Server database as the source): run
/// <see cref="PushedDownDiff.BuildQuery(string, string, string, IStateStore, bool, string)"/> instead of the user's query;
/// strip <see cref="PushedDownDiff.AddedColumns"/> from each row; open the session with
/// <see cref="SyncStateOptions.LoadEntries"/> false and decide with
/// <c>IsUnchanged(PushedDownDiff.EntryFromRow(payloadHash, kustomerId, failed), hash)</c>; on success pass the row's
/// source hash to <see cref="Confirm"/>, and for an Unchanged row call <see cref="RecordSourceHash"/>. Keys that left
/// the source: <see cref="PushedDownDiff.BuildKeysGoneQuery"/> (KeysNotSeen needs every row).</para>
/// <para><b>Keys</b>: with a case-insensitive <see cref="SyncStateOptions.KeyComparer"/> (Email keys) keys are stored
/// lower-cased (<see cref="Stored"/>); lookups accept any case.</para>
/// <para><b>Entries</b> are loaded once when the session opens, in one query, into a dictionary of small structs
/// (key → <see cref="StateEntry"/>); they are a snapshot and are not updated by Confirm/Fail.</para>
/// <para><b>Buffering</b>: Confirm, Fail, RecordSourceHash and RecordOutcome only queue (the latest call per key wins);
/// a background flush writes the queue in one transaction of multi-row statements every
/// <see cref="StateStoreOptions.FlushBatchSize"/> items or <see cref="StateStoreOptions.FlushInterval"/>, whichever
/// comes first. A failed background write is kept and retried by the next flush; <see cref="Flush"/> and
/// <see cref="FinishRun"/> throw it (StateWriteFailed). Losing confirmations is safe: the rows are rewritten next run,
/// and the lookup-before-create rule keeps that from duplicating anything.</para>
/// <para><b>-FullSync</b> (<see cref="SyncStateOptions.FullSync"/>): <see cref="IsUnchanged"/> is always false, so every
/// row is sent again; <see cref="KnownKustomerId"/> still answers, and confirmations store the new hashes, so the
/// next normal run is incremental again.</para>
/// <para><b>Lease</b>: opening takes the sync's lease (a row per sync with holder token, machine, process id, since,
/// heartbeat). A live holder makes Open throw StateLocked naming the sync, the holder and since when. The session renews
/// the heartbeat every <see cref="StateStoreOptions.HeartbeatInterval"/>; a lease whose heartbeat is older than
/// <see cref="StateStoreOptions.LeaseTimeout"/> belongs to a dead process and is taken over (its unfinished runs are
/// marked Failed). Times come from <see cref="StateStoreOptions.Time"/> (the client's UTC clock), so machines sharing a store need roughly synchronised clocks.</para>
/// </remarks>
public sealed class SyncState : IDisposable
{
    private const int MaxMessage = 4000;

    private readonly SqlStateStore _store;
    private readonly SyncStateOptions _options;
    private readonly string _token = Guid.NewGuid().ToString("N");
    private readonly string _machine = Environment.MachineName;
    private readonly int _processId;
    private readonly object _lock = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly HashSet<long> _openRuns = new();
    private Dictionary<string, StateOp> _ops = new(StringComparer.Ordinal);
    private List<OutcomeOp> _outcomes = new();
    private ITimer? _heartbeat;
    private ITimer? _flushTimer;
    private int _flushScheduled;
    private volatile bool _leaseLost;
    private volatile Exception? _lastWriteError;
    private long? _keysLeft;
    private bool _disposed;
    private readonly bool _lowerCaseKeys;

    private SyncState(SqlStateStore store, SyncStateOptions options)
    {
        _store = store;
        _options = options;
        using var process = Process.GetCurrentProcess();
        _processId = process.Id;
        Entries = new Dictionary<string, StateEntry>(options.KeyComparer);
        _lowerCaseKeys = options.KeyComparer.Equals(StringComparer.OrdinalIgnoreCase) || options.KeyComparer.Equals(StringComparer.InvariantCultureIgnoreCase);
    }

    public string SyncName => _options.SyncName;

    public bool FullSync => _options.FullSync;

    public IStateStore Store => _store;

    /// <summary>Key → what the store remembered when the session opened.</summary>
    public IReadOnlyDictionary<string, StateEntry> Entries { get; private set; }

    /// <summary>True when another process took the lease over (this one stalled past the timeout); the run should stop.</summary>
    public bool LeaseLost => _leaseLost;

    /// <summary>The last background write failure, cleared by the next successful write.</summary>
    public Exception? LastWriteError => _lastWriteError;

    /// <summary>Confirmations, failures and outcomes waiting to be written.</summary>
    public int PendingWrites
    {
        get
        {
            lock (_lock) return _ops.Count + _outcomes.Count;
        }
    }

    internal static SyncState Open(SqlStateStore store, SyncStateOptions options)
    {
        var state = new SyncState(store, options);
        state.AcquireLease();
        try
        {
            if (options.LoadEntries) state.Entries = state.LoadEntries();
            var o = store.Options;
            if (o.HeartbeatInterval > TimeSpan.Zero && o.HeartbeatInterval != Timeout.InfiniteTimeSpan)
                state._heartbeat = o.Time.CreateTimer(_ => state.Beat(), null, o.HeartbeatInterval, o.HeartbeatInterval);
            if (o.FlushInterval > TimeSpan.Zero && o.FlushInterval != Timeout.InfiniteTimeSpan)
                state._flushTimer = o.Time.CreateTimer(_ => state.ScheduleFlush(), null, o.FlushInterval, o.FlushInterval);
            return state;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    // ---------------- decisions ----------------

    /// <summary>True when the key's confirmed payload hash equals <paramref name="hash"/> and its last attempt did not fail; always false under -FullSync.</summary>
    public bool IsUnchanged(string key, PayloadHash hash) =>
        !_options.FullSync && Entries.TryGetValue(key, out var entry) && !entry.Hash.IsEmpty && !entry.HasError && entry.Hash == hash;

    /// <summary>The same test for an entry that did not come from <see cref="Entries"/> (e.g. <see cref="PushedDownDiff.EntryFromRow"/>).</summary>
    public bool IsUnchanged(StateEntry entry, PayloadHash hash) =>
        !_options.FullSync && !entry.Hash.IsEmpty && !entry.HasError && entry.Hash == hash;

    /// <summary>The Kustomer id remembered for the key (also under -FullSync), or null.</summary>
    public string? KnownKustomerId(string key) => Entries.TryGetValue(key, out var entry) ? entry.KustomerId : null;

    public bool TryGetEntry(string key, out StateEntry entry) => Entries.TryGetValue(key, out entry);

    // ---------------- buffered writes ----------------

    /// <summary>
    /// Kustomer confirmed the write of <paramref name="key"/>: remember its id and payload hash, clear the error and
    /// attempts. <paramref name="sourceHash"/> is the pushed-down diff's source-row hash (<see cref="PushedDownDiff"/>)
    /// when the row came through it, else null (which also clears a stale one).
    /// </summary>
    public void Confirm(string key, string kustomerId, PayloadHash hash, DateTime confirmedUtc, string? sourceHash = null) =>
        Queue(Stored(key), new StateOp(OpKind.Confirm, kustomerId, hash.ToString(), sourceHash, null, confirmedUtc));

    /// <summary>
    /// The write of <paramref name="key"/> failed: keep the confirmed payload hash, store the error, count the attempt,
    /// clear the source hash; the row is written again next run (<see cref="IsUnchanged(string, PayloadHash)"/> is false
    /// while the last attempt failed, and the pushed-down diff returns it).
    /// </summary>
    public void Fail(string key, string error, string? kustomerId = null, DateTime? atUtc = null) =>
        Queue(Stored(key), new StateOp(OpKind.Fail, kustomerId, null, null, Truncate(error), atUtc ?? UtcNow()));

    /// <summary>Pushed-down diff only: the row came out as changed in SQL but its payload was unchanged; store its source hash so SQL skips it next time.</summary>
    public void RecordSourceHash(string key, string sourceHash) =>
        Queue(Stored(key), new StateOp(OpKind.SourceHash, null, null, sourceHash, null, UtcNow()));

    /// <summary>Queues the outcome of one row of a run for the run history.</summary>
    public void RecordOutcome(long runId, UpsertResult result) =>
        RecordOutcome(runId, result.Row, result.Key, result.Status, result.KustomerId, result.ErrorId, result.Message);

    public void RecordOutcome(long runId, long row, string? key, UpsertStatus status, string? kustomerId, string? errorId, string? message)
    {
        int pending;
        lock (_lock)
        {
            _outcomes.Add(new OutcomeOp(runId, row, key, status, kustomerId, errorId, message is null ? null : Truncate(message)));
            pending = _ops.Count + _outcomes.Count;
        }
        AfterQueue(pending);
    }

    /// <summary>
    /// The key as stored: lower-cased (invariant) when the session compares keys without regard to case (Email keys),
    /// so that one email has one state row and the pushed-down diff can join on LOWER(key).
    /// </summary>
    public string Stored(string key)
    {
        if (key is null) throw new ArgumentNullException(nameof(key));
        return _lowerCaseKeys ? key.ToLowerInvariant() : key;
    }

    private void Queue(string key, StateOp op)
    {
        if (key is null) throw new ArgumentNullException(nameof(key));
        int pending;
        lock (_lock)
        {
            if (op.Kind == OpKind.SourceHash && _ops.TryGetValue(key, out var existing) && existing.Kind == OpKind.Confirm)
                op = existing with { SourceHash = op.SourceHash };
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
                        $"Could not write {ops.Count + outcomes.Count} state changes of sync '{SyncName}' to {_store.Display}: {ex.Message}", ex);
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
        WriteRows(connection, tx, confirms, d.ConfirmStatement, (command, i, pair) =>
        {
            StateDialect.AddText(command, "@k" + i, pair.Key);
            StateDialect.AddText(command, "@i" + i, pair.Value.KustomerId);
            StateDialect.AddText(command, "@h" + i, pair.Value.Hash);
            StateDialect.AddText(command, "@x" + i, pair.Value.SourceHash);
            d.AddTime(command, "@t" + i, pair.Value.At);
        }, withSync: true);

        var fails = ops.Where(p => p.Value.Kind == OpKind.Fail).ToList();
        WriteRows(connection, tx, fails, d.FailStatement, (command, i, pair) =>
        {
            StateDialect.AddText(command, "@k" + i, pair.Key);
            StateDialect.AddText(command, "@i" + i, pair.Value.KustomerId);
            StateDialect.AddText(command, "@e" + i, pair.Value.Error);
            d.AddTime(command, "@t" + i, pair.Value.At);
        }, withSync: true);

        var sourceHashes = ops.Where(p => p.Value.Kind == OpKind.SourceHash).ToList();
        WriteRows(connection, tx, sourceHashes, d.SourceHashStatement, (command, i, pair) =>
        {
            StateDialect.AddText(command, "@k" + i, pair.Key);
            StateDialect.AddText(command, "@x" + i, pair.Value.SourceHash);
        }, withSync: true);

        WriteRows(connection, tx, outcomes, d.OutcomeStatement, (command, i, o) =>
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
    private void WriteRows<T>(DbConnection connection, DbTransaction tx, List<T> items, Func<int, string> statement, Action<DbCommand, int, T> bind, bool withSync)
    {
        if (items.Count == 0) return;
        var d = _store.Dialect;
        if (d.SingleRowStatements)
        {
            using var command = _store.Command(connection, tx, statement(1));
            foreach (var item in items)
            {
                command.Parameters.Clear();
                if (withSync) StateDialect.AddText(command, "@s", SyncName);
                bind(command, 0, item);
                command.ExecuteNonQuery();
            }
            return;
        }
        var per = d.RowsPerStatement;
        for (var start = 0; start < items.Count; start += per)
        {
            var n = Math.Min(per, items.Count - start);
            using var command = _store.Command(connection, tx, statement(n));
            if (withSync) StateDialect.AddText(command, "@s", SyncName);
            for (var i = 0; i < n; i++) bind(command, i, items[start + i]);
            command.ExecuteNonQuery();
        }
    }

    // ---------------- keys that left the source ----------------

    /// <summary>
    /// Keys the store knew that are not among <paramref name="seenKeys"/> and were present at the previous run: the keys
    /// that left the source since then (ordinal order). With <paramref name="record"/> (not under -WhatIf) they are marked
    /// gone so the next run does not report them again, and keys that came back are unmarked. Only meaningful when the
    /// source query returns the whole table (not an incremental @since query, not a pushed-down diff).
    /// </summary>
    public IReadOnlyList<string> KeysNotSeen(IEnumerable<string> seenKeys, DateTime atUtc, bool record = true)
    {
        var seen = seenKeys as HashSet<string> ?? new HashSet<string>(seenKeys, _options.KeyComparer);
        return KeysNotSeen(seen.Contains, atUtc, record);
    }

    /// <inheritdoc cref="KeysNotSeen(IEnumerable{string}, DateTime, bool)"/>
    public IReadOnlyList<string> KeysNotSeen(Func<string, bool> wasSeen, DateTime atUtc, bool record = true)
    {
        var gone = new List<string>();
        var back = new List<string>();
        foreach (var pair in Entries)
        {
            var present = wasSeen(pair.Key);
            if (!present && pair.Value.GoneSince is null) gone.Add(pair.Key);
            else if (present && pair.Value.GoneSince is not null) back.Add(pair.Key);
        }
        gone.Sort(StringComparer.Ordinal);
        _keysLeft = gone.Count;
        if (record && (gone.Count > 0 || back.Count > 0))
        {
            Flush();
            Guard("written", () =>
            {
                var d = _store.Dialect;
                using var connection = _store.Connect();
                using var tx = connection.BeginTransaction();
                foreach (var (keys, value) in new[] { (gone, (DateTime?)atUtc), (back, null) })
                    WriteRows(connection, tx, keys, d.GoneStatement, (command, i, key) =>
                    {
                        if (i == 0) d.AddTime(command, "@g", value);
                        StateDialect.AddText(command, "@k" + i, key);
                    }, withSync: true);
                tx.Commit();
                return 0;
            });
        }
        return gone;
    }

    // ---------------- run history ----------------

    /// <summary>Records the start of a run (status Running) and returns its id. Written at once, not buffered.</summary>
    public long StartRun(SyncRunStart start)
    {
        var id = Guard("written", () =>
        {
            var d = _store.Dialect;
            using var connection = _store.Connect();
            using var command = _store.Command(connection, null, d.StartRunStatement());
            StateDialect.AddText(command, "@s", SyncName);
            StateDialect.AddText(command, "@o", start.Object ?? _options.Object);
            StateDialect.AddText(command, "@k", start.SyncKey ?? _options.SyncKey);
            StateDialect.AddText(command, "@b", start.Behavior.ToString());
            StateDialect.Add(command, "@w", start.WhatIf, DbType.Boolean);
            StateDialect.Add(command, "@f", start.FullSync || _options.FullSync, DbType.Boolean);
            d.AddTime(command, "@t", start.StartedUtc);
            StateDialect.AddText(command, "@st", nameof(SyncRunStatus.Running));
            StateDialect.AddText(command, "@m", _machine);
            StateDialect.Add(command, "@p", _processId, DbType.Int32);
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        });
        lock (_openRuns) _openRuns.Add(id);
        return id;
    }

    /// <summary>
    /// Flushes everything queued (throws StateWriteFailed if that fails), then records the run's end, counts and status,
    /// and drops the row outcomes of runs older than the newest <see cref="StateStoreOptions.KeepRowOutcomesForRuns"/>.
    /// <paramref name="keysLeft"/> defaults to the count of the last <see cref="KeysNotSeen(IEnumerable{string}, DateTime, bool)"/>.
    /// </summary>
    public void FinishRun(long runId, UpsertSummary summary, SyncRunStatus status, DateTime endedUtc, string? message = null, long? keysLeft = null)
    {
        Flush();
        Guard("written", () =>
        {
            var d = _store.Dialect;
            using var connection = _store.Connect();
            using var tx = connection.BeginTransaction();
            using (var command = _store.Command(connection, tx,
                       $"UPDATE {d.Table("run")} SET ended_at = @e, status = @st, total = @total, created = @created, updated = @updated, unchanged = @unchanged, " +
                       "invalid = @invalid, failed = @failed, would_create = @wc, would_update = @wu, requests = @req, keys_left = @left, message = @msg WHERE run_id = @r"))
            {
                d.AddTime(command, "@e", endedUtc);
                StateDialect.AddText(command, "@st", status.ToString());
                StateDialect.Add(command, "@total", summary.Total, DbType.Int64);
                StateDialect.Add(command, "@created", summary.Created, DbType.Int64);
                StateDialect.Add(command, "@updated", summary.Updated, DbType.Int64);
                StateDialect.Add(command, "@unchanged", summary.Unchanged, DbType.Int64);
                StateDialect.Add(command, "@invalid", summary.Invalid, DbType.Int64);
                StateDialect.Add(command, "@failed", summary.Failed, DbType.Int64);
                StateDialect.Add(command, "@wc", summary.WouldCreate, DbType.Int64);
                StateDialect.Add(command, "@wu", summary.WouldUpdate, DbType.Int64);
                StateDialect.Add(command, "@req", summary.Requests, DbType.Int64);
                StateDialect.Add(command, "@left", keysLeft ?? _keysLeft, DbType.Int64);
                StateDialect.AddText(command, "@msg", message is null ? null : Truncate(message));
                StateDialect.Add(command, "@r", runId, DbType.Int64);
                command.ExecuteNonQuery();
            }
            PruneRowOutcomes(connection, tx);
            tx.Commit();
            return 0;
        });
        lock (_openRuns) _openRuns.Remove(runId);
    }

    private void PruneRowOutcomes(DbConnection connection, DbTransaction tx)
    {
        var d = _store.Dialect;
        var keep = Math.Max(0, _store.Options.KeepRowOutcomesForRuns);
        long? threshold = null;
        using (var command = _store.Command(connection, tx, $"SELECT run_id FROM {d.Table("run")} WHERE sync_name = @s ORDER BY run_id DESC"))
        {
            StateDialect.AddText(command, "@s", SyncName);
            using var reader = command.ExecuteReader();
            var n = 0;
            while (reader.Read())
                if (n++ == keep)
                {
                    threshold = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
                    break;
                }
        }
        if (threshold is null) return;
        using var delete = _store.Command(connection, tx,
            $"DELETE FROM {d.Table("run_row")} WHERE run_id <= @t AND run_id IN (SELECT run_id FROM {d.Table("run")} WHERE sync_name = @s)");
        StateDialect.Add(delete, "@t", threshold.Value, DbType.Int64);
        StateDialect.AddText(delete, "@s", SyncName);
        delete.ExecuteNonQuery();
    }

    // ---------------- lease ----------------

    private void AcquireLease()
    {
        var d = _store.Dialect;
        var now = UtcNow();
        _store.Guard("opened", () =>
        {
            using var connection = _store.Connect();
            using var tx = connection.BeginTransaction();
            using (var acquire = _store.Command(connection, tx, d.AcquireLeaseStatement()))
            {
                StateDialect.AddText(acquire, "@s", SyncName);
                d.AddTime(acquire, "@now", now);
                d.AddTime(acquire, "@stale", now - _store.Options.LeaseTimeout);
                StateDialect.AddText(acquire, "@tok", _token);
                StateDialect.AddText(acquire, "@m", _machine);
                StateDialect.Add(acquire, "@p", _processId, DbType.Int32);
                acquire.ExecuteNonQuery();
            }
            string? token, machine, objectName, syncKey;
            int? pid;
            DateTime? since, beat;
            using (var read = _store.Command(connection, tx,
                       $"SELECT lease_token, lease_machine, lease_process_id, lease_acquired_at, lease_heartbeat_at, object_name, sync_key FROM {d.Table("sync")} WHERE sync_name = @s"))
            {
                StateDialect.AddText(read, "@s", SyncName);
                using var reader = read.ExecuteReader();
                if (!reader.Read()) throw new StateException(ErrorIds.StateUnreadable, $"The state store {_store.Display} did not record the lease of sync '{SyncName}'.");
                token = reader.IsDBNull(0) ? null : reader.GetString(0);
                machine = reader.IsDBNull(1) ? null : reader.GetString(1);
                pid = reader.IsDBNull(2) ? null : Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture);
                since = d.ReadTime(reader, 3);
                beat = d.ReadTime(reader, 4);
                objectName = reader.IsDBNull(5) ? null : reader.GetString(5);
                syncKey = reader.IsDBNull(6) ? null : reader.GetString(6);
            }
            if (token != _token)
            {
                tx.Rollback();
                var expires = beat + _store.Options.LeaseTimeout;
                throw new StateException(ErrorIds.StateLocked,
                    $"The sync '{SyncName}' is already running: process {pid} on {machine} holds its lease since {Format(since)} (last heartbeat {Format(beat)}). " +
                    $"Two runs of one sync at once are refused. Wait for that run to end; if that process is gone, its lease expires at {Format(expires)} " +
                    $"(lease timeout {_store.Options.LeaseTimeout.TotalSeconds:0} s) and the next run proceeds.");
            }
            if (Differs(objectName, _options.Object) || Differs(syncKey, _options.SyncKey))
            {
                tx.Rollback();
                throw new StateException(ErrorIds.StateMismatch,
                    $"The sync '{SyncName}' is recorded in {_store.Display} for {objectName ?? "?"} keyed by {syncKey ?? "?"}, not {_options.Object ?? "?"} keyed by {_options.SyncKey ?? "?"}. " +
                    "Its stored ids and hashes belong to those records; give this sync another name (or use another state store).");
            }
            if ((objectName is null && _options.Object is not null) || (syncKey is null && _options.SyncKey is not null))
            {
                using var pin = _store.Command(connection, tx, $"UPDATE {d.Table("sync")} SET object_name = COALESCE(object_name, @o), sync_key = COALESCE(sync_key, @k) WHERE sync_name = @s");
                StateDialect.AddText(pin, "@o", _options.Object);
                StateDialect.AddText(pin, "@k", _options.SyncKey);
                StateDialect.AddText(pin, "@s", SyncName);
                pin.ExecuteNonQuery();
            }
            // Runs of this sync still marked Running belong to a process that lost or left the lease: they will never finish.
            using (var orphans = _store.Command(connection, tx,
                       $"UPDATE {d.Table("run")} SET status = @failed, ended_at = COALESCE(ended_at, @now), message = @msg WHERE sync_name = @s AND status = @running"))
            {
                StateDialect.AddText(orphans, "@failed", nameof(SyncRunStatus.Failed));
                d.AddTime(orphans, "@now", now);
                StateDialect.AddText(orphans, "@msg", "The process running this sync ended before recording the end of the run (its lease expired or was released).");
                StateDialect.AddText(orphans, "@s", SyncName);
                StateDialect.AddText(orphans, "@running", nameof(SyncRunStatus.Running));
                orphans.ExecuteNonQuery();
            }
            tx.Commit();
            return 0;
        });
    }

    private static bool Differs(string? recorded, string? wanted) =>
        recorded is not null && wanted is not null && !string.Equals(recorded, wanted, StringComparison.OrdinalIgnoreCase);

    private static string Format(DateTime? utc) => utc?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "?";

    private void Beat()
    {
        if (_disposed) return;
        try
        {
            var d = _store.Dialect;
            using var connection = _store.Connect();
            using var command = _store.Command(connection, null, $"UPDATE {d.Table("sync")} SET lease_heartbeat_at = @now WHERE sync_name = @s AND lease_token = @tok");
            d.AddTime(command, "@now", UtcNow());
            StateDialect.AddText(command, "@s", SyncName);
            StateDialect.AddText(command, "@tok", _token);
            if (command.ExecuteNonQuery() == 0) _leaseLost = true;
        }
        catch (Exception)
        {
            // A missed heartbeat is retried at the next tick; the lease only expires after LeaseTimeout.
        }
    }

    private Dictionary<string, StateEntry> LoadEntries()
    {
        return _store.Guard("read", () =>
        {
            var d = _store.Dialect;
            var entries = new Dictionary<string, StateEntry>(_options.KeyComparer);
            using var connection = _store.Connect();
            using var command = _store.Command(connection, null,
                $"SELECT record_key, kustomer_id, payload_hash, confirmed_at, attempts, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END, gone_since " +
                $"FROM {d.Table("state")} WHERE sync_name = @s");
            StateDialect.AddText(command, "@s", SyncName);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                PayloadHash.TryParse(reader.IsDBNull(2) ? null : reader.GetString(2), out var hash);
                entries[reader.GetString(0)] = new StateEntry(
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    hash,
                    d.ReadTime(reader, 3),
                    Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture),
                    Convert.ToInt32(reader.GetValue(5), CultureInfo.InvariantCulture) != 0,
                    d.ReadTime(reader, 6));
            }
            return entries;
        });
    }

    private T Guard<T>(string what, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (StateException)
        {
            throw;
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException)
        {
            throw new StateException(ErrorIds.StateWriteFailed, $"The state of sync '{SyncName}' could not be {what} to {_store.Display}: {ex.Message}", ex);
        }
    }

    private DateTime UtcNow() => _store.Options.Time.GetUtcNow().UtcDateTime;

    private static string Truncate(string text) => text.Length <= MaxMessage ? text : text.Substring(0, MaxMessage - 1) + "…";

    /// <summary>
    /// Flushes what is queued (errors are kept in <see cref="LastWriteError"/>), marks runs this session left unfinished
    /// as Failed, and releases the lease. Call it after every write task has finished: later calls are not written.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _heartbeat?.Dispose();
        _flushTimer?.Dispose();
        try
        {
            FlushCore(throwOnError: false);
        }
        catch (Exception ex)
        {
            _lastWriteError = ex;
        }
        try
        {
            var d = _store.Dialect;
            using var connection = _store.Connect();
            long[] open;
            lock (_openRuns) open = _openRuns.ToArray();
            foreach (var runId in open)
            {
                using var fail = _store.Command(connection, null,
                    $"UPDATE {d.Table("run")} SET status = @st, ended_at = @now, message = @msg WHERE run_id = @r AND status = @running");
                StateDialect.AddText(fail, "@st", nameof(SyncRunStatus.Failed));
                d.AddTime(fail, "@now", UtcNow());
                StateDialect.AddText(fail, "@msg", "The run ended without recording its summary.");
                StateDialect.Add(fail, "@r", runId, DbType.Int64);
                StateDialect.AddText(fail, "@running", nameof(SyncRunStatus.Running));
                fail.ExecuteNonQuery();
            }
            using var release = _store.Command(connection, null,
                $"UPDATE {d.Table("sync")} SET lease_token = NULL, lease_machine = NULL, lease_process_id = NULL, lease_acquired_at = NULL, lease_heartbeat_at = NULL " +
                "WHERE sync_name = @s AND lease_token = @tok");
            StateDialect.AddText(release, "@s", SyncName);
            StateDialect.AddText(release, "@tok", _token);
            release.ExecuteNonQuery();
        }
        catch (Exception ex)
        {
            // The lease then expires after LeaseTimeout.
            _lastWriteError ??= ex;
        }
        try
        {
            _store.ReleaseConnections();
        }
        catch (Exception)
        {
            // only a pool
        }
        // _flushGate is not disposed: a background flush scheduled just before may still be waiting on it.
    }

    private enum OpKind
    {
        Confirm,
        Fail,
        SourceHash,
    }

    private sealed record StateOp(OpKind Kind, string? KustomerId, string? Hash, string? SourceHash, string? Error, DateTime At);

    private readonly record struct OutcomeOp(long RunId, long Row, string? Key, UpsertStatus Status, string? KustomerId, string? ErrorId, string? Message);
}
