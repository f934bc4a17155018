using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>
/// State.Watermark = 'AdvanceAndRetry': '$LastRunStart' moves on to each run's start even when rows were rejected, so
/// the rows that failed at Kustomer are kept in the state store and sent again by the next runs, up to State.RetryRuns
/// runs. The source's row wins: a key the source delivers again is not sent from the store. Invalid rows are not kept
/// (bad source data: fixing it changes the row, and the query selects it again). Used on the run's thread only.
/// </summary>
internal sealed class FailedRowRetry
{
    private readonly SyncState _state;
    private readonly int _maxRuns;
    private readonly IReadOnlyList<KeptRow> _kept;
    private readonly Dictionary<long, (string[] Names, object?[] Values, KeptRow? From)> _inFlight = new();
    private readonly Dictionary<string, KeptRow> _keep = new(StringComparer.Ordinal);
    private readonly HashSet<string> _drop = new(StringComparer.Ordinal);
    private readonly List<(long Row, string Key, string Message)> _givenUp = new();

    private FailedRowRetry(SyncState state, int maxRuns, IReadOnlyList<KeptRow> kept)
    {
        _state = state;
        _maxRuns = maxRuns;
        _kept = kept;
    }

    public static FailedRowRetry Load(SyncState state, int maxRuns) => new(state, maxRuns, KeptRows.Load(state));

    /// <summary>Notes a row about to be submitted as row number <paramref name="row"/> (its result may come out at once), to keep it if it fails.</summary>
    public void Submitting(long row, string[] names, object?[] values, KeptRow? from = null) => _inFlight[row] = (names, values, from);

    /// <summary>Passes every result on to <paramref name="observer"/> after noting it.</summary>
    public IDefinitionRunObserver Watch(IDefinitionRunObserver observer) => new Watcher(this, observer);

    /// <summary>After the source's last row: submits the kept rows whose key the source did not deliver (the source's row wins).</summary>
    public void SendKeptRows(UpsertSession session, Func<string[], object?[], object?>? makeSourceObject, Action<string> verbose)
    {
        if (_kept.Count == 0) return;
        var due = _kept.Where(k => !session.Run.HasSeen(k.Key)).ToList();
        if (due.Count == 0) return;
        verbose($"Sending again {due.Count:N0} rows that failed at Kustomer in earlier runs (kept in the state store).");
        foreach (var kept in due)
        {
            Submitting(session.Run.Submitted + 1, kept.Names, kept.Values, kept);
            session.Submit(kept.Names, kept.Values, makeSourceObject?.Invoke(kept.Names, kept.Values));
        }
    }

    /// <summary>
    /// Writes what this run learned (rows to keep, rows done with) and marks the run as having kept its failed rows;
    /// returns a warning about the rows given up, or null.
    /// </summary>
    public string? Save(long runId)
    {
        KeptRows.Save(_state, runId, _drop, _keep.Values, _givenUp.Select(g => (g.Row, g.Message)));
        if (_givenUp.Count == 0) return null;
        var keys = string.Join(", ", _givenUp.Take(20).Select(g => g.Key)) + (_givenUp.Count > 20 ? ", ..." : "");
        return $"{_givenUp.Count:N0} rows failed at Kustomer again after being sent again in {_maxRuns} runs and are given up: {keys}. " +
            "Their errors are in this run's history; each is sent again only when the source delivers it again.";
    }

    private void Note(UpsertResult result)
    {
        if (!_inFlight.TryGetValue(result.Row, out var sent)) return;
        _inFlight.Remove(result.Row);
        if (sent.From is { } from) _drop.Add(from.Key);
        if (result.Key is null) return;
        var key = _state.Stored(result.Key);
        if (result.Status != UpsertStatus.Failed)
        {
            // Confirmed, unchanged, or Invalid (bad source data, not kept): nothing of this key is to be sent again.
            _keep.Remove(key);
            _drop.Add(key);
            return;
        }
        // Only Kustomer's verdict on the row counts as a try: not an outage, a stop or a refused key.
        var tried = result.ErrorId is not (ErrorIds.ConnectionFailed or ErrorIds.NotAttempted or ErrorIds.OutcomeUnknown or
            ErrorIds.Cancelled or ErrorIds.AuthenticationFailed or ErrorIds.MissingRole);
        var retried = sent.From is null ? 0 : sent.From.RetriedRuns + (tried ? 1 : 0);
        if (retried >= _maxRuns)
        {
            _keep.Remove(key);
            _drop.Add(key);
            _givenUp.Add((result.Row, key, $"{result.Message} Given up after being sent again in {retried} runs: sent again only when the source delivers the row again."));
            return;
        }
        _keep[key] = new KeptRow(key, sent.Names, sent.Values, retried);
    }

    private sealed class Watcher(FailedRowRetry retry, IDefinitionRunObserver inner) : IDefinitionRunObserver
    {
        public void Result(UpsertResult result)
        {
            retry.Note(result);
            inner.Result(result);
        }

        public void Progress(RunProgress progress) => inner.Progress(progress);
        public void Warning(string message) => inner.Warning(message);
        public void Verbose(string message) => inner.Verbose(message);
    }
}
