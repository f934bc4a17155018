using KustomerSync.Engine.Runs.Guards;

namespace KustomerSync.Engine.Tests;

/// <summary>The guards against a broken source, judged on planned figures alone.</summary>
public class RunGuardTests
{
    private static IReadOnlyList<GuardTrip> Judge(PlanFigures plan, GuardSettings? settings = null) => RunGuards.Evaluate(plan, settings ?? GuardSettings.Default);

    [Fact]
    public void An_empty_full_source_is_refused_once_the_sync_has_synced_rows_and_an_empty_incremental_one_is_not()
    {
        var trip = Assert.Single(Judge(new PlanFigures { Rows = 0, LastSuccessfulRows = 12_345, KnownRecords = 12_345, FullSource = true }));

        Assert.Equal(GuardKind.EmptySource, trip.Guard);
        Assert.Contains("no rows, while the sync knows 12,345 records and its last successful run read 12,345 rows", trip.Message);
        Assert.Empty(Judge(new PlanFigures { Rows = 0, FullSource = true }));
        Assert.Empty(Judge(new PlanFigures { Rows = 0, KnownRecords = 10, LastSuccessfulRows = 10 }));
        Assert.Empty(Judge(new PlanFigures { Rows = 0, KnownRecords = 10, FullSource = true }, GuardSettings.Default with { RefuseEmptySource = false }));
    }

    [Fact]
    public void A_full_source_under_half_of_the_last_run_is_refused_and_an_incremental_one_is_not()
    {
        var plan = new PlanFigures { Rows = 4_000, LastSuccessfulRows = 10_000, KnownRecords = 10_000, FullSource = true };

        var trip = Assert.Single(Judge(plan));
        Assert.Equal(GuardKind.SourceShrank, trip.Guard);
        Assert.Contains("4,000 rows, 40 % of the 10,000", trip.Message);
        Assert.Empty(Judge(plan with { Rows = 5_000 }));
        Assert.Empty(Judge(plan with { FullSource = false }));
        Assert.Empty(Judge(plan, GuardSettings.Default with { MinSourceShare = null }));
    }

    [Fact]
    public void Changing_more_than_a_quarter_of_the_known_records_is_refused()
    {
        var plan = new PlanFigures { Rows = 1_000, KnownRecords = 1_000, Changes = 251 };

        Assert.Equal(GuardKind.TooManyChanges, Assert.Single(Judge(plan)).Guard);
        Assert.Empty(Judge(plan with { Changes = 250 }));
        Assert.Empty(Judge(plan with { KnownRecords = 99, Changes = 99 }));
        Assert.Empty(Judge(plan, GuardSettings.Default with { MaxChangeShare = 0.5 }));
    }

    [Fact]
    public void Clearing_a_field_on_more_than_a_quarter_of_the_records_that_had_it_is_refused_naming_the_field()
    {
        var plan = new PlanFigures
        {
            Rows = 1_000,
            KnownRecords = 1_000,
            Changes = 10,
            Fields = new Dictionary<string, FieldClearing>
            {
                ["custom.tierStr"] = new(HadValue: 800, Cleared: 790),
                ["phone"] = new(HadValue: 500, Cleared: 3),
            },
        };

        var trip = Assert.Single(Judge(plan with { Changes = 200 }));
        Assert.Equal(GuardKind.FieldCleared, trip.Guard);
        Assert.Contains("clear custom.tierStr on 790 of the 800 records that had a value in it (99 %", trip.Message);
        Assert.Empty(Judge(plan, GuardSettings.Default with { MaxClearShare = null }));
    }
}
