using System.Collections.Concurrent;
using System.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// One upsert run: rows go in one at a time from the caller's thread (mapped, validated and de-duplicated there),
/// writes run concurrently up to the throttle limit, and results come back out through <see cref="TryTake"/> so the
/// caller can emit them on its own thread. Every submitted row yields exactly one result. With a state session, a
/// row whose payload Kustomer already confirmed costs no request, a remembered id saves the lookup, a hash is stored
/// only after Kustomer confirmed the write, and the run and its row outcomes go into the run history.
/// </summary>
public sealed class UpsertRun : IDisposable
{
    private readonly KustomerClient _client;
    private readonly UpsertOptions _options;
    private readonly RecordMapper _mapper;
    private readonly UpsertExecutor _executor;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _resultSignal = new(0);
    private readonly ConcurrentQueue<UpsertResult> _results = new();
    private readonly Dictionary<string, long> _seenKeys;
    private readonly CancellationToken _cancellationToken;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly long _requestsAtStart;
    private readonly long _rateLimitedAtStart;
    private readonly long _retriesAtStart;
    private readonly SyncState? _state;
    private readonly bool _reportKeysLeft;
    private readonly long _runId;
    private long _row;
    private int _inFlight;
    private volatile string? _fatal;
    private volatile string? _fatalErrorId;

    private UpsertRun(KustomerClient client, UpsertOptions options, RecordMapper mapper, UpsertStateBinding? state, CancellationToken cancellationToken)
    {
        _client = client;
        _options = options;
        _mapper = mapper;
        _cancellationToken = cancellationToken;
        _executor = new UpsertExecutor(new RecordGateway(client, options.Target, options.Key), options);
        _slots = new SemaphoreSlim(Math.Max(1, options.ThrottleLimit));
        _seenKeys = new Dictionary<string, long>(options.Key.Comparer);
        _requestsAtStart = client.Requests;
        _rateLimitedAtStart = client.RateLimited;
        _retriesAtStart = client.Retries;
        Summary = new UpsertSummary { Object = options.Target.DisplayName, SyncKey = options.Key.DisplayName, Behavior = options.Behavior, WhatIf = options.WhatIf };
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

    /// <summary>Reads the object's schema and checks the mapping; a MappingException here stops the run before any write.</summary>
    public static async Task<UpsertRun> StartAsync(KustomerClient client, UpsertOptions options, IReadOnlyList<MappingRule> mapping, bool skipNull,
        CancellationToken cancellationToken, UpsertStateBinding? state = null)
    {
        var schema = await SchemaCatalog.LoadAsync(client, options.Target, cancellationToken).ConfigureAwait(false);
        if (options.Key.Kind == SyncKeyKind.CustomAttribute && schema.CustomAttributesKnown && schema.Find("custom." + options.Key.Attribute) is null)
        {
            var suggestions = schema.Suggest(options.Key.Attribute!);
            throw new MappingException($"-SyncKey '{options.Key.Attribute}' is not a custom attribute of {options.Target.DisplayName}" +
                (suggestions.Count > 0 ? $". Did you mean {string.Join(", ", suggestions.Select(s => "'" + s + "'"))}?" : "."));
        }
        return new UpsertRun(client, options, new RecordMapper(schema, options.Key, mapping, skipNull), state, cancellationToken);
    }

    public UpsertSummary Summary { get; }

    public IReadOnlyCollection<string> UnmappedColumns => _mapper.UnmappedColumns;

    /// <summary>Set when Kustomer refused the key itself (401/403): later rows fail without a request.</summary>
    public string? FatalError => _fatal;
    public string? FatalErrorId => _fatalErrorId;

    public int InFlight => Volatile.Read(ref _inFlight);

    public long Submitted => Interlocked.Read(ref _row);

    /// <summary>Takes a row. Blocks while the throttle limit is reached; never waits on the caller to drain results.</summary>
    public void Submit(string[] names, object?[] values, object? source)
    {
        var input = new InputRecord(Interlocked.Increment(ref _row), names, values, source);
        var outcome = _mapper.Map(input);
        if (!outcome.IsValid)
        {
            if (outcome.Key is not null && !_seenKeys.ContainsKey(outcome.Key)) _seenKeys[outcome.Key] = input.Row;
            Enqueue(Invalid(input, outcome.Key, outcome.Field, outcome.Key is null ? "KustomerSync.MissingKey" : "KustomerSync.InvalidValue", outcome.Error!));
            return;
        }
        var record = outcome.Record!;
        if (_seenKeys.TryGetValue(record.Key, out var firstRow))
        {
            Enqueue(Invalid(input, record.Key, _options.Key.FieldPath, "KustomerSync.DuplicateKey",
                $"Row {input.Row}: the sync key {_options.Key.FieldPath} '{record.Key}' was already used by row {firstRow} of this run" +
                (_options.Key.Kind == SyncKeyKind.Email ? " (emails are compared without regard to case)." : ".")));
            return;
        }
        _seenKeys[record.Key] = input.Row;

        if (_fatal is not null)
        {
            Enqueue(new UpsertResult { Row = input.Row, Object = Summary.Object, Key = record.Key, Status = UpsertStatus.Failed, ErrorId = _fatalErrorId, Message = _fatal, InputObject = source });
            return;
        }

        var hash = PayloadHash.Compute(record.Payload);
        string? knownId = null;
        if (_state is not null)
        {
            knownId = _state.KnownKustomerId(record.Key);
            if (_state.IsUnchanged(record.Key, hash))
            {
                Enqueue(new UpsertResult { Row = input.Row, Object = Summary.Object, Key = record.Key, Status = UpsertStatus.Unchanged, KustomerId = knownId, InputObject = source });
                return;
            }
        }

        _slots.Wait(_cancellationToken);
        Interlocked.Increment(ref _inFlight);
        _ = Task.Run(() => RunOneAsync(record, knownId, hash));
    }

    /// <summary>Takes one finished result, counting it into the summary.</summary>
    public bool TryTake(out UpsertResult result)
    {
        if (!_results.TryDequeue(out result!)) return false;
        Summary.Count(result.Status);
        return true;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a result to arrive; false when none came.</summary>
    public bool WaitForResult(TimeSpan timeout) => _resultSignal.Wait(timeout);

    /// <summary>True when no write is in flight and every result has been taken.</summary>
    public bool IsDrained => InFlight == 0 && _results.IsEmpty;

    /// <summary>Keys the state store knew that this run's input no longer has (with ReportKeysLeft), after <see cref="Finish"/>.</summary>
    public IReadOnlyList<string> KeysLeft { get; private set; } = Array.Empty<string>();

    /// <summary>Fills in the request figures and the elapsed time, and closes the run in the run history.</summary>
    public UpsertSummary Finish(bool cancelled)
    {
        Summary.Requests = _client.Requests - _requestsAtStart;
        Summary.RateLimited = _client.RateLimited - _rateLimitedAtStart;
        Summary.Retries = _client.Retries - _retriesAtStart;
        Summary.Cancelled = cancelled;
        Summary.Elapsed = _watch.Elapsed;
        if (_state is not null)
        {
            if (_reportKeysLeft && !cancelled)
            {
                KeysLeft = _state.KeysNotSeen(_seenKeys.Keys, DateTime.UtcNow, record: !_options.WhatIf);
                Summary.KeysLeft = KeysLeft.Count;
            }
            _state.FinishRun(_runId, Summary, SyncRunInfo.StatusFor(Summary, _fatal is not null), DateTime.UtcNow, _fatal, Summary.KeysLeft);
        }
        return Summary;
    }

    public void Dispose()
    {
        _slots.Dispose();
        _resultSignal.Dispose();
    }

    private async Task RunOneAsync(MappedRecord record, string? knownId, PayloadHash hash)
    {
        UpsertResult result;
        try
        {
            result = await _executor.ExecuteAsync(record, knownId, _cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            result = new UpsertResult { Row = record.Input.Row, Object = Summary.Object, Key = record.Key, Status = UpsertStatus.Failed,
                ErrorId = "KustomerSync.Cancelled", Message = "The run was stopped before Kustomer confirmed this row.", InputObject = record.Input.Source };
        }
        catch (Exception ex)
        {
            result = new UpsertResult { Row = record.Input.Row, Object = Summary.Object, Key = record.Key, Status = UpsertStatus.Failed,
                ErrorId = "KustomerSync.UnexpectedError", Message = _client.Redact(ex.Message), InputObject = record.Input.Source };
        }
        if (result.ErrorId is "KustomerSync.AuthenticationFailed" or "KustomerSync.MissingRole" && _fatal is null)
        {
            _fatalErrorId = result.ErrorId;
            _fatal = result.ErrorId == "KustomerSync.AuthenticationFailed"
                ? $"Kustomer refused the API key: {result.Message}. Check the key and run Connect-KustomerDestination again."
                : $"The API key lacks a role this sync needs: {result.Message}. Test-KustomerConnection lists the roles it holds and lacks.";
        }
        if (_state is not null && !_options.WhatIf)
        {
            if (result.Status is UpsertStatus.Created or UpsertStatus.Updated) _state.Confirm(record.Key, result.KustomerId!, hash, DateTime.UtcNow);
            else if (result.Status == UpsertStatus.Failed) _state.Fail(record.Key, result.Message ?? result.ErrorId ?? "failed", result.KustomerId);
        }
        Enqueue(result);
        Interlocked.Decrement(ref _inFlight);
        _slots.Release();
    }

    private void Enqueue(UpsertResult result)
    {
        _state?.RecordOutcome(_runId, result);
        _results.Enqueue(result);
        _resultSignal.Release();
    }

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
