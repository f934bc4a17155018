using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.Faults;

/// <summary>
/// Decides which requests fail. Draws come from one seeded generator (deterministic for a given
/// <c>--seed</c> and request order). Kinds: 5xx before processing (rate), lost creates (rate),
/// and "fail the next N requests with status S" armed through <c>POST /_emulator/faults</c>.
/// </summary>
public sealed class FaultInjector(LiveOptions options)
{
    private static readonly int[] BeforeStatuses = [500, 502, 503, 504];
    private static readonly int[] LostCreateStatuses = [500, 502, 504];

    private readonly Lock _lock = new();
    private Random _random = Create(options.Current.Seed);
    private int _failNext;
    private int _failNextStatus = 503;

    public long Injected5xx;
    public long InjectedLostCreates;
    public long InjectedFailNext;

    private static Random Create(int? seed) => seed is int s ? new Random(s) : new Random();

    /// <summary>The status to fail this request with before processing, or null.</summary>
    public int? BeforeProcessing()
    {
        var rate = options.Current.Fault5xxRate;
        lock (_lock)
        {
            if (_failNext > 0)
            {
                _failNext--;
                Interlocked.Increment(ref InjectedFailNext);
                return _failNextStatus;
            }
            if (rate > 0 && _random.NextDouble() < rate)
            {
                Interlocked.Increment(ref Injected5xx);
                return BeforeStatuses[_random.Next(BeforeStatuses.Length)];
            }
        }
        return null;
    }

    /// <summary>After a create was committed: the status to answer instead of 201, or null.</summary>
    public int? AfterCreate()
    {
        var rate = options.Current.FaultLostCreateRate;
        if (rate <= 0) return null;
        lock (_lock)
        {
            if (_random.NextDouble() >= rate) return null;
            Interlocked.Increment(ref InjectedLostCreates);
            return LostCreateStatuses[_random.Next(LostCreateStatuses.Length)];
        }
    }

    public void FailNext(int count, int status)
    {
        lock (_lock) { _failNext = count; _failNextStatus = status; }
    }

    public int PendingFailNext { get { lock (_lock) return _failNext; } }

    /// <summary>Clears counters and pending failures and re-seeds the generator.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _random = Create(options.Current.Seed);
            _failNext = 0;
            Interlocked.Exchange(ref Injected5xx, 0);
            Interlocked.Exchange(ref InjectedLostCreates, 0);
            Interlocked.Exchange(ref InjectedFailNext, 0);
        }
    }
}
