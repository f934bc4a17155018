using System.Diagnostics;
using System.Threading.Channels;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// One upsert run: rows go in one at a time from the caller's thread, the <see cref="UpsertPlanner"/> decides each
/// there, the <see cref="WriteDispatcher"/>'s workers write the rest, and every row's result comes out, in input order,
/// through <see cref="Results"/> for the caller to emit on its own thread. Every submitted row yields exactly one result.
/// <para>With a state session, a row whose payload Kustomer already confirmed costs no request, a remembered id saves
/// the lookup, a hash is stored only after Kustomer confirmed the write, and the run and its row outcomes go into
/// the run history.</para>
/// </summary>
public sealed class UpsertRun : IDisposable
{
    private readonly KustomerClient _client;
    private readonly UpsertOptions _options;
    private readonly RecordMapper _mapper;
    private readonly UpsertPlanner _planner;
    private readonly WriteDispatcher _dispatcher;
    private readonly UpsertExecutor _single;
    private readonly ResultSequence _results;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly long _requestsAtStart;
    private readonly long _rateLimitedAtStart;
    private readonly long _retriesAtStart;
    private readonly SyncState? _state;
    private readonly bool _reportKeysLeft;
    private readonly long _runId;
    private readonly IEngineLog? _log;
    private readonly RateGate.Share _budget;
    private List<PlannedRecord>? _held;

    private UpsertRun(KustomerClient client, UpsertOptions options, RecordMapper mapper, bool useBulk, UpsertStateBinding? state, IEngineLog? log, TimeProvider idleClock,
        CancellationToken cancellationToken)
    {
        _client = client;
        _log = log;
        _options = options;
        _mapper = mapper;
        _state = state?.State;
        _reportKeysLeft = state?.ReportKeysLeft ?? false;
        _planner = new UpsertPlanner(mapper, options, _state is null ? null : new SyncStateLookup(_state));
        _budget = client.Gate.Hold(options.BudgetShare, options.MaxRequestsPerMinute);
        _requestsAtStart = client.Requests;
        _rateLimitedAtStart = client.RateLimited;
        _retriesAtStart = client.Retries;
        Summary = new UpsertSummary { Object = options.Target.DisplayName, SyncKey = options.Key.DisplayName, Behavior = options.Behavior, WhatIf = options.WhatIf, UsedBulk = useBulk };
        if (_state is not null)
        {
            Summary.Sync = _state.SyncName;
            _runId = _state.StartRun(new SyncRunStart
            {
                Object = Summary.Object, SyncKey = Summary.SyncKey, Behavior = options.Behavior, WhatIf = options.WhatIf,
                FullSync = _state.FullSync, StartedUtc = DateTime.UtcNow,
            });
            Summary.RunId = _runId;
        }
        _results = new ResultSequence(Summary);
        var records = new RecordGateway(client, options.Target, options.Key);
        _single = new UpsertExecutor(records, new ReferenceResolver(client), options, keepStamps: _state is not null);
        var writer = new KustomerWriter(_single, useBulk ? new BulkExecutor(records, new BulkGateway(client, options.Target), _single, options) : null);
        _dispatcher = new WriteDispatcher(writer, options, useBulk, SettleWrite, _results, client.Redact, idleClock, cancellationToken);
    }

    /// <summary>
    /// Reads the object's schema, checks the mapping and the key's roles; a MappingException here stops the run
    /// before any write.
    /// </summary>
    /// <param name="idleClock">The clock a partial bulk batch waits on for more rows (<see cref="WriteDispatcher.IdleFlush"/>): it waits for
    /// the source, not for Kustomer, so it is the system clock, not the client's pacing clock, unless a test holds it.</param>
    public static async Task<UpsertRun> StartAsync(KustomerClient client, UpsertOptions options, IReadOnlyList<MappingRule> mapping, bool skipNull,
        CancellationToken cancellationToken, UpsertStateBinding? state = null, IEngineLog? log = null, TimeProvider? idleClock = null)
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
        return new UpsertRun(client, options, mapper, useBulk, state, log, idleClock ?? TimeProvider.System, cancellationToken);
    }

    public UpsertSummary Summary { get; }

    public IReadOnlyCollection<string> UnmappedColumns => _mapper.UnmappedColumns;

    /// <summary>Set when the run stopped writing (the key refused, Kustomer unreachable, a mapping that cannot fit): its one error.</summary>
    public RunFault? Fault => _dispatcher.Fault;

    /// <summary>
    /// Every row's result in input order: read what is ready while submitting, and read to the end after
    /// <see cref="Complete"/>; the stream ends once every submitted row has its result.
    /// </summary>
    public ChannelReader<UpsertResult> Results => _results.Reader;

    /// <summary>Rows submitted whose result is not in <see cref="Results"/> yet (batched or being written).</summary>
    public int InFlight => _dispatcher.InFlight;

    public long Submitted => _planner.Rows;

    /// <summary>True while a write waits for Kustomer's rate window to turn over (for progress).</summary>
    public bool WaitingForRateWindow => _client.WaitingForRateWindow;

    /// <summary>Time since the run started, for rates shown while it runs.</summary>
    public TimeSpan Elapsed => _watch.Elapsed;

    /// <summary>Keys the state store knew that this run's input no longer has (with ReportKeysLeft), after <see cref="Finish"/>.</summary>
    public IReadOnlyList<string> KeysLeft { get; private set; } = Array.Empty<string>();

    /// <summary>
    /// Takes a row. Blocks while the dispatcher's channel is full; never waits on the caller to drain results.
    /// A pushed-down diff passes the key's <paramref name="entry"/> read with the row (its session loads no entries)
    /// and the row's <paramref name="sourceHash"/>, stored once Kustomer confirmed the row or found it unchanged.
    /// </summary>
    /// <exception cref="MappingException">The first row shows the mapping cannot fit the input; nothing was sent.</exception>
    /// <param name="whileWaiting">Called on this thread while the row waits for room in the dispatcher (see <see cref="WriteDispatcher.Submit"/>).</param>
    public void Submit(string[] names, object?[] values, object? source, StateEntry? entry = null, string? sourceHash = null, Action? whileWaiting = null)
    {
        RowPlan plan;
        try
        {
            plan = _planner.Plan(names, values, source, entry, sourceHash);
        }
        catch (MappingException ex)
        {
            _dispatcher.Stop(new RunFault(ErrorIds.InvalidMapping, ex.Message));
            throw;
        }
        if (_planner.Rows == 1 && _log is { VerboseEnabled: true } log) log.Verbose(_mapper.Describe(names));
        if (plan.IsInvalid)
        {
            Emit(plan.Result!, null);
        }
        else if (Fault is { } fault)
        {
            var row = plan.Result ?? RowResults.For(plan.Write!.Record, _options);
            Emit(RowResults.NotAttempted(new UpsertResult { Row = row.Row, Object = row.Object, Key = row.Key, InputObject = source }, fault), null);
        }
        else if (plan.Result is { } unchanged)
        {
            Emit(unchanged, _options.WhatIf || (sourceHash is null && plan.Learned is null) ? null : () =>
            {
                if (sourceHash is not null) _state!.RecordSourceHash(unchanged.Key!, sourceHash);
                if (plan.Learned is { } valued) _state!.RecordValued(unchanged.Key!, valued);
            });
        }
        else if (_held is not null)
        {
            _held.Add(plan.Write!);
        }
        else
        {
            _dispatcher.Submit(plan.Write!, whileWaiting);
        }
    }

    /// <summary>True when a row of this run had <paramref name="key"/> (valid or not).</summary>
    public bool HasSeen(string key) => _planner.HasSeen(key);

    /// <summary>What the rows planned so far would change and clear of the records the state knows.</summary>
    public PlanTally Tally => _planner.Tally;

    /// <summary>
    /// From now on rows that need a write are planned and held, not sent, until <see cref="ReleaseHeld"/> or
    /// <see cref="RefuseHeld"/>: a run that must be judged before any write (the guards against a broken source) holds them.
    /// </summary>
    public void HoldWrites() => _held ??= new List<PlannedRecord>();

    /// <summary>Rows held for the guards' verdict (see <see cref="HoldWrites"/>).</summary>
    public int Held => _held?.Count ?? 0;

    /// <summary>Sends the held rows, in input order, and stops holding.</summary>
    public void ReleaseHeld(Action? whileWaiting = null)
    {
        var held = TakeHeld();
        foreach (var planned in held)
        {
            if (Fault is { } fault) Emit(RowResults.NotAttempted(RowResults.For(planned.Record, _options), fault), null);
            else _dispatcher.Submit(planned, whileWaiting);
        }
    }

    /// <summary>Refuses the run: nothing held is sent, each held row ends not attempted, and the run's one error is <paramref name="fault"/>.</summary>
    public void RefuseHeld(RunFault fault)
    {
        _dispatcher.Stop(fault);
        foreach (var planned in TakeHeld()) Emit(RowResults.NotAttempted(RowResults.For(planned.Record, _options), fault), null);
    }

    private List<PlannedRecord> TakeHeld()
    {
        var held = _held ?? new List<PlannedRecord>();
        _held = null;
        return held;
    }

    /// <summary>No more rows will come: the dispatcher sends what is still gathered for a bulk batch.</summary>
    public void Complete() => _dispatcher.Complete();

    /// <summary>
    /// Fills in the request figures and the elapsed time, and closes the run in the run history, once: Completed takes
    /// the status from the summary (and reports keys left), Cancelled and Failed (with <paramref name="failure"/>) as named.
    /// </summary>
    public UpsertSummary Finish(RunEnding ending, string? failure = null)
    {
        Summary.Requests = _client.Requests - _requestsAtStart;
        Summary.RateLimited = _client.RateLimited - _rateLimitedAtStart;
        Summary.Retries = _client.Retries - _retriesAtStart;
        Summary.Cancelled = ending == RunEnding.Cancelled;
        Summary.Elapsed = _watch.Elapsed;
        (Summary.RateLimit, Summary.RateBudget, Summary.RateUsed) = (_budget.Limit, _budget.Budget, _budget.PeakUsed);
        if (_state is null) return Summary;
        var refused = Fault?.ErrorId == ErrorIds.GuardTripped;
        // A refused run changes nothing, not even which keys count as gone: its source is the suspect.
        if (_reportKeysLeft && ending == RunEnding.Completed && !refused)
        {
            KeysLeft = _state.KeysNotSeen(_planner.SeenKeys, DateTime.UtcNow, record: !_options.WhatIf);
            Summary.KeysLeft = KeysLeft.Count;
        }
        var status = ending == RunEnding.Failed ? SyncRunStatus.Failed
            : refused && ending == RunEnding.Completed ? SyncRunStatus.Refused
            : SyncRunInfo.StatusFor(Summary, Fault is not null);
        var message = ending == RunEnding.Failed ? failure : Fault?.Message ?? (ending == RunEnding.Cancelled ? StoppedMessage() : null);
        _state.FinishRun(_runId, Summary, status, DateTime.UtcNow, message, Summary.KeysLeft);
        return Summary;
    }

    /// <summary>What a stopped run did, for the user and the run history: "Stopped after 112 rows: 102 written, ...".</summary>
    /// <remarks>Writes still settle while a stopped run is told: the counts are read at one moment, so they add up to the rows taken.</remarks>
    public string StoppedMessage()
    {
        var submitted = Submitted;
        var (written, unchanged, rejected, total) = _results.Counted(s => (s.Created + s.Updated, s.Unchanged, s.Invalid + s.Failed, s.Total));
        var unconfirmed = submitted - total;
        return $"Stopped after {submitted:N0} rows{(Summary.WhatIf ? " (WhatIf)" : "")}: {written:N0} written, {unchanged:N0} unchanged, {rejected:N0} rejected" +
            (unconfirmed > 0 ? $", {unconfirmed:N0} not confirmed" : "") + ". What Kustomer confirmed is kept; run again to continue.";
    }

    /// <summary>Stops what is still being written, waits for the dispatcher's workers, then gives the run's budget share back.</summary>
    public void Dispose()
    {
        _dispatcher.Dispose();
        _budget.Dispose();
    }

    /// <summary>Records a written row's outcome in the state (a hash only once Kustomer confirmed it) and the run history.</summary>
    private void SettleWrite(PlannedRecord planned, UpsertResult result)
    {
        if (_state is not null && !_options.WhatIf)
        {
            var key = planned.Record.Key;
            // Unchanged here (not CreateOnly's "exists") means Kustomer was found holding this very payload: confirmed too.
            if (result.Status is UpsertStatus.Created or UpsertStatus.Updated || result.Status == UpsertStatus.Unchanged && _options.Behavior != SyncBehavior.CreateOnly)
                _state.Confirm(key, result.KustomerId!, planned.Hash, DateTime.UtcNow, planned.SourceHash, planned.Record.Valued,
                    // A stamp the store cannot keep is left out: the next update reads the record, and this confirmed write stays confirmed.
                    _single.TakeStamp(planned.Record.Input.Row)?.Format() is { Length: <= SyncState.MaxStampLength } stamp ? stamp : null);
            else if (result.Status == UpsertStatus.Failed) _state.Fail(key, result.Message ?? result.ErrorId ?? "failed", result.KustomerId);
        }
        Record(result);
    }

    /// <summary>A row decided without a write: settled on the caller's thread, and into the stream whatever settling does.</summary>
    private void Emit(UpsertResult result, Action? settle)
    {
        try
        {
            settle?.Invoke();
            Record(result);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result = RowResults.SettleFailed(result, ex, _client.Redact);
        }
        finally
        {
            _results.Add(result);
        }
    }

    private void Record(UpsertResult result)
    {
        if (_log is { VerboseEnabled: true } log)
            log.Verbose($"Row {result.Row}{(result.Key is null ? "" : $" (key '{result.Key}')")}: {result.Status}" +
                (result.KustomerId is null ? "" : $" {result.KustomerId}") + (result.ErrorId is null ? "" : $", {result.ErrorId}") +
                (result.Attempts > 1 ? $", {result.Attempts} attempts" : "") + ".");
        _state?.RecordOutcome(_runId, result);
    }
}
