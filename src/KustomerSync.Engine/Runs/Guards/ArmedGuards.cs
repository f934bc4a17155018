using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Runs.Guards;

/// <summary>The guards of one run, with what the state knew when it started: whether any can trip, and the verdict on the planned rows.</summary>
internal sealed class ArmedGuards
{
    private readonly GuardSettings _settings;
    private readonly bool _fullSource;
    private readonly KnownRecords _known;
    private readonly long? _lastSuccessfulRows;

    public ArmedGuards(GuardSettings settings, bool fullSource, KnownRecords known, long? lastSuccessfulRows)
    {
        _settings = settings;
        _fullSource = fullSource;
        _known = known;
        _lastSuccessfulRows = lastSuccessfulRows;
    }

    /// <summary>
    /// False when no guard could trip whatever the source returns (a first run, a small sync, every guard off): the
    /// run then streams its writes as they come instead of holding them for the verdict.
    /// </summary>
    public bool CanTrip
    {
        get
        {
            var synced = (_lastSuccessfulRows ?? 0) > 0 || _known.Records > 0;
            var enough = _settings.MinRecordsToJudge;
            return _fullSource && synced && (_settings.RefuseEmptySource || _settings.MinSourceShare is not null && _lastSuccessfulRows >= enough)
                || _settings.MaxChangeShare is not null && _known.Records >= enough
                || _settings.MaxClearShare is not null && _known.HadValue.Values.Any(had => had >= enough);
        }
    }

    public IReadOnlyList<GuardTrip> Evaluate(long rows, PlanTally tally) => RunGuards.Evaluate(new PlanFigures
    {
        Rows = rows,
        LastSuccessfulRows = _lastSuccessfulRows,
        FullSource = _fullSource,
        KnownRecords = _known.Records,
        Changes = tally.Changes,
        Fields = tally.Cleared.ToDictionary(f => f.Key, f => new FieldClearing(_known.HadValue.TryGetValue(f.Key, out var had) ? had : 0, f.Value), StringComparer.Ordinal),
    }, _settings);
}
