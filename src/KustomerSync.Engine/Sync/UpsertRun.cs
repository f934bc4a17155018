using System.Collections.Concurrent;
using System.Diagnostics;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// One upsert run: rows go in one at a time from the caller's thread (mapped, validated and de-duplicated there),
/// writes run concurrently up to the throttle limit, and results come back out through <see cref="TryTake"/> so the
/// caller can emit them on its own thread. Every submitted row yields exactly one result.
/// <para>When the key can follow bulk jobs, rows are gathered into batches of 100 for <see cref="BulkExecutor"/>; a
/// batch is also sent when rows stop arriving for a moment, and a last batch too small to be worth a job goes
/// through the single-record path.</para>
/// <para>With a state session, a row whose payload Kustomer already confirmed costs no request, a remembered id saves
/// the lookup, a hash is stored only after Kustomer confirmed the write, and the run and its row outcomes go into
/// the run history.</para>
/// </summary>
public sealed class UpsertRun : IDisposable
{
    private static readonly TimeSpan IdleFlush = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Rows in a row that could not reach Kustomer, each after all its attempts, before the run calls it an outage and
    /// stops: retrying every remaining row against a dead host only turns one failure into thousands.
    /// </summary>
    public const int OutageThreshold = 3;

    private readonly KustomerClient _client;
    private readonly UpsertOptions _options;
    private readonly RecordMapper _mapper;
    private readonly UpsertExecutor _executor;
    private readonly BulkExecutor? _bulk;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _resultSignal = new(0);
    private readonly ConcurrentQueue<UpsertResult> _results = new();
    private readonly Dictionary<string, long> _seenKeys;
    private readonly CancellationToken _cancellationToken;
    /// <summary>Cancels the writes in flight when an outage stops the run; the caller's token cancels it too.</summary>
    private readonly CancellationTokenSource _writes;
    private int _unreachableInARow;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly long _requestsAtStart;
    private readonly long _rateLimitedAtStart;
    private readonly long _retriesAtStart;
    private readonly SyncState? _state;
    private readonly bool _reportKeysLeft;
    private readonly long _runId;
    private readonly object _batchLock = new();
    private readonly Timer? _idleFlush;
    private List<PlannedRecord> _batch = new();
    private long _lastSubmitTicks;
    private long _row;
    private int _inFlight;
    private readonly IEngineLog? _log;
    private readonly RateGate.Share _budget;
    private volatile string? _fatal;
    private volatile string? _fatalErrorId;

    private UpsertRun(KustomerClient client, UpsertOptions options, RecordMapper mapper, bool useBulk, UpsertStateBinding? state, IEngineLog? log, CancellationToken cancellationToken)
    {
        _client = client;
        _log = log;
        _options = options;
        _mapper = mapper;
        _cancellationToken = cancellationToken;
        _writes = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var records = new RecordGateway(client, options.Target, options.Key);
        _executor = new UpsertExecutor(records, new ReferenceResolver(client), options);
        if (useBulk)
        {
            _bulk = new BulkExecutor(records, new BulkGateway(client, options.Target), _executor, options);
            _idleFlush = new Timer(_ => FlushIfIdle(), null, IdleFlush, IdleFlush);
        }
        _slots = new SemaphoreSlim(Math.Max(1, options.ThrottleLimit));
        _budget = client.Gate.Hold(options.BudgetShare, options.MaxRequestsPerMinute);
        _seenKeys = new Dictionary<string, long>(options.Key.Comparer);
        _requestsAtStart = client.Requests;
        _rateLimitedAtStart = client.RateLimited;
        _retriesAtStart = client.Retries;
        Summary = new UpsertSummary { Object = options.Target.DisplayName, SyncKey = options.Key.DisplayName, Behavior = options.Behavior, WhatIf = options.WhatIf, UsedBulk = useBulk };
        if (state is not null)
        {
            _state = state.State;
            _reportKeysLeft = state.ReportKeysLeft;
            Summary.Sync = _state.SyncName;
            _runId = _state.StartRun(new SyncRunStart
            {
                Object = Summary.Object, SyncKey = Summary.SyncKey, Behavior = options.Behavior, WhatIf = options.WhatIf,
                FullSync = _state.FullSync, StartedUtc = DateTime.UtcNow,
            });
            Summary.RunId = _runId;
        }
    }

    /// <summary>
    /// Reads the object's schema, checks the mapping and the key's roles; a MappingException here stops the run
    /// before any write.
    /// </summary>
    public static async Task<UpsertRun> StartAsync(KustomerClient client, UpsertOptions options, IReadOnlyList<MappingRule> mapping, bool skipNull,
        CancellationToken cancellationToken, UpsertStateBinding? state = null, IEngineLog? log = null)
    {
        var schema = await SchemaCatalog.LoadAsync(client, options.Target, cancellationToken).ConfigureAwait(false);
        if (options.Key.Kind == RecordKeyKind.CustomAttribute && schema.CustomAttributesKnown && schema.Find("custom." + options.Key.Attribute) is null)
        {
            var suggestions = schema.Suggest(options.Key.Attribute!);
            throw new MappingException($"The sync key '{options.Key.Attribute}' is not a custom attribute of {options.Target.DisplayName}" +
                (suggestions.Count > 0 ? $". Did you mean {string.Join(", ", suggestions.Select(s => "'" + s + "'"))}?" : "."));
        }
        var mapper = new RecordMapper(schema, options.Key, mapping, skipNull);
        var useBulk = options.AllowBulk && !options.WhatIf &&
            KustomerRoles.HoldsAny(await client.GetRolesAsync(cancellationToken).ConfigureAwait(false), KustomerRoles.BulkRead);
        if (log is { VerboseEnabled: true })
            log.Verbose(useBulk ? $"Writes go through Kustomer's bulk endpoints, up to {BulkGateway.MaxItems} records a request."
                : options.WhatIf ? "Planning only (WhatIf): rows are looked up, nothing is written."
                : options.AllowBulk ? "Writes go one record per request: the key holds no bulk role."
                : "Writes go one record per request, as asked.");
        return new UpsertRun(client, options, mapper, useBulk, state, log, cancellationToken);
    }

    public UpsertSummary Summary { get; }

    public IReadOnlyCollection<string> UnmappedColumns => _mapper.UnmappedColumns;

    /// <summary>Set when Kustomer refused the key itself (401/403): later rows fail without a request.</summary>
    public string? FatalError => _fatal;
    public string? FatalErrorId => _fatalErrorId;

    /// <summary>Rows submitted whose result has not been queued yet (batched or being written).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public long Submitted => Interlocked.Read(ref _row);

    /// <summary>True while a write waits for Kustomer's rate window to turn over (for progress).</summary>
    public bool WaitingForRateWindow => _client.WaitingForRateWindow;

    /// <summary>Time since the run started, for rates shown while it runs.</summary>
    public long ElapsedTicks => _watch.Elapsed.Ticks;

    /// <summary>Keys the state store knew that this run's input no longer has (with ReportKeysLeft), after <see cref="Finish"/>.</summary>
    public IReadOnlyList<string> KeysLeft { get; private set; } = Array.Empty<string>();

    /// <summary>
    /// Takes a row. Blocks while the throttle limit is reached; never waits on the caller to drain results.
    /// A pushed-down diff passes the key's <paramref name="entry"/> read with the row (its session loads no entries)
    /// and the row's <paramref name="sourceHash"/>, stored once Kustomer confirmed the row or found it unchanged.
    /// </summary>
    /// <exception cref="MappingException">The first row shows the mapping cannot fit the input; nothing was sent.</exception>
    public void Submit(string[] names, object?[] values, object? source, StateEntry? entry = null, string? sourceHash = null)
    {
        if (Interlocked.Read(ref _row) == 0)
        {
            try
            {
                _mapper.CheckColumns(names);
                if (_log is { VerboseEnabled: true } log) log.Verbose(_mapper.Describe(names));
            }
            catch (MappingException ex)
            {
                (_fatalErrorId, _fatal) = (ErrorIds.InvalidMapping, ex.Message);
                throw;
            }
        }
        var input = new InputRecord(Interlocked.Increment(ref _row), names, values, source);
        var outcome = _mapper.Map(input);
        if (!outcome.IsValid)
        {
            if (outcome.Key is not null && !_seenKeys.ContainsKey(outcome.Key)) _seenKeys[outcome.Key] = input.Row;
            Enqueue(Invalid(input, outcome.Key, outcome.Field, outcome.ErrorId!, outcome.Error!));
            return;
        }
        var record = outcome.Record!;
        if (_seenKeys.TryGetValue(record.Key, out var firstRow))
        {
            Enqueue(Invalid(input, record.Key, _options.Key.FieldPath, ErrorIds.DuplicateKey,
                $"Row {input.Row}: the sync key {_options.Key.FieldPath} '{record.Key}' was already used by row {firstRow} of this run" +
                (_options.Key.Kind == RecordKeyKind.Email ? " (emails are compared without regard to case)." : ".")));
            return;
        }
        _seenKeys[record.Key] = input.Row;

        if (_fatal is not null)
        {
            Enqueue(NotAttempted(new UpsertResult { Row = input.Row, Object = Summary.Object, Key = record.Key, InputObject = source }));
            return;
        }

        // Hashing only serves the state store; without one it would be wasted work on the pipeline thread.
        var hash = _state is null ? default : HashOf(record);
        string? knownId = null;
        if (_state is not null)
        {
            knownId = entry is { } given ? given.KustomerId : _state.KnownKustomerId(record.Key);
            if (entry is { } e ? _state.IsUnchanged(e, hash) : _state.IsUnchanged(record.Key, hash))
            {
                if (sourceHash is not null && !_options.WhatIf) _state.RecordSourceHash(record.Key, sourceHash);
                Enqueue(new UpsertResult { Row = input.Row, Object = Summary.Object, Key = record.Key, Status = UpsertStatus.Unchanged, KustomerId = knownId, InputObject = source });
                return;
            }
        }

        var planned = new PlannedRecord(record, knownId, hash, sourceHash)
        {
            NeverSynced = _state is not null && knownId is null && !(entry is { } known ? known.HasError : _state.TryGetEntry(record.Key, out var stored) && stored.HasError),
        };
        Interlocked.Increment(ref _inFlight);
        if (_bulk is null)
        {
            Dispatch(planned);
            return;
        }
        List<PlannedRecord>? full = null;
        lock (_batchLock)
        {
            _batch.Add(planned);
            Volatile.Write(ref _lastSubmitTicks, _watch.Elapsed.Ticks);
            if (_batch.Count >= BulkGateway.MaxItems) full = TakeBatch();
        }
        if (full is not null) Dispatch(full);
    }

    /// <summary>No more rows will come: sends what is still gathered for a bulk batch.</summary>
    public void Complete() => FlushBatch();

    /// <summary>
    /// Takes the next finished result in input order (row 1, 2, ...), counting it into the summary. Results that
    /// finish early wait here for the rows before them; once nothing is in flight, what is left comes out in order.
    /// </summary>
    public bool TryTake(out UpsertResult result)
    {
        // Read before draining the queue: a row's result is queued before it stops counting as in flight.
        var settled = InFlight == 0;
        while (_results.TryDequeue(out var finished)) _pending.Add(finished.Row, finished);
        result = null!;
        if (_pending.Count == 0) return false;
        var first = _pending.Keys.First();
        if (first != _nextRow && !settled) return false;
        result = _pending[first];
        _pending.Remove(first);
        _nextRow = first + 1;
        Summary.Count(result.Status);
        return true;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a result to arrive; false when none came.</summary>
    public bool WaitForResult(TimeSpan timeout) => _resultSignal.Wait(timeout);

    /// <summary>True when no row is gathered or being written and every result has been taken.</summary>
    public bool IsDrained => InFlight == 0 && _results.IsEmpty && _pending.Count == 0;

    /// <summary>Results taken out of <see cref="_results"/> that wait for an earlier row (caller's thread only).</summary>
    private readonly SortedDictionary<long, UpsertResult> _pending = new();
    private long _nextRow = 1;

    /// <summary>Fills in the request figures and the elapsed time, and closes the run in the run history.</summary>
    public UpsertSummary Finish(bool cancelled)
    {
        Summary.Requests = _client.Requests - _requestsAtStart;
        Summary.RateLimited = _client.RateLimited - _rateLimitedAtStart;
        Summary.Retries = _client.Retries - _retriesAtStart;
        Summary.Cancelled = cancelled;
        Summary.Elapsed = _watch.Elapsed;
        (Summary.RateLimit, Summary.RateBudget, Summary.RateUsed) = (_budget.Limit, _budget.Budget, _budget.PeakUsed);
        if (_state is not null)
        {
            if (_reportKeysLeft && !cancelled)
            {
                KeysLeft = _state.KeysNotSeen(_seenKeys.Keys, DateTime.UtcNow, record: !_options.WhatIf);
                Summary.KeysLeft = KeysLeft.Count;
            }
            _state.FinishRun(_runId, Summary, SyncRunInfo.StatusFor(Summary, _fatal is not null), DateTime.UtcNow, _fatal ?? (cancelled ? StoppedMessage() : null), Summary.KeysLeft);
        }
        return Summary;
    }

    /// <summary>What a stopped run did, for the user and the run history: "Stopped after 112 rows: 102 written, ...".</summary>
    public string StoppedMessage()
    {
        while (TryTake(out _)) { }
        var s = Summary;
        var written = s.Created + s.Updated;
        var unconfirmed = Submitted - s.Total;
        return $"Stopped after {Submitted:N0} rows{(s.WhatIf ? " (WhatIf)" : "")}: {written:N0} written, {s.Unchanged:N0} unchanged, {s.Invalid + s.Failed:N0} rejected" +
            (unconfirmed > 0 ? $", {unconfirmed:N0} not confirmed" : "") + ". What Kustomer confirmed is kept; run again to continue.";
    }

    public void Dispose()
    {
        _idleFlush?.Dispose();
        _budget.Dispose();
        _writes.Dispose();
        _slots.Dispose();
        _resultSignal.Dispose();
    }

    /// <summary>The payload's hash, including the keys of referenced records (resolved ids are not known yet).</summary>
    private static PayloadHash HashOf(MappedRecord record)
    {
        if (record.References.Count == 0) return PayloadHash.Compute(record.Payload);
        var references = new System.Text.Json.Nodes.JsonObject();
        foreach (var reference in record.References) references[reference.Spec.Path] = reference.Value;
        return PayloadHash.Compute(new System.Text.Json.Nodes.JsonObject { ["payload"] = record.Payload.DeepClone(), ["references"] = references });
    }

    private List<PlannedRecord> TakeBatch()
    {
        var batch = _batch;
        _batch = new List<PlannedRecord>(BulkGateway.MaxItems);
        return batch;
    }

    private void FlushIfIdle()
    {
        try
        {
            if (_watch.Elapsed.Ticks - Volatile.Read(ref _lastSubmitTicks) >= IdleFlush.Ticks) FlushBatch();
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The run was stopped or finished while the timer fired; nothing is left to send.
        }
    }

    private void FlushBatch()
    {
        List<PlannedRecord> batch;
        lock (_batchLock)
        {
            if (_batch.Count == 0) return;
            batch = TakeBatch();
        }
        if (batch.Count >= _options.BulkMinimum) Dispatch(batch);
        else foreach (var planned in batch) Dispatch(planned);
    }

    /// <summary>Waits for a write slot; once the run is stopped the rows are settled as not written instead.</summary>
    private bool TakeSlot(IEnumerable<PlannedRecord> rows)
    {
        try
        {
            _slots.Wait(_cancellationToken);
            return true;
        }
        catch (OperationCanceledException ex)
        {
            foreach (var planned in rows) Settle(planned, Unfinished(planned, ex));
            return false;
        }
    }

    private void Dispatch(PlannedRecord planned)
    {
        if (!TakeSlot(new[] { planned })) return;
        _ = Task.Run(async () =>
        {
            UpsertResult result;
            try
            {
                result = await _executor.ExecuteAsync(planned.Record, planned.KnownId, _writes.Token, planned.NeverSynced).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                result = Unfinished(planned, ex);
            }
            Settle(planned, result);
            _slots.Release();
        });
    }

    private void Dispatch(List<PlannedRecord> batch)
    {
        if (!TakeSlot(batch)) return;
        _ = Task.Run(async () =>
        {
            IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)> outcomes;
            try
            {
                outcomes = await _bulk!.ExecuteAsync(batch, _writes.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                outcomes = batch.Select(p => (p, Unfinished(p, ex))).ToList();
            }
            foreach (var (planned, result) in outcomes) Settle(planned, result);
            _slots.Release();
        });
    }

    /// <summary>Records a written row's outcome in the state, notes a fatal key problem or an outage, and queues the result.</summary>
    private void Settle(PlannedRecord planned, UpsertResult result)
    {
        lock (_writes)
        {
            if (result.ErrorId is ErrorIds.AuthenticationFailed or ErrorIds.MissingRole && _fatal is null)
            {
                _fatalErrorId = result.ErrorId;
                _fatal = result.ErrorId == ErrorIds.AuthenticationFailed
                    ? $"Kustomer refused the API key: {result.Message}"
                    : $"The API key lacks a role this sync needs: {result.Message}";
            }
            if (result.ErrorId == ErrorIds.ConnectionFailed)
            {
                if (++_unreachableInARow >= OutageThreshold && _fatal is null)
                {
                    _fatalErrorId = ErrorIds.ConnectionFailed;
                    _fatal = $"Kustomer could not be reached for {OutageThreshold} rows in a row, each after all its attempts, so the run stopped " +
                        $"instead of retrying every remaining row ({result.Message}). Rows not attempted are Failed with {ErrorIds.NotAttempted}; " +
                        "the next run picks them up.";
                    _writes.Cancel();
                }
            }
            else if (result.Status != UpsertStatus.Failed || result.ErrorId is not (ErrorIds.Cancelled or ErrorIds.NotAttempted))
            {
                _unreachableInARow = 0;
            }
        }
        if (_state is not null && !_options.WhatIf)
        {
            var key = planned.Record.Key;
            // Unchanged here (not CreateOnly's "exists") means Kustomer was found holding this very payload: confirmed too.
            if (result.Status is UpsertStatus.Created or UpsertStatus.Updated || result.Status == UpsertStatus.Unchanged && _options.Behavior != SyncBehavior.CreateOnly)
                _state.Confirm(key, result.KustomerId!, planned.Hash, DateTime.UtcNow, planned.SourceHash);
            else if (result.Status == UpsertStatus.Failed) _state.Fail(key, result.Message ?? result.ErrorId ?? "failed", result.KustomerId);
        }
        Enqueue(result);
        Interlocked.Decrement(ref _inFlight);
    }

    private UpsertResult Unfinished(PlannedRecord planned, Exception ex)
    {
        var result = RowResults.For(planned.Record, _options);
        if (ex is OperationCanceledException && !_cancellationToken.IsCancellationRequested && _fatal is not null) return NotAttempted(result);
        return ex is OperationCanceledException
            ? RowResults.Fail(result, ErrorIds.Cancelled, "The run was stopped before Kustomer confirmed this row.", null)
            : RowResults.Fail(result, ex is KustomerException k ? k.ErrorId : ErrorIds.UnexpectedError, _client.Redact(ex.Message), null);
    }

    private void Enqueue(UpsertResult result)
    {
        if (_log is { VerboseEnabled: true } log)
            log.Verbose($"Row {result.Row}{(result.Key is null ? "" : $" (key '{result.Key}')")}: {result.Status}" +
                (result.KustomerId is null ? "" : $" {result.KustomerId}") + (result.ErrorId is null ? "" : $", {result.ErrorId}") +
                (result.Attempts > 1 ? $", {result.Attempts} attempts" : "") + ".");
        _state?.RecordOutcome(_runId, result);
        _results.Enqueue(result);
        _resultSignal.Release();
    }

    /// <summary>A row the run did not write because the key was refused or Kustomer was unreachable; the run's one error says why.</summary>
    private UpsertResult NotAttempted(UpsertResult result) =>
        RowResults.Fail(result, ErrorIds.NotAttempted, $"Not attempted: the run stopped ({_fatalErrorId}).", null);

    private UpsertResult Invalid(InputRecord input, string? key, string? field, string errorId, string message) => new()
    {
        Row = input.Row,
        Object = Summary.Object,
        Key = key,
        Status = UpsertStatus.Invalid,
        Field = field,
        ErrorId = errorId,
        Message = message,
        InputObject = input.Source,
    };
}
