using System.Management.Automation;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs.Definitions;
using KustomerSync.Engine.Runs.Guards;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets.Runs;

/// <summary>Invoke-KustomerUpsert's parameters as what the engine takes; a wrong one ends the cmdlet with an error that names it.</summary>
internal static class UpsertParameters
{
    public static UpsertOptions Options(InvokeKustomerUpsertCommand cmdlet)
    {
        try
        {
            var target = KustomerObject.Parse(cmdlet.Object);
            return new UpsertOptions(target, RecordKey.Parse(cmdlet.SyncKey, target))
            {
                Behavior = cmdlet.Behavior,
                ThrottleLimit = cmdlet.ThrottleLimit,
                AllowBulk = !cmdlet.NoBulk,
                CreateOnSearchMiss = cmdlet.CreateOnSearchMiss,
                Backfill = cmdlet.Backfill,
                BudgetShare = cmdlet.BudgetShare,
                MaxRequestsPerMinute = cmdlet.MaxRequestsPerMinute > 0 ? cmdlet.MaxRequestsPerMinute : null,
            };
        }
        catch (ArgumentException ex)
        {
            throw cmdlet.Terminate(cmdlet.ToErrorRecord(ex, cmdlet.Object));
        }
    }

    public static IReadOnlyList<MappingRule> Rules(InvokeKustomerUpsertCommand cmdlet)
    {
        try
        {
            return MappingTable.Rules(cmdlet.Mapping);
        }
        catch (ArgumentException ex)
        {
            throw cmdlet.Terminate(new ErrorRecord(ex, ErrorIds.InvalidMapping, ErrorCategory.InvalidArgument, cmdlet.Mapping));
        }
    }

    /// <summary>The guards against a broken source from -Guards (their defaults without it); null with -Force.</summary>
    public static GuardSettings? Guards(InvokeKustomerUpsertCommand cmdlet)
    {
        if (cmdlet.Force) return null;
        if (cmdlet.Guards is null) return GuardSettings.Default;
        try
        {
            return SyncDefinitionParser.ParseGuardSettings(cmdlet.Guards);
        }
        catch (ArgumentException ex)
        {
            throw cmdlet.Terminate(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, cmdlet.Guards));
        }
    }

    /// <summary>The state store of -StatePath or -StateConnectionString; null without state, which -FullSync, -ReportKeysLeft and -SyncName need.</summary>
    /// <exception cref="StateException">The store's settings are not valid.</exception>
    public static IStateStore? StateStore(InvokeKustomerUpsertCommand cmdlet, bool whatIf) =>
        new StateParameters(cmdlet.StatePath, cmdlet.StateConnectionString, cmdlet.StateProvider)
            .Store(cmdlet, whatIf, cmdlet.FullSync || cmdlet.ReportKeysLeft || cmdlet.SyncName is not null ? "-FullSync, -ReportKeysLeft and -SyncName" : null);
}
