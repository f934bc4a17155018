using System.Management.Automation;
using KustomerSync.Cmdlets.Session;

namespace KustomerSync.Cmdlets;

/// <summary>Lists the Kustomer destinations registered in this session.</summary>
[Cmdlet(VerbsCommon.Get, "KustomerDestination", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Get-KustomerDestination.md")]
[OutputType(typeof(KustomerDestination))]
public sealed class GetKustomerDestinationCommand : KustomerCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.DestinationNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter]
    public SwitchParameter Default { get; set; }

    protected override void EndProcessing()
    {
        var patterns = (Name ?? new[] { "*" }).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var destination in DestinationRegistry.Current.All)
        {
            if (Default && !destination.IsDefault) continue;
            if (patterns.Any(p => p.IsMatch(destination.Name))) WriteObject(destination);
        }
    }
}
