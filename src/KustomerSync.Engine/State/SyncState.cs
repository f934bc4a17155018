using System.Globalization;

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
/// <c>IsUnchanged(PushedDownDiff.EntryFromRow(payloadHash, kustomerId, failed, valued, stamp), hash)</c>; on success pass the row's
/// source hash to <see cref="Confirm"/>, and for an Unchanged row call <see cref="RecordSourceHash"/>. Keys that left
/// the source: <see cref="PushedDownDiff.BuildKeysGoneQuery"/> (KeysNotSeen needs every row).</para>
/// <para><b>Keys</b>: with a case-insensitive <see cref="SyncStateOptions.KeyComparer"/> (Email keys) keys are stored
/// lower-cased (<see cref="Stored"/>); lookups accept any case.</para>
/// <para><b>Entries</b> are loaded once when the session opens, in one query, into a dictionary of small structs
/// (key → <see cref="StateEntry"/>); they are a snapshot and are not updated by Confirm/Fail.</para>
/// <para><b>Buffering</b>: Confirm, Fail, RecordSourceHash, RecordValued and RecordOutcome only queue (per key the latest
/// confirmation or failure wins, and a source hash or valued fields set after a confirmation join it);
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
/// marked Failed). The lease, the write buffer and the run history are their own classes (<see cref="StateLease"/>,
/// <see cref="StateWriteBuffer"/>, <see cref="RunHistory"/>); this class is the session that holds them. Times come from <see cref="StateStoreOptions.Time"/> (the client's UTC clock), so machines sharing a store need roughly synchronised clocks.</para>
/// </remarks>
public sealed class SyncState : IDisposable
{
    private readonly SqlStateStore _store;
    private readonly SyncStateOptions _options;
    private readonly StateLease _lease;
    private readonly StateWriteBuffer _writes;
    private readonly RunHistory _history;
    private readonly bool _lowerCaseKeys;
    private long? _keysLeft;
    private bool _disposed;

    private SyncState(SqlStateStore store, SyncStateOptions options, StateLease lease)
    {
        _store = store;
        _options = options;
        _lease = lease;
        _writes = new StateWriteBuffer(store, options.SyncName);
        _history = new RunHistory(store, options, lease);
        Entries = new Dictionary<string, StateEntry>(options.KeyComparer);
        _lowerCaseKeys = options.KeyComparer.Equals(StringComparer.OrdinalIgnoreCase) || options.KeyComparer.Equals(StringComparer.InvariantCultureIgnoreCase);
    }

    public string SyncName => _options.SyncName;

    public bool FullSync => _options.FullSync;

    public IStateStore Store => _store;

    /// <summary>Key → what the store remembered when the session opened.</summary>
    public IReadOnlyDictionary<string, StateEntry> Entries { get; private set; }

    /// <summary>True when another process took the lease over (this one stalled past the timeout); the run should stop.</summary>
    public bool LeaseLost => _lease.Lost;

    /// <summary>The last background write failure, cleared by the next successful write.</summary>
    public Exception? LastWriteError => _writes.LastWriteError;

    /// <summary>Confirmations, failures and outcomes waiting to be written.</summary>
    public int PendingWrites => _writes.Pending;

    internal static SyncState Open(SqlStateStore store, SyncStateOptions options)
    {
        var state = new SyncState(store, options, StateLease.Acquire(store, options));
        try
        {
            if (options.LoadEntries) state.Entries = state.LoadEntries();
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
    /// when the row came through it, else null (which also clears a stale one). <paramref name="valued"/> is the set of
    /// fields that held a value in the confirmed payload (null stores "not known"). <paramref name="stamp"/> is the
    /// record stamp: what Kustomer showed of the record right after this write, opaque to the store (at most
    /// <see cref="MaxStampLength"/> characters); null stores "not known", because the record changed and Kustomer did
    /// not say how (a stale stamp must not survive the write). Only a confirmation writes it (<see cref="StateEntry.Stamp"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="stamp"/> is longer than <see cref="MaxStampLength"/>.</exception>
    public void Confirm(string key, string kustomerId, PayloadHash hash, DateTime confirmedUtc, string? sourceHash = null, ValuedFields? valued = null, string? stamp = null)
    {
        // Refused here, not at the flush: a SQL Server column too short for one stamp would fail the whole batch.
        if (stamp is { Length: > MaxStampLength })
            throw new ArgumentException($"The record stamp of key '{key}' has {stamp.Length} characters; the state store keeps at most {MaxStampLength}.", nameof(stamp));
        _writes.Confirm(Stored(key), kustomerId, hash.ToString(), sourceHash, valued?.Stored, stamp, confirmedUtc);
    }

    /// <summary>The longest record stamp <see cref="Confirm"/> accepts (the SQL Server column holds 400 characters).</summary>
    public const int MaxStampLength = 400;

    /// <summary>
    /// The write of <paramref name="key"/> failed: keep the confirmed payload hash, store the error, count the attempt,
    /// clear the source hash; the row is written again next run (<see cref="IsUnchanged(string, PayloadHash)"/> is false
    /// while the last attempt failed, and the pushed-down diff returns it).
    /// </summary>
    public void Fail(string key, string error, string? kustomerId = null, DateTime? atUtc = null) =>
        _writes.Fail(Stored(key), error, kustomerId, atUtc ?? UtcNow());

    /// <summary>Pushed-down diff only: the row came out as changed in SQL but its payload was unchanged; store its source hash so SQL skips it next time.</summary>
    public void RecordSourceHash(string key, string sourceHash) => _writes.SourceHash(Stored(key), sourceHash, UtcNow());

    /// <summary>
    /// Stores only the valued fields of a key whose row is already confirmed: for an Unchanged row whose entry has
    /// <see cref="StateEntry.Valued"/> null (confirmed before schema v5), so that migrated stores learn the sets.
    /// Buffered like <see cref="RecordSourceHash"/>; a key without a state row is left alone.
    /// </summary>
    public void RecordValued(string key, ValuedFields valued)
    {
        if (valued is null) throw new ArgumentNullException(nameof(valued));
        _writes.Valued(Stored(key), valued.Stored, UtcNow());
    }

    /// <summary>
    /// What the store knows of the sync's records, for the guards against a broken source: how many keys have a
    /// confirmed write, and per field path how many of those held a value in it (keys whose set is not known are
    /// not counted per field). One grouped query after a flush, so it also works when entries were not loaded.
    /// </summary>
    /// <exception cref="StateException">StateWriteFailed when what is queued cannot be written; StateUnreadable when the store cannot be read.</exception>
    public KnownRecords Known()
    {
        Flush();
        return _store.Guard("read", () =>
        {
            using var connection = _store.Connect();
            using var command = _store.Command(connection, null, _store.Dialect.KnownQuery());
            StateDialect.AddText(command, "@s", SyncName);
            using var reader = command.ExecuteReader();
            long records = 0;
            var hadValue = new Dictionary<string, long>(StringComparer.Ordinal);
            while (reader.Read())
            {
                var count = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
                records += count;
                if (ValuedFields.Parse(reader.IsDBNull(0) ? null : reader.GetString(0)) is not { } valued) continue;
                foreach (var path in valued.Paths)
                    hadValue[path] = (hadValue.TryGetValue(path, out var n) ? n : 0) + count;
            }
            return new KnownRecords(records, hadValue);
        });
    }

    /// <summary>Queues the outcome of one row of a run for the run history.</summary>
    public void RecordOutcome(long runId, UpsertResult result) =>
        RecordOutcome(runId, result.Row, result.Key, result.Status, result.KustomerId, result.ErrorId, result.Message);

    public void RecordOutcome(long runId, long row, string? key, UpsertStatus status, string? kustomerId, string? errorId, string? message) =>
        _writes.Outcome(runId, row, key, status, kustomerId, errorId, message);

    /// <summary>
    /// The key as stored: lower-cased (invariant) when the session compares keys without regard to case (Email keys),
    /// so that one email has one state row and the pushed-down diff can join on LOWER(key).
    /// </summary>
    public string Stored(string key)
    {
        if (key is null) throw new ArgumentNullException(nameof(key));
        return _lowerCaseKeys ? key.ToLowerInvariant() : key;
    }

    /// <summary>Writes everything queued now; throws StateWriteFailed when the store refuses (the items stay queued).</summary>
    public void Flush() => _writes.Flush();

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
            _store.GuardWrite(SyncName, "written", () =>
            {
                var d = _store.Dialect;
                using var connection = _store.Connect();
                using var tx = connection.BeginTransaction();
                foreach (var (keys, value) in new[] { (gone, (DateTime?)atUtc), (back, null) })
                    StateWriteBuffer.WriteRows(_store, SyncName, connection, tx, keys, d.GoneStatement, (command, i, key) =>
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
    public long StartRun(SyncRunStart start) => _history.StartRun(start);

    /// <summary>
    /// Flushes everything queued (throws StateWriteFailed if that fails), then records the run's end, counts and status,
    /// and drops the row outcomes of runs older than the newest <see cref="StateStoreOptions.KeepRowOutcomesForRuns"/>.
    /// <paramref name="keysLeft"/> defaults to the count of the last <see cref="KeysNotSeen(IEnumerable{string}, DateTime, bool)"/>.
    /// </summary>
    public void FinishRun(long runId, UpsertSummary summary, SyncRunStatus status, DateTime endedUtc, string? message = null, long? keysLeft = null)
    {
        Flush();
        _history.FinishRun(runId, summary, status, endedUtc, message, keysLeft ?? _keysLeft);
    }

    private Dictionary<string, StateEntry> LoadEntries()
    {
        return _store.Guard("read", () =>
        {
            var d = _store.Dialect;
            var entries = new Dictionary<string, StateEntry>(_options.KeyComparer);
            using var connection = _store.Connect();
            using var command = _store.Command(connection, null,
                $"SELECT record_key, kustomer_id, payload_hash, confirmed_at, attempts, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END, gone_since, valued_fields, record_stamp " +
                $"FROM {d.Table("state")} WHERE sync_name = @s");
            StateDialect.AddText(command, "@s", SyncName);
            using var reader = command.ExecuteReader();
            // Many keys share few distinct sets: one instance per set.
            var sets = new Dictionary<string, ValuedFields?>(StringComparer.Ordinal);
            while (reader.Read())
            {
                ValuedFields? valued = null;
                if (!reader.IsDBNull(7))
                {
                    var stored = reader.GetString(7);
                    if (!sets.TryGetValue(stored, out valued)) sets[stored] = valued = ValuedFields.Parse(stored);
                }
                PayloadHash.TryParse(reader.IsDBNull(2) ? null : reader.GetString(2), out var hash);
                entries[reader.GetString(0)] = new StateEntry(
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    hash,
                    d.ReadTime(reader, 3),
                    Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture),
                    Convert.ToInt32(reader.GetValue(5), CultureInfo.InvariantCulture) != 0,
                    d.ReadTime(reader, 6),
                    valued,
                    reader.IsDBNull(8) ? null : reader.GetString(8));
            }
            return entries;
        });
    }

    private DateTime UtcNow() => _store.Options.Time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Flushes what is queued (errors are kept in <see cref="LastWriteError"/>), marks runs this session left unfinished
    /// as Failed, and releases the lease. Call it after every write task has finished: later calls are not written.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _lease.Dispose();
        _writes.Dispose();
        try
        {
            using var connection = _store.Connect();
            _history.FailOpenRuns(connection, UtcNow());
            _lease.Release(connection);
        }
        catch (Exception ex)
        {
            // The lease then expires after LeaseTimeout.
            _writes.LastWriteError ??= ex;
        }
        try
        {
            _store.ReleaseConnections();
        }
        catch (Exception)
        {
            // only a pool
        }
    }
}
