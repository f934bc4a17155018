using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs.Guards;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Runs;

/// <summary>
/// One upsert from its driver's side, shared by Invoke-KustomerUpsert and declarative syncs: open the state (taking
/// the sync's lease), start the run, submit rows, drain the results, finish once as Completed, Cancelled or Failed.
/// Results, progress and warnings go to the observer on the caller's thread. A run that cannot start still goes into
/// the history as Failed, so a scheduled failure is never silent.
/// </summary>
public sealed class UpsertSession : IDisposable
{
    private readonly CancellationToken _cancellationToken;
    private UpsertRun? _run;
    private bool _finishing;
    private ArmedGuards? _guards;

    private UpsertSession(SyncState? state, IUpsertObserver observer, CancellationToken cancellationToken)
    {
        State = state;
        Observer = observer;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Where results, progress and warnings go; a driver may wrap it (to note results) before rows go in.</summary>
    public IUpsertObserver Observer { get; set; }

    /// <summary>
    /// Opens the state session of sync <paramref name="syncName"/> (by default "Object:Key") when there is a
    /// <paramref name="store"/>; without one the run keeps no state. A pushed-down diff reads each key's state with its
    /// row, so it passes <paramref name="loadEntries"/> false.
    /// </summary>
    /// <exception cref="StateException">The store cannot be opened, or another run holds the sync's lease.</exception>
    public static UpsertSession Open(IStateStore? store, string? syncName, UpsertOptions options, bool fullSync, IUpsertObserver observer,
        CancellationToken cancellationToken, bool loadEntries = true) =>
        new(store?.Open(new SyncStateOptions(syncName ?? $"{options.Target.DisplayName}:{options.Key.DisplayName}")
        {
            Object = options.Target.DisplayName,
            SyncKey = options.Key.DisplayName,
            FullSync = fullSync,
            KeyComparer = options.Key.Comparer,
            LoadEntries = loadEntries,
        }), observer, cancellationToken);

    public SyncState? State { get; }

    public bool Started => _run is not null;

    /// <summary>The run, once <see cref="Start"/> succeeded.</summary>
    public UpsertRun Run => _run ?? throw new InvalidOperationException("The session has not started.");

    /// <summary>Set when the run stopped writing for a reason that concerns every row; the run's one error.</summary>
    public RunFault? Fault => _run?.Fault;

    /// <summary>Reads the schema, checks the mapping and the key's roles, and records the run's start.</summary>
    /// <param name="redact">Masks secrets in the failed start's message for the history; the client's key is always masked.</param>
    public void Start(KustomerClient client, UpsertOptions options, IReadOnlyList<MappingRule> mapping, bool skipNull, bool reportKeysLeft, IEngineLog? log,
        Func<string, string>? redact = null)
    {
        var started = DateTime.UtcNow;
        var binding = State is null ? null : new UpsertStateBinding(State, reportKeysLeft);
        try
        {
            // Off the caller's thread: a host's synchronization context must not hold the run's continuations.
            _run = Task.Run(() => UpsertRun.StartAsync(client, options, mapping, skipNull, _cancellationToken, binding, log), _cancellationToken).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is KustomerException or MappingException or StateException or OperationCanceledException)
        {
            RecordFailedStart(options, started, client.Redact(redact is null ? ex.Message : redact(ex.Message)));
            throw;
        }
    }

    /// <summary>
    /// Judges the run against the guards before any write, once the source has ended (at <see cref="Drain"/>): while a
    /// guard could trip, rows that need a write are held until then. Call after <see cref="Start"/>, before the first row.
    /// Without a state store there is no earlier run to compare with, and nothing is judged.
    /// </summary>
    /// <param name="fullSource">The source returns the whole table each run (not only what changed), so its size can be compared between runs.</param>
    /// <exception cref="StateException">The store cannot be read.</exception>
    public void Guard(GuardSettings settings, bool fullSource)
    {
        var run = Run;
        if (State is null) return;
        var guards = new ArmedGuards(settings, fullSource, State.Known(), State.Store.LastSuccessfulRunRows(State.SyncName));
        if (!guards.CanTrip) return;
        _guards = guards;
        if (!run.Summary.WhatIf) run.HoldWrites();
    }

    /// <summary>Takes a row and hands on the results that are ready.</summary>
    /// <exception cref="MappingException">The first row shows the mapping cannot fit the input; nothing was sent.</exception>
    /// <exception cref="StateException">Another process took over the sync's lease while this run stalled.</exception>
    public void Submit(string[] names, object?[] values, object? source, StateEntry? entry = null, string? sourceHash = null)
    {
        Run.Submit(names, values, source, entry, sourceHash, whileWaiting: TakeReadyAndReport);
        TakeReady();
        if (State is { LeaseLost: true })
            throw new StateException(ErrorIds.StateLocked, $"Another process took over the lease of sync '{State.SyncName}' while this run stalled; this run stops.");
    }

    /// <summary>No more rows: waits for every result and hands each on as it comes.</summary>
    public void Drain()
    {
        var run = Run;
        if (_guards is { } guards)
        {
            _guards = null;
            // A stopped run is not judged: what it held was never sent and counts as not confirmed.
            if (!_cancellationToken.IsCancellationRequested) Judge(run, guards);
        }
        run.Complete();
        var results = run.Results;
        while (results.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) TakeReady();
        if (run.UnmappedColumns.Count > 0)
            Observer.Warning($"These input columns map to no {run.Summary.Object} field and were not sent: {string.Join(", ", run.UnmappedColumns)}. " +
                "Name them like a Kustomer field or custom attribute, or map them in the mapping.");
    }

    /// <summary>
    /// Closes the run in the history, once. Completed and Failed come after <see cref="Drain"/>; Cancelled at any time
    /// (rows still being written are counted as not confirmed).
    /// </summary>
    /// <exception cref="StateException">The state store could not record the run's end.</exception>
    public UpsertSummary Finish(RunEnding ending, string? failure = null)
    {
        var run = Run;
        if (_finishing) throw new InvalidOperationException("The run was already finished.");
        _finishing = true;
        var summary = run.Finish(ending, failure);
        var left = run.KeysLeft;
        if (left.Count > 0)
            Observer.Warning($"{left.Count} keys synced before are not in this run's input: {string.Join(", ", left.Take(20))}{(left.Count > 20 ? ", ..." : "")}.");
        return summary;
    }

    /// <summary>
    /// Ends the session however the driver ended: a run stopped by the caller and not finished yet goes into the history
    /// as Cancelled (best effort: the lease expires by itself), then the writes stop and the lease is released.
    /// </summary>
    public void Dispose()
    {
        if (_run is not null)
        {
            if (!_finishing && _cancellationToken.IsCancellationRequested && State is not null)
            {
                try { Finish(RunEnding.Cancelled); } catch (StateException) { }
            }
            _run.Dispose();
            _run = null;
        }
        State?.Dispose();
    }

    /// <summary>
    /// The guards' verdict on the whole planned run: nothing tripped sends the held rows; a trip refuses the run (each
    /// held row ends not attempted, the run's error names the guards and figures); under WhatIf a trip is a warning.
    /// </summary>
    private void Judge(UpsertRun run, ArmedGuards guards)
    {
        var trips = guards.Evaluate(run.Submitted, run.Tally);
        run.Summary.GuardsTripped = trips.Select(t => t.Guard.ToString()).ToArray();
        if (trips.Count == 0)
        {
            run.ReleaseHeld(TakeReadyAndReport);
            return;
        }
        if (run.Summary.WhatIf)
        {
            foreach (var trip in trips) Observer.Warning($"The {trip.Guard} guard would refuse this run: {trip.Message}");
            return;
        }
        run.RefuseHeld(new RunFault(ErrorIds.GuardTripped,
            $"The run was refused before any write: {(trips.Count == 1 ? "a guard against a broken source tripped" : $"{trips.Count} guards against a broken source tripped")}. " +
            string.Join(" ", trips.Select(t => $"{t.Guard}: {t.Message}")) +
            " Nothing was sent to Kustomer. Check the source; if it is right, run once with the guards overridden (force), or change the guard's setting."));
        TakeReady();
    }

    private void TakeReady()
    {
        // While rows are held no result may come for a long time: where the run stands is told all the same.
        if (HandOnReady() || Run.Held > 0) Report();
    }

    /// <summary>While a row waits for room: the results that came out meanwhile, and where the run stands even when none did (a wait for the rate window).</summary>
    private void TakeReadyAndReport()
    {
        HandOnReady();
        Report();
    }

    private bool HandOnReady()
    {
        var any = false;
        while (Run.Results.TryRead(out var result))
        {
            any = true;
            Observer.Result(result);
        }
        return any;
    }

    private void Report()
    {
        var run = Run;
        Observer.Progress(new RunProgress(run.Summary, run.InFlight, run.WaitingForRateWindow, run.Elapsed, run.Submitted, run.Held));
    }

    private void RecordFailedStart(UpsertOptions options, DateTime started, string message)
    {
        if (State is null) return;
        try
        {
            var id = State.StartRun(new SyncRunStart
            {
                Object = options.Target.DisplayName, SyncKey = options.Key.DisplayName, Behavior = options.Behavior,
                WhatIf = options.WhatIf, FullSync = State.FullSync, StartedUtc = started,
            });
            var summary = new UpsertSummary { Sync = State.SyncName, RunId = id, Object = options.Target.DisplayName, SyncKey = options.Key.DisplayName, Behavior = options.Behavior, WhatIf = options.WhatIf };
            State.FinishRun(id, summary, SyncRunStatus.Failed, DateTime.UtcNow, message);
        }
        catch (StateException)
        {
            // The history is best effort here; the error itself reaches the caller.
        }
    }
}
