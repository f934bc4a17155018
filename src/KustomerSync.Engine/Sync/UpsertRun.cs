using System.Collections.Concurrent;
using System.Diagnostics;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// One upsert run: rows go in one at a time from the caller's thread (mapped, validated and de-duplicated there),
/// writes run concurrently up to the throttle limit, and results come back out through <see cref="TryTake"/> so the
/// caller can emit them on its own thread. Every submitted row yields exactly one result.
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
    private long _row;
    private int _inFlight;
    private volatile string? _fatal;
    private volatile string? _fatalErrorId;

    private UpsertRun(KustomerClient client, UpsertOptions options, RecordMapper mapper, CancellationToken cancellationToken)
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
    }

    /// <summary>Reads the object's schema and checks the mapping; a MappingException here stops the run before any write.</summary>
    public static async Task<UpsertRun> StartAsync(KustomerClient client, UpsertOptions options, IReadOnlyList<MappingRule> mapping, bool skipNull,
        CancellationToken cancellationToken)
    {
        var schema = await SchemaCatalog.LoadAsync(client, options.Target, cancellationToken).ConfigureAwait(false);
        if (options.Key.Kind == SyncKeyKind.CustomAttribute && schema.CustomAttributesKnown && schema.Find("custom." + options.Key.Attribute) is null)
        {
            var suggestions = schema.Suggest(options.Key.Attribute!);
            throw new MappingException($"-SyncKey '{options.Key.Attribute}' is not a custom attribute of {options.Target.DisplayName}" +
                (suggestions.Count > 0 ? $". Did you mean {string.Join(", ", suggestions.Select(s => "'" + s + "'"))}?" : "."));
        }
        return new UpsertRun(client, options, new RecordMapper(schema, options.Key, mapping, skipNull), cancellationToken);
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

        _slots.Wait(_cancellationToken);
        Interlocked.Increment(ref _inFlight);
        _ = Task.Run(() => RunOneAsync(record));
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

    /// <summary>Fills in the request figures and the elapsed time.</summary>
    public UpsertSummary Finish(bool cancelled)
    {
        Summary.Requests = _client.Requests - _requestsAtStart;
        Summary.RateLimited = _client.RateLimited - _rateLimitedAtStart;
        Summary.Retries = _client.Retries - _retriesAtStart;
        Summary.Cancelled = cancelled;
        Summary.Elapsed = _watch.Elapsed;
        return Summary;
    }

    public void Dispose()
    {
        _slots.Dispose();
        _resultSignal.Dispose();
    }

    private async Task RunOneAsync(MappedRecord record)
    {
        UpsertResult result;
        try
        {
            result = await _executor.ExecuteAsync(record, _cancellationToken).ConfigureAwait(false);
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
        Enqueue(result);
        Interlocked.Decrement(ref _inFlight);
        _slots.Release();
    }

    private void Enqueue(UpsertResult result)
    {
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
