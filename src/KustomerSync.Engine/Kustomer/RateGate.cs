using System.Collections.Concurrent;

namespace KustomerSync.Engine.Kustomer;

/// <summary>
/// One request budget per Kustomer org, shared by every request of the process. Kustomer counts requests in a
/// fixed window and reports what is left in x-ratelimit-* headers. The gate lets the first half of a window's
/// budget go at once (small runs stay snappy) and spreads the rest evenly over the time left, so 429s stay rare;
/// after a 429 it holds every sender until the window resets. When a window is over, one request probes the new
/// one before the others follow, since reset figures are only accurate to the second.
/// <para>When Kustomer leaves the reset figure out (it may on 200s, §10), a rise in what is left shows a new window, and the
/// shortest time between two rises seen bounds how long a window lasts. That guess only shortens the wait: when it
/// runs out, one request (on a unit of the share kept for it) finds out whether the window turned, and what this process
/// sent in the window is only forgotten once an answer shows the refill. A guess that proves early costs that one
/// request and that window is assumed to last a minute; later ones are guessed from a bound that late-seen refills cannot
/// shorten (from the last request answered in a window to the answer showing the refill after the next). Requests waiting
/// on a window's figures (for room, or for a slot spread over a minute assumed) look again as soon as an answer shows the
/// next window.</para>
/// <para>A budget the server does not report (searches, 100 a minute for API keys, §8) is counted by the gate itself
/// over windows of its own: see <see cref="ForOwnBudget"/>.</para>
/// <para>The org's budget is shared with its agents' apps and other integrations (§10), so a sync takes only a share
/// of it (<see cref="Hold"/>): the gate counts what this process sent in each window and paces to the smallest share
/// any run in progress holds, so that every run's promise to leave room is kept. With no run holding a share (a
/// connection test), the whole reported budget may be used.</para>
/// </summary>
public sealed class RateGate
{
    private static readonly ConcurrentDictionary<(string Budget, TimeProvider Time), RateGate> Gates = new();
    private static readonly long Margin = TimeSpan.FromMilliseconds(50).Ticks;
    private static readonly long StaleTolerance = TimeSpan.FromSeconds(1).Ticks;

    private readonly object _sync = new();
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly TimeSpan? _ownWindow;
    private int? _limit;
    private int _remaining;
    private int _unreported;
    private long _windowEnds;
    private long _previousWindowEnds;
    private long _nextSlot;
    private bool _probing;
    private readonly List<Share> _shares = new();
    private int _sentInWindow;
    private long _windowStarted;
    /// <summary>Requests this process sent in each past window: (when it started, how many), oldest first.</summary>
    private readonly Queue<(long Started, int Sent)> _history = new();
    private const int HistoryWindows = 10_000;
    private long _window;
    private bool _endAssumed;
    /// <summary>The shortest time seen between two refills (0: none seen yet), when Kustomer gives no window's end.</summary>
    private long _learnedWindow;
    /// <summary>When an answer last showed the budget refilled (0: not since the gate last lost track).</summary>
    private long _lastRefill;
    /// <summary>The window's end is a guess from <see cref="_learnedWindow"/>: it shortens the wait, never resets the count.</summary>
    private bool _endGuessed;
    private bool _probeOnGuess;
    /// <summary>
    /// The shortest time from a request answered in one window to the answer that showed the refill after the next: a
    /// window cannot be longer than that, however late the gate saw its refills (0: none seen yet).
    /// </summary>
    private long _boundWindow;
    /// <summary>The latest send answered in the current window, and in the one before it when its refill was seen (0: unknown).</summary>
    private long _lastSentInWindow;
    private long _lastSentBefore;
    /// <summary>A guess proved early: from then on the gate guesses only from <see cref="_boundWindow"/>.</summary>
    private bool _cautious;
    /// <summary>Cancelled when an answer shows a new window, so that requests waiting on the last one's figures look again.</summary>
    private CancellationTokenSource _windowTurned = new();

    /// <summary>A gate of its own (tests); <see cref="For"/> shares one per budget.</summary>
    public RateGate(TimeProvider time)
        : this(time, null, null)
    {
    }

    private RateGate(TimeProvider time, int? ownLimit, TimeSpan? ownWindow)
    {
        _time = time;
        _started = time.GetTimestamp();
        _ownWindow = ownWindow;
        if (ownLimit is { } limit) _limit = _remaining = limit;
    }

    /// <summary>The gate for an org's budget (its API root), shared by every client of the process on that clock.</summary>
    public static RateGate For(string budget, TimeProvider time) => Gates.GetOrAdd((budget, time), _ => new RateGate(time));

    /// <summary>
    /// A gate that counts <paramref name="limit"/> requests per <paramref name="window"/> itself, for a budget whose
    /// answers carry no figures of their own. A window starts with the first request after the last one ended.
    /// </summary>
    public static RateGate ForOwnBudget(string budget, int limit, TimeSpan window, TimeProvider time) =>
        Gates.GetOrAdd((budget, time), _ => new RateGate(time, Math.Max(1, limit), window));

    public int? Limit { get { lock (_sync) return _limit; } }

    /// <summary>
    /// Requests the window has left, as far as the gate knows; a budget of the gate's own whose window has ended has its
    /// whole limit again, though the new window starts only with the next request.
    /// </summary>
    public int? Remaining
    {
        get
        {
            lock (_sync)
                return _limit is null ? null : _ownWindow is not null && Now >= _windowEnds ? _limit : Math.Max(0, _remaining - _unreported);
        }
    }

    private long Now => _time.GetElapsedTime(_started).Ticks;

    /// <summary>
    /// Takes a share of the org's budget for as long as the returned hold is not disposed: at most
    /// <paramref name="fraction"/> of the reported limit, and at most <paramref name="maxPerWindow"/> requests in one
    /// window when given. While holds overlap, the smallest one paces every request of the process.
    /// </summary>
    public Share Hold(double fraction, int? maxPerWindow = null)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "A share of the budget is more than 0 and at most 1.");
        if (maxPerWindow is < 1) throw new ArgumentOutOfRangeException(nameof(maxPerWindow), maxPerWindow, "At least one request a window.");
        lock (_sync)
        {
            var share = new Share(this, fraction, maxPerWindow, Now);
            _shares.Add(share);
            return share;
        }
    }

    /// <summary>Requests a window that <paramref name="fraction"/> of <paramref name="limit"/>, capped at <paramref name="maxPerWindow"/>, allows (at least one).</summary>
    public static int Allowance(int limit, double fraction, int? maxPerWindow) =>
        Math.Max(1, Math.Min(maxPerWindow ?? int.MaxValue, (int)Math.Floor(limit * fraction + 1e-9)));

    /// <summary>The most requests this process sent to the org in one window so far.</summary>
    public int PeakUsed => PeakSince(0);

    /// <summary>Requests this process may send in one window of <paramref name="limit"/> (under the lock).</summary>
    private int Cap(int limit)
    {
        var cap = limit;
        foreach (var share in _shares) cap = Math.Min(cap, share.Allowed(limit));
        return cap;
    }

    /// <summary>A new window began now: what was sent in the last one goes into the history.</summary>
    private void StartWindow(long now)
    {
        if (_windowStarted > 0 || _sentInWindow > 0)
        {
            _history.Enqueue((_windowStarted, _sentInWindow));
            if (_history.Count > HistoryWindows) _history.Dequeue();
        }
        _windowStarted = now;
        // Requests still in flight may land in the new window.
        _sentInWindow = _unreported;
    }

    /// <summary>The most requests this process sent in one window that ran at or after <paramref name="since"/>.</summary>
    private int PeakSince(long since)
    {
        lock (_sync)
        {
            var peak = _sentInWindow;
            var running = 0;
            foreach (var (started, sent) in _history)
            {
                if (started >= since) peak = Math.Max(peak, sent);
                else running = sent;
            }
            // The window that was running when the hold began counts too, unless the current one is it.
            return _windowStarted > since ? Math.Max(peak, running) : peak;
        }
    }

    /// <summary>
    /// Waits until one more request may be sent within the budget. The turn is reported once, with what the answer
    /// said; disposed unreported (a send cancelled or failed on the way) it counts as a request that got no answer.
    /// <paramref name="waiting"/> hears, before the wait starts, each decision to hold this request for the window or
    /// for its paced slot (not the few milliseconds a probe of a new window takes).
    /// </summary>
    public async Task<Turn> AcquireAsync(CancellationToken cancellationToken, Action<RateWait>? waiting = null)
    {
        while (true)
        {
            long wait;
            var reserved = false;
            RateWait? decided = null;
            CancellationToken turned;
            lock (_sync)
            {
                turned = _windowTurned.Token;
                var now = Now;
                if (_ownWindow is { } window && now >= _windowEnds)
                {
                    _window++;
                    _windowEnds = now + window.Ticks;
                    _remaining = _limit!.Value;
                    _nextSlot = now;
                }
                if (_limit is null || _limit == 0 && now >= _windowEnds)
                {
                    if (!_probing || now >= _windowEnds + TimeSpan.FromSeconds(5).Ticks)
                    {
                        _probing = true;
                        _unreported++;
                        _sentInWindow++;
                        return new Turn(this, _window, now);
                    }
                    wait = TimeSpan.FromMilliseconds(5).Ticks;
                }
                else if (now >= _windowEnds && !_endGuessed)
                {
                    if (!_probing)
                    {
                        // Requests still in flight may land in the new window: they stay counted until they answer.
                        _probing = true;
                        _previousWindowEnds = _windowEnds;
                        _unreported++;
                        _remaining = _limit.Value;
                        // An end Kustomer did not give: when the window really turned is unknown.
                        if (_endAssumed) _lastRefill = 0;
                        StartWindow(now);
                        return new Turn(this, _window, now);
                    }
                    wait = TimeSpan.FromMilliseconds(5).Ticks;
                }
                else if (now >= _windowEnds)
                {
                    // A guessed end has passed: one request finds out whether the window turned, on the unit of the share
                    // kept for it, so that a guess that proves early never takes more than the share.
                    if (_probing) wait = TimeSpan.FromMilliseconds(5).Ticks;
                    else if (Cap(_limit.Value) - _sentInWindow > 0)
                    {
                        _probing = _probeOnGuess = true;
                        Take();
                        return new Turn(this, _window, now);
                    }
                    else
                    {
                        GiveUpGuess();
                        wait = 0;
                    }
                }
                else
                {
                    // What the org has left (others' apps spend from it too), and what this process's share has left
                    // (less the unit kept for the probe at a guessed end).
                    var cap = _ownWindow is null ? Cap(_limit.Value) : _limit.Value;
                    var shareLeft = _ownWindow is null ? cap - _sentInWindow - (_endGuessed ? 1 : 0) : int.MaxValue;
                    var orgLeft = _remaining - _unreported;
                    var left = Math.Min(orgLeft, shareLeft);
                    // Held by the share while the org still has requests left: a wait to tell apart from a spent window.
                    RateShare? share = _limit > 0 && shareLeft < orgLeft ? new RateShare(cap, _sentInWindow, Math.Max(0, shareLeft)) : null;
                    if (left <= 0)
                    {
                        wait = _windowEnds - now;
                        decided = new RateWait(_window, true, Math.Max(0, orgLeft), _limit > 0 ? _limit : null, TimeSpan.FromTicks(wait), _endAssumed, share);
                    }
                    else if (left * 2 > cap)
                    {
                        Take();
                        return new Turn(this, _window, now);
                    }
                    else
                    {
                        var slot = Math.Max(now, _nextSlot);
                        _nextSlot = slot + (_windowEnds - slot) / left;
                        Take();
                        wait = slot - now;
                        reserved = true;
                        if (wait <= 0) return new Turn(this, _window, now);
                        decided = new RateWait(_window, false, orgLeft, _limit, TimeSpan.FromTicks(_windowEnds - now), _endAssumed, share);
                    }
                }
            }
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, turned);
            try
            {
                if (decided is { } told) waiting?.Invoke(told);
                await Clock.Delay(_time, TimeSpan.FromTicks(Math.Min(wait, TimeSpan.FromMinutes(2).Ticks)), wake.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (turned.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // A new window began. A wait for the old one's end or slot is over: a request that waits for room looks
                // again, and one on a paced slot goes now, its unit already counted in the new window (it was not yet
                // answered when the window began). Slots spread over a window assumed to last a minute would otherwise
                // hold the workers well into the next one.
            }
            catch when (reserved)
            {
                // Cancelled before it was sent: the slot goes back (a budget of the gate's own keeps the unit spent,
                // since its window may have turned over meanwhile).
                lock (_sync)
                {
                    if (_ownWindow is null) _unreported = Math.Max(0, _unreported - 1);
                    _sentInWindow = Math.Max(0, _sentInWindow - 1);
                }
                throw;
            }
            if (reserved) lock (_sync) return new Turn(this, _window, Now);
        }
    }

    /// <summary>A request leaves: a budget of the gate's own is spent at once, a reported one when the answer says.</summary>
    private void Take()
    {
        _sentInWindow++;
        if (_ownWindow is null) _unreported++;
        else _remaining--;
    }

    /// <summary>Takes in what an answer's headers said about the budget; when they show a new window, requests waiting on the last one look again.</summary>
    private void Report(long sentIn, long sentAt, int? limit, int? remaining, double? resetSeconds)
    {
        CancellationTokenSource? turned = null;
        lock (_sync)
        {
            _unreported = Math.Max(0, _unreported - 1);
            if (_ownWindow is not null) return;
            if (limit is null || remaining is null)
            {
                // No budget headers (limits off, or a proxy that strips them): nothing to pace by.
                _probing = _probeOnGuess = false;
                return;
            }
            var now = Now;
            var windowEnds = resetSeconds is { } reset ? now + TimeSpan.FromSeconds(reset).Ticks + Margin : (long?)null;
            // Sent before the gate saw the current window begin, so its figure may be the old window's: a small one would
            // hide the new budget, and the next true one would then look like another refill. Its unit is counted in the
            // new window already (it was in flight when the window began); taking it off what is left as well would make
            // that next true figure look like a refill just the same.
            if (windowEnds is null && sentIn < _window) return;
            // An answer to a request sent before the window turned over speaks of the old window: it must not be
            // taken for the new one's figures (a small "remaining" and an end that has passed would mislead).
            if (windowEnds is { } ends && _previousWindowEnds > 0 && ends <= _previousWindowEnds + StaleTolerance) return;
            // Without a reset figure (Kustomer may leave it out on 200s, §10) a jump up in what is left means a new window;
            // its end is then unknown: the gate paces as if a minute were left until it has seen how long a window lasts.
            var jumped = windowEnds is null && _limit is not null && remaining.Value > _remaining + Math.Max(1, _limit.Value / 10);
            // A guessed end is no evidence: only a refill the answer shows starts a new window then.
            var guessed = _endGuessed && windowEnds is null;
            var newWindow = guessed ? jumped : _probing || _limit is null || now >= _windowEnds || jumped;
            // A window the gate did not see begin (no probe went out for it, or only one on a guess) begins now for the
            // count of what was sent, this request included.
            if (newWindow && (!_probing || _probeOnGuess) && _limit is not null)
            {
                StartWindow(now);
                _sentInWindow++;
            }
            if (newWindow)
            {
                _window++;
                // Slots of the last window do not carry over: they may have been spread over a minute that was assumed.
                _nextSlot = now;
                (turned, _windowTurned) = (_windowTurned, new CancellationTokenSource());
            }
            var earlyGuess = _probing && _probeOnGuess && !newWindow;
            _probing = _probeOnGuess = false;
            _limit = limit;
            // Answers arrive out of order under concurrency: within a window the smallest figure is the truest.
            if (newWindow || remaining.Value < _remaining) _remaining = remaining.Value;
            if (windowEnds is { } end)
            {
                if (newWindow || end < _windowEnds) (_windowEnds, _endAssumed, _endGuessed) = (end, false, false);
            }
            else if (newWindow)
            {
                // The time between two refills seen is at least a window: the shortest one bounds when this one ends.
                if (jumped && _lastRefill > 0 && !_cautious) _learnedWindow = _learnedWindow > 0 ? Math.Min(_learnedWindow, now - _lastRefill) : now - _lastRefill;
                if (jumped && _lastSentBefore > 0) _boundWindow = _boundWindow > 0 ? Math.Min(_boundWindow, now - _lastSentBefore) : now - _lastSentBefore;
                if (_cautious) _learnedWindow = _boundWindow;
                _lastRefill = jumped ? now : 0;
                _lastSentBefore = jumped ? _lastSentInWindow : 0;
                _lastSentInWindow = sentAt;
                _endGuessed = _learnedWindow > 0;
                (_windowEnds, _endAssumed) = (now + (_endGuessed ? _learnedWindow : TimeSpan.FromMinutes(1).Ticks) + Margin, true);
            }
            else
            {
                _lastSentInWindow = Math.Max(_lastSentInWindow, sentAt);
                if (earlyGuess) GiveUpGuess();
            }
        }
        // Outside the lock: the waits it ends go on at once.
        turned?.Cancel();
    }

    /// <summary>
    /// The learned window proved shorter than Kustomer's (or left no unit to probe it with): this window is assumed to
    /// last a minute from its first answer, and later ones the bound, when it is longer than the guess that failed.
    /// </summary>
    private void GiveUpGuess()
    {
        _learnedWindow = !_cautious && _boundWindow > _learnedWindow ? _boundWindow : 0;
        if (_learnedWindow == 0) _boundWindow = 0;
        _cautious = true;
        _endGuessed = false;
        _windowEnds = _windowStarted + TimeSpan.FromMinutes(1).Ticks + Margin;
    }

    /// <summary>
    /// An answer whose figures are not this budget's (a search answer, for the org budget): the request still spent a
    /// unit, which is counted without taking the figures in.
    /// </summary>
    private void ReportSpent()
    {
        lock (_sync)
        {
            _unreported = Math.Max(0, _unreported - 1);
            _probing = _probeOnGuess = false;
            if (_limit is not null && Now < _windowEnds) _remaining = Math.Max(0, _remaining - 1);
        }
    }

    /// <summary>A 429: nobody sends until the window resets (a budget of the gate's own: for a whole window, unless told longer).</summary>
    private void ReportExhausted(double? resetSeconds)
    {
        lock (_sync)
        {
            _unreported = Math.Max(0, _unreported - 1);
            _probing = _probeOnGuess = false;
            _limit ??= 0;
            _remaining = 0;
            _previousWindowEnds = 0;
            var now = Now;
            // Within a window the hold is that window's; a 429 once it is over (a probe refused) starts a new one.
            if (now >= _windowEnds) _window++;
            var hold = _ownWindow is { } window
                ? Math.Max(window.TotalSeconds, resetSeconds ?? 0)
                : Math.Max(0.1, resetSeconds ?? 1);
            _windowEnds = now + TimeSpan.FromSeconds(hold).Ticks + Margin;
            _endAssumed = _ownWindow is null && resetSeconds is null;
            _endGuessed = false;
            _lastRefill = _lastSentBefore = _lastSentInWindow = 0;
        }
    }

    /// <summary>A request that got no answer at all (network failure, cancelled) still counts as reported.</summary>
    private void ReportNoAnswer()
    {
        lock (_sync)
        {
            _unreported = Math.Max(0, _unreported - 1);
            _probing = _probeOnGuess = false;
        }
    }

    /// <summary>
    /// A run's share of the org's budget, from <see cref="Hold"/> until disposed, and what the process used of the
    /// budget meanwhile.
    /// </summary>
    public sealed class Share : IDisposable
    {
        private readonly RateGate _gate;
        private readonly long _since;
        private int _released;

        internal Share(RateGate gate, double fraction, int? maxPerWindow, long since)
        {
            _gate = gate;
            Fraction = fraction;
            MaxPerWindow = maxPerWindow;
            _since = since;
        }

        public double Fraction { get; }
        public int? MaxPerWindow { get; }

        /// <summary>The org's requests a window as Kustomer last reported them; null while no answer said.</summary>
        public int? Limit => _gate.Limit;

        /// <summary>Requests a window this share allows of the reported limit; null while the limit is not known.</summary>
        public int? Budget => _gate.Limit is { } limit ? Allowed(limit) : null;

        /// <summary>The most requests this process sent to the org in one window since the share was taken.</summary>
        public int PeakUsed => _gate.PeakSince(_since);

        internal int Allowed(int limit) => Allowance(limit, Fraction, MaxPerWindow);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            lock (_gate._sync) _gate._shares.Remove(this);
        }
    }

    /// <summary>
    /// One request's place in the budget, reported exactly once: by what its answer said, or, when it is disposed
    /// unreported, as a request that got no answer. Gates live as long as the process, so a turn left unreported (a
    /// Ctrl+C during a send) would otherwise hold the org's requests, a probe's for good. On a budget of the gate's
    /// own the unit is spent when the turn is handed out, so only a 429 needs reporting there.
    /// </summary>
    public sealed class Turn : IDisposable
    {
        private readonly RateGate _gate;
        private readonly long _window;
        private readonly long _sent;
        private int _reported;

        internal Turn(RateGate gate, long window, long sent)
        {
            _gate = gate;
            _window = window;
            _sent = sent;
        }

        /// <summary>Takes in what the answer's headers said about the budget.</summary>
        public void Report(int? limit, int? remaining, double? resetSeconds)
        {
            if (Claim()) _gate.Report(_window, _sent, limit, remaining, resetSeconds);
        }

        /// <summary>An answer whose figures are not this budget's: the unit is counted, the figures are not taken in.</summary>
        public void ReportSpent()
        {
            if (Claim()) _gate.ReportSpent();
        }

        /// <summary>A 429: nobody sends until the window resets.</summary>
        public void ReportExhausted(double? resetSeconds)
        {
            if (Claim()) _gate.ReportExhausted(resetSeconds);
        }

        /// <summary>No answer came (network failure, timeout).</summary>
        public void ReportNoAnswer()
        {
            if (Claim()) _gate.ReportNoAnswer();
        }

        /// <summary>Reports no answer unless the turn was reported.</summary>
        public void Dispose() => ReportNoAnswer();

        private bool Claim() => Interlocked.Exchange(ref _reported, 1) == 0;
    }
}

/// <summary>
/// A gate's decision to hold a request, with what it knew then. <see cref="Window"/> counts the budget's windows, so
/// that the many requests held in one window can be told as one wait.
/// </summary>
/// <param name="Spent">True: nothing is left (to the org, or to <paramref name="Share"/>), the request waits for the window
/// to reset. False: it waits its paced slot.</param>
/// <param name="Remaining">Requests the org has left in the window, less those on their way.</param>
/// <param name="Limit">The window's budget; null when Kustomer refused a request before saying it.</param>
/// <param name="ResetsIn">Time to the window's end.</param>
/// <param name="EndAssumed">Kustomer gave no end: the gate assumes a minute from the first answer in the window, or, once
/// it has seen two refills, the shortest time between them.</param>
/// <param name="Share">Set when the share of the budget this process keeps to, not the org's budget, holds the request.</param>
public readonly record struct RateWait(long Window, bool Spent, int Remaining, int? Limit, TimeSpan ResetsIn, bool EndAssumed, RateShare? Share);

/// <summary>The share of the org's budget that held a request, in the window it was held in.</summary>
/// <param name="Allowed">Requests a window the share allows (the smallest share of any run in progress).</param>
/// <param name="Used">Requests this process sent in the window.</param>
/// <param name="Left">Requests the share still lets go in the window (a unit kept to check a guessed end of the window
/// is not among them).</param>
public readonly record struct RateShare(int Allowed, int Used, int Left);
