using System.Threading.Channels;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Sends planned records to Kustomer with workers it owns: a bounded channel holds the rows handed in (the caller
/// waits while it is full), up to the throttle limit of workers write them, and each finished row is settled (state
/// writes) and added to the result stream, even when settling throws. It awaits its workers when the input is
/// complete and when it is disposed.
/// <para>One record per request: rows whose write reads the record first (a customer update that must carry its company
/// link) wait, up to <see cref="MaxReadAhead"/> of them, until rows stop arriving for a moment or one has waited
/// <see cref="MaxReadAheadWait"/> (on the injected clock), and one read ahead serves them all; other rows go straight on.</para>
/// <para>For bulk, rows are gathered into batches of 100, each handed to a writer once one is free; a partial batch also
/// goes when rows stop arriving for a moment (on the injected clock) and a writer is free to take it, and a last batch
/// too small to be worth a job goes through the single-record path.</para>
/// <para>A key Kustomer refuses (401/403), or <see cref="OutageThreshold"/> rows in a row that could not reach it,
/// stop the run: the writes in flight are cancelled and later rows are not attempted.</para>
/// </summary>
public sealed class WriteDispatcher : IDisposable
{
    /// <summary>How long no row may arrive before a partial bulk batch is sent to a free writer, or the rows waiting to be read ahead are read.</summary>
    public static readonly TimeSpan IdleFlush = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Rows in a row that could not reach Kustomer, each after all its attempts, before the run calls it an outage and
    /// stops: retrying every remaining row against a dead host only turns one failure into thousands.
    /// </summary>
    public const int OutageThreshold = 3;

    /// <summary>Rows read ahead together: one search takes 20 criteria (§8).</summary>
    public const int MaxReadAhead = 20;

    /// <summary>The longest a row waits for others to be read ahead with it while rows that need no read keep arriving.</summary>
    public static readonly TimeSpan MaxReadAheadWait = TimeSpan.FromSeconds(1);

    private sealed record WriteBatch(IReadOnlyList<PlannedRecord> Rows, bool Bulk);

    private readonly IRecordWriter _writer;
    private readonly UpsertOptions _options;
    private readonly Action<PlannedRecord, UpsertResult> _settle;
    private readonly ResultSequence _results;
    private readonly Func<string, string> _redact;
    private readonly TimeProvider _clock;
    private readonly CancellationToken _cancellationToken;
    /// <summary>Cancels the writes in flight when the run stops; the caller's token cancels it too.</summary>
    private readonly CancellationTokenSource _writes;
    private readonly Channel<PlannedRecord> _input;
    /// <summary>One record per request: rows on their way to the workers, with their record when it was read ahead.</summary>
    private readonly Channel<(PlannedRecord Planned, FoundRecord? ReadAhead)>? _ready;
    /// <summary>Bulk writers waiting for their next batch, each by the turn the gatherer hands it through (null: no more).</summary>
    private readonly Channel<TaskCompletionSource<WriteBatch?>>? _freeWriters;
    private readonly int _workers;
    private readonly Task _completion;
    private readonly object _faultLock = new();
    private int _unreachableInARow;
    private int _inFlight;
    private RunFault? _fault;

    public WriteDispatcher(IRecordWriter writer, UpsertOptions options, bool useBulk, Action<PlannedRecord, UpsertResult> settle, ResultSequence results,
        Func<string, string> redact, TimeProvider clock, CancellationToken cancellationToken)
    {
        _writer = writer;
        _options = options;
        _settle = settle;
        _results = results;
        _redact = redact;
        _clock = clock;
        _cancellationToken = cancellationToken;
        _writes = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _workers = Math.Max(1, options.ThrottleLimit);
        _input = Channel.CreateBounded<PlannedRecord>(new BoundedChannelOptions(useBulk ? BulkGateway.MaxItems : _workers) { SingleWriter = true });
        var tasks = new List<Task>();
        if (useBulk)
        {
            _freeWriters = Channel.CreateUnbounded<TaskCompletionSource<WriteBatch?>>();
            tasks.Add(Task.Run(GatherAsync));
            for (var i = 0; i < _workers; i++) tasks.Add(Task.Run(WriteBatchesAsync));
        }
        else
        {
            _ready = Channel.CreateBounded<(PlannedRecord, FoundRecord?)>(new BoundedChannelOptions(_workers) { SingleWriter = true });
            tasks.Add(Task.Run(ReadAheadAsync));
            for (var i = 0; i < _workers; i++) tasks.Add(Task.Run(WriteRowsAsync));
        }
        _completion = EndAsync(tasks);
    }

    /// <summary>Set when the run stopped writing; later rows are not attempted.</summary>
    public RunFault? Fault => Volatile.Read(ref _fault);

    /// <summary>Rows handed in whose result is not in the stream yet (gathered for a batch or being written).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Hands a row to the workers, waiting while the channel is full; a row the caller's stop keeps out is settled as not written.</summary>
    /// <param name="whileWaiting">Called on the caller's thread every <see cref="WaitSlice"/> while the channel is full, so its host
    /// can show what happens meanwhile (a wait for the rate window) instead of falling silent.</param>
    public void Submit(PlannedRecord planned, Action? whileWaiting = null)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (!_input.Writer.TryWrite(planned))
            {
                var write = _input.Writer.WriteAsync(planned, _cancellationToken).AsTask();
                // The slice is the host's refresh interval on the wall clock; nothing is decided by it.
                while (whileWaiting is not null && !write.Wait(WaitSlice)) whileWaiting();
                write.GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException ex)
        {
            Finish(planned, Unfinished(planned, ex));
        }
    }

    /// <summary>How often a caller blocked on a full channel gets its turn to report.</summary>
    public static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(250);

    /// <summary>Stops the run for a reason found outside the writes (the mapping); the first reason wins.</summary>
    public void Stop(RunFault fault) => Interlocked.CompareExchange(ref _fault, fault, null);

    /// <summary>No more rows will come: the workers send what is left and end.</summary>
    public void Complete() => _input.Writer.TryComplete();

    /// <summary>Stops the writes still in flight and waits for the workers, which settle every row they hold.</summary>
    public void Dispose()
    {
        _input.Writer.TryComplete();
        _writes.Cancel();
        _completion.GetAwaiter().GetResult();
        _writes.Dispose();
    }

    private async Task EndAsync(List<Task> workers)
    {
        try
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        finally
        {
            _results.Complete();
        }
    }

    /// <summary>
    /// Hands rows to the workers. Rows whose write reads the record first wait for others (up to <see cref="MaxReadAhead"/>)
    /// while rows keep arriving, for at most <see cref="MaxReadAheadWait"/>; then one read ahead serves them all.
    /// </summary>
    private async Task ReadAheadAsync()
    {
        var waiting = new List<PlannedRecord>(MaxReadAhead);
        var since = DateTimeOffset.MinValue;
        try
        {
            while (true)
            {
                if (_input.Reader.TryRead(out var planned))
                {
                    if (!_writer.ReadsFirst(planned)) await _ready!.Writer.WriteAsync((planned, null)).ConfigureAwait(false);
                    else
                    {
                        if (waiting.Count == 0) since = _clock.GetUtcNow();
                        waiting.Add(planned);
                    }
                    if (waiting.Count == MaxReadAhead || waiting.Count > 0 && _clock.GetUtcNow() - since >= MaxReadAheadWait)
                        await ReadAndHandAsync(waiting).ConfigureAwait(false);
                }
                else if (waiting.Count == 0)
                {
                    if (!await _input.Reader.WaitToReadAsync().ConfigureAwait(false)) break;
                }
                else if (!await RowArrivesBeforeIdleAsync().ConfigureAwait(false))
                {
                    await ReadAndHandAsync(waiting).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // Every row must reach a worker, even after a failure here: unread, each write reads its own record.
            foreach (var planned in waiting) await _ready!.Writer.WriteAsync((planned, null)).ConfigureAwait(false);
            _ready!.Writer.TryComplete();
        }
    }

    private async Task ReadAndHandAsync(List<PlannedRecord> waiting)
    {
        IReadOnlyList<FoundRecord?> found;
        try
        {
            _writes.Token.ThrowIfCancellationRequested();
            found = await _writer.ReadAheadAsync(waiting, _writes.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Reading ahead only saves requests: each write reads its own record, and reports what goes wrong there.
            found = new FoundRecord?[waiting.Count];
        }
        var rows = waiting.ToArray();
        waiting.Clear();
        for (var i = 0; i < rows.Length; i++) await _ready!.Writer.WriteAsync((rows[i], found[i])).ConfigureAwait(false);
    }

    private async Task WriteRowsAsync()
    {
        // No token: every row in the channel must come out with a result, written or not.
        while (await _ready!.Reader.WaitToReadAsync().ConfigureAwait(false))
            while (_ready.Reader.TryRead(out var row)) await WriteOneAsync(row.Planned, row.ReadAhead).ConfigureAwait(false);
    }

    private async Task WriteOneAsync(PlannedRecord planned, FoundRecord? readAhead)
    {
        UpsertResult result;
        try
        {
            _writes.Token.ThrowIfCancellationRequested();
            result = await _writer.WriteAsync(planned, readAhead, _writes.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            result = Unfinished(planned, ex);
        }
        Finish(planned, result);
    }

    /// <summary>
    /// Gathers rows into batches of 100; a partial batch goes when rows stopped arriving for <see cref="IdleFlush"/> and a
    /// writer is free, or the input ends.
    /// </summary>
    private async Task GatherAsync()
    {
        try
        {
            var batch = new List<PlannedRecord>(BulkGateway.MaxItems);
            while (true)
            {
                if (_input.Reader.TryRead(out var planned))
                {
                    batch.Add(planned);
                    if (batch.Count < BulkGateway.MaxItems) continue;
                }
                else if (batch.Count == 0)
                {
                    if (!await _input.Reader.WaitToReadAsync().ConfigureAwait(false)) break;
                    continue;
                }
                else if (await RowArrivesBeforeIdleAsync().ConfigureAwait(false))
                {
                    continue;
                }
                await SendAsync(batch).ConfigureAwait(false);
                batch = new List<PlannedRecord>(BulkGateway.MaxItems);
            }
        }
        finally
        {
            for (var i = 0; i < _workers; i++) (await _freeWriters!.Reader.ReadAsync().ConfigureAwait(false)).SetResult(null);
        }
    }

    /// <summary>
    /// True when a row arrives within <see cref="IdleFlush"/>, or (bulk) after it while every writer is busy; false when the
    /// idle time passed (bulk: and a writer is free), or the input ended.
    /// </summary>
    private async Task<bool> RowArrivesBeforeIdleAsync()
    {
        var next = _input.Reader.WaitToReadAsync().AsTask();
        if (!next.IsCompleted)
        {
            using var stop = new CancellationTokenSource();
            var idle = Clock.Delay(_clock, IdleFlush, stop.Token);
            if (await Task.WhenAny(next, idle).ConfigureAwait(false) == idle)
            {
                if (_freeWriters is null) return _input.Reader.TryPeek(out _);
                // While every writer is busy the batch would only wait; kept, it takes the rows that come meanwhile instead of
                // costing a job (or single writes) of its own. A row already there counts even if its wake-up is still queued.
                var free = _freeWriters!.Reader.WaitToReadAsync().AsTask();
                if (await Task.WhenAny(next, free).ConfigureAwait(false) == free && !_input.Reader.TryPeek(out _)) return false;
            }
            stop.Cancel();
        }
        return await next.ConfigureAwait(false);
    }

    /// <summary>Hands a batch to the next writer that is free.</summary>
    private async Task HandAsync(WriteBatch batch) => (await _freeWriters!.Reader.ReadAsync().ConfigureAwait(false)).SetResult(batch);

    private async Task SendAsync(List<PlannedRecord> batch)
    {
        if (batch.Count >= _options.BulkMinimum)
        {
            await HandAsync(new WriteBatch(batch, Bulk: true)).ConfigureAwait(false);
            return;
        }
        foreach (var planned in batch) await HandAsync(new WriteBatch(new[] { planned }, Bulk: false)).ConfigureAwait(false);
    }

    private async Task WriteBatchesAsync()
    {
        while (true)
        {
            var turn = new TaskCompletionSource<WriteBatch?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _freeWriters!.Writer.TryWrite(turn);
            if (await turn.Task.ConfigureAwait(false) is not { } batch) return;
            if (!batch.Bulk)
            {
                await WriteOneAsync(batch.Rows[0], null).ConfigureAwait(false);
                continue;
            }
            IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)> outcomes;
            try
            {
                _writes.Token.ThrowIfCancellationRequested();
                outcomes = await _writer.WriteBatchAsync(batch.Rows, _writes.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                outcomes = batch.Rows.Select(p => (p, Unfinished(p, ex))).ToList();
            }
            foreach (var (planned, result) in outcomes) Finish(planned, result);
        }
    }

    /// <summary>Notes a fatal key problem or an outage, settles the row and puts its result in the stream, whatever settling does.</summary>
    private void Finish(PlannedRecord planned, UpsertResult result)
    {
        try
        {
            NoteFault(result);
            _settle(planned, result);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result = RowResults.SettleFailed(result, ex, _redact);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _results.Add(result);
        }
    }

    private void NoteFault(UpsertResult result)
    {
        lock (_faultLock)
        {
            if (result.ErrorId is ErrorIds.AuthenticationFailed or ErrorIds.MissingRole)
                Stop(new RunFault(result.ErrorId, result.ErrorId == ErrorIds.AuthenticationFailed
                    ? $"Kustomer refused the API key: {result.Message}"
                    : $"The API key lacks a role this sync needs: {result.Message}"));
            if (result.ErrorId == ErrorIds.ConnectionFailed)
            {
                if (++_unreachableInARow >= OutageThreshold && Fault is null)
                {
                    Stop(new RunFault(ErrorIds.ConnectionFailed,
                        $"Kustomer could not be reached for {OutageThreshold} rows in a row, each after all its attempts, so the run stopped " +
                        $"instead of retrying every remaining row ({result.Message}). Rows not attempted are Failed with {ErrorIds.NotAttempted}; " +
                        "the next run picks them up."));
                    _writes.Cancel();
                }
            }
            else if (result.Status != UpsertStatus.Failed || result.ErrorId is not (ErrorIds.Cancelled or ErrorIds.NotAttempted))
            {
                _unreachableInARow = 0;
            }
        }
    }

    private UpsertResult Unfinished(PlannedRecord planned, Exception ex)
    {
        var result = RowResults.For(planned.Record, _options);
        if (ex is OperationCanceledException && !_cancellationToken.IsCancellationRequested && Fault is { } fault) return RowResults.NotAttempted(result, fault);
        return ex is OperationCanceledException
            ? RowResults.Fail(result, ErrorIds.Cancelled, "The run was stopped before Kustomer confirmed this row.", null)
            : RowResults.Fail(result, ex is KustomerSyncException known ? known.ErrorId : ErrorIds.UnexpectedError, _redact(ex.Message), null);
    }
}
