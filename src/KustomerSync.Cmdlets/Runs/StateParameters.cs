using System.Management.Automation;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.State;

namespace KustomerSync.Cmdlets.Runs;

/// <summary>A cmdlet's state parameters, -StatePath (a SQLite file) or -StateConnectionString with -StateProvider, as the store they name.</summary>
internal sealed record StateParameters(string? Path, string? ConnectionString, string Provider)
{
    /// <summary>
    /// The store named; null when none is, which ends the cmdlet if <paramref name="neededBy"/> (the parameters given
    /// that need a store) is set. With -WhatIf a state file that does not exist yet is neither read nor created.
    /// </summary>
    /// <exception cref="StateException">The store's settings are not valid.</exception>
    public IStateStore? Store(KustomerCmdlet cmdlet, bool whatIf, string? neededBy)
    {
        if (Path is not null && ConnectionString is not null)
            throw cmdlet.Terminate(new ErrorRecord(new ArgumentException("Give -StatePath (a SQLite file) or -StateConnectionString with -StateProvider, not both."),
                ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Path));
        if (Path is null && ConnectionString is null)
        {
            if (neededBy is not null)
                throw cmdlet.Terminate(new ErrorRecord(new ArgumentException($"{neededBy} need a state store: add -StatePath <file> or -StateConnectionString."),
                    ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
            return null;
        }
        if (Path is null) return StateStores.Create(StateStores.ParseProvider(Provider), ConnectionString!);
        var path = cmdlet.GetUnresolvedProviderPathFromPSPath(Path);
        if (whatIf && !File.Exists(path))
        {
            // -WhatIf changes nothing, not even by creating a state file: plan as a first run would.
            cmdlet.Narrate($"The state file {path} does not exist yet; -WhatIf plans without it and does not create it.");
            return null;
        }
        return StateStores.Sqlite(path);
    }
}
