using System.Globalization;

namespace KustomerSync.Engine.Runs.Guards;

/// <summary>
/// Judges a planned run against the guards. Pure: figures in, trips out. A trip's message names the guard, the
/// figures and the setting that changes it; running anyway (force) is the caller's to offer.
/// </summary>
public static class RunGuards
{
    public static IReadOnlyList<GuardTrip> Evaluate(PlanFigures plan, GuardSettings settings)
    {
        var trips = new List<GuardTrip>();
        var last = plan.LastSuccessfulRows ?? 0;
        if (settings.RefuseEmptySource && plan.FullSource && plan.Rows == 0 && (last > 0 || plan.KnownRecords > 0))
            trips.Add(new GuardTrip(GuardKind.EmptySource,
                $"The source returned no rows, while the sync knows {plan.KnownRecords:N0} records" +
                (last > 0 ? $" and its last successful run read {last:N0} rows" : "") +
                ". An empty result is more often a broken source (a wrong table, a failed load upstream) than an empty table."));

        if (settings.MinSourceShare is { } minShare && plan.FullSource && plan.Rows > 0 && last >= settings.MinRecordsToJudge && plan.Rows < last * minShare)
            trips.Add(new GuardTrip(GuardKind.SourceShrank,
                $"The source returned {plan.Rows:N0} rows, {Percent((double)plan.Rows / last)} of the {last:N0} its last successful run read " +
                $"(the guard refuses under {Percent(minShare)}: the setting MinSourceShare)."));

        if (settings.MaxChangeShare is { } maxChange && plan.KnownRecords >= settings.MinRecordsToJudge && plan.Changes > plan.KnownRecords * maxChange)
            trips.Add(new GuardTrip(GuardKind.TooManyChanges,
                $"The run would change {plan.Changes:N0} of the {plan.KnownRecords:N0} records the sync knows ({Percent((double)plan.Changes / plan.KnownRecords)}; " +
                $"the guard refuses over {Percent(maxChange)}: the setting MaxChangeShare)."));

        if (settings.MaxClearShare is { } maxClear)
        {
            foreach (var field in plan.Fields.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var (had, cleared) = (field.Value.HadValue, field.Value.Cleared);
                if (had < settings.MinRecordsToJudge || cleared <= had * maxClear) continue;
                trips.Add(new GuardTrip(GuardKind.FieldCleared,
                    $"The run would clear {field.Key} on {cleared:N0} of the {had:N0} records that had a value in it ({Percent((double)cleared / had)}; " +
                    $"the guard refuses over {Percent(maxClear)}: the setting MaxClearShare). A join that stopped matching often looks like this."));
            }
        }
        return trips;
    }

    private static string Percent(double share) => (share * 100).ToString(share * 100 < 10 ? "0.#" : "0", CultureInfo.InvariantCulture) + " %";
}
