using System.Collections.Concurrent;
using System.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// One request budget per Kustomer org, shared by every request of the process. Kustomer counts requests in a
/// fixed window and reports what is left in x-ratelimit-* headers. The gate lets the first half of a window's
/// budget go at once (small runs stay snappy) and spreads the rest evenly over the time left, so 429s stay rare;
/// after a 429 it holds every sender until the window resets. When a window is over, one request probes the new
/// one before the others follow, since reset figures are only accurate to the second.
/// </summary>
public sealed class RateGate
{
    private static readonly ConcurrentDictionary<string, RateGate> Gates = new(StringComparer.OrdinalIgnoreCase);
    private static readonly long Margin = TimeSpan.FromMilliseconds(50).Ticks;
    private static readonly long StaleTolerance = TimeSpan.FromSeconds(1).Ticks;

    private readonly object _sync = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int? _limit;
    private int _remaining;
    private int _unreported;
    private long _windowEnds;
    private long _previousWindowEnds;
    private long _nextSlot;
    private bool _probing;

    /// <summary>The gate for a budget (an org's API root, or that root plus "#search").</summary>
    public static RateGate For(string budget) => Gates.GetOrAdd(budget, _ => new RateGate());

    public int? Limit { get { lock (_sync) return _limit; } }

    public int? Remaining { get { lock (_sync) return _limit is null ? null : Math.Max(0, _remaining - _unreported); } }

    /// <summary>Waits until one more request may be sent within the budget.</summary>
    public async Task WaitTurnAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            long wait;
            var reserved = false;
            lock (_sync)
            {
                var now = _clock.Elapsed.Ticks;
                if (_limit is null || _limit == 0 && now >= _windowEnds)
                {
                    if (!_probing || now >= _windowEnds + TimeSpan.FromSeconds(5).Ticks)
                    {
                        _probing = true;
                        _unreported++;
                        return;
                    }
                    wait = TimeSpan.FromMilliseconds(5).Ticks;
                }
                else if (now >= _windowEnds)
                {
                    if (!_probing)
                    {
                        // Requests still in flight may land in the new window: they stay counted until they answer.
                        _probing = true;
                        _previousWindowEnds = _windowEnds;
                        _unreported++;
                        _remaining = _limit.Value;
                        return;
                    }
                    wait = TimeSpan.FromMilliseconds(5).Ticks;
                }
                else
                {
                    var left = _remaining - _unreported;
                    if (left <= 0)
                    {
                        wait = _windowEnds - now;
                    }
                    else if (left * 2 > _limit.Value)
                    {
                        _unreported++;
                        return;
                    }
                    else
                    {
                        var slot = Math.Max(now, _nextSlot);
                        _nextSlot = slot + (_windowEnds - slot) / left;
                        _unreported++;
                        wait = slot - now;
                        reserved = true;
                        if (wait <= 0) return;
                    }
                }
            }
            await Task.Delay(TimeSpan.FromTicks(Math.Min(wait, TimeSpan.FromMinutes(2).Ticks)), cancellationToken).ConfigureAwait(false);
            if (reserved) return;
        }
    }

    /// <summary>Takes in what an answer's headers said about the budget; every sent request reports once.</summary>
    public void Report(int? limit, int? remaining, double? resetSeconds)
    {
        lock (_sync)
        {
            _unreported = Math.Max(0, _unreported - 1);
            if (limit is null || remaining is null)
            {
                // No budget headers (limits off, or a proxy that strips them): nothing to pace by.
                _probing = false;
                return;
            }
            var now = _clock.Elapsed.Ticks;
            var windowEnds = now + TimeSpan.FromSeconds(resetSeconds ?? 60).Ticks + Margin;
            // An answer to a request sent before the window turned over speaks of the old window: it must not be
            // taken for the new one's figures (a small "remaining" and an end that has passed would mislead).
            if (_previousWindowEnds > 0 && windowEnds <= _previousWindowEnds + StaleTolerance) return;
            var newWindow = _probing || _limit is null || now >= _windowEnds;
            _probing = false;
            _limit = limit;
            // Answers arrive out of order under concurrency: within a window the smallest figure is the truest.
            if (newWindow || remaining.Value < _remaining) _remaining = remaining.Value;
            if (newWindow || windowEnds < _windowEnds) _windowEnds = windowEnds;
        }
    }

    /// <summary>A 429: nobody sends until the window resets.</summary>
    public void ReportExhausted(double? resetSeconds)
    {
        lock (_sync)
        {
            _unreported = Math.Max(0, _unreported - 1);
            _probing = false;
            _limit ??= 0;
            _remaining = 0;
            _previousWindowEnds = 0;
            _windowEnds = _clock.Elapsed.Ticks + TimeSpan.FromSeconds(Math.Max(0.1, resetSeconds ?? 1)).Ticks + Margin;
        }
    }

    /// <summary>A request that got no answer at all (network failure) still counts as reported.</summary>
    public void ReportNoAnswer()
    {
        lock (_sync)
        {
            _unreported = Math.Max(0, _unreported - 1);
            _probing = false;
        }
    }
}
