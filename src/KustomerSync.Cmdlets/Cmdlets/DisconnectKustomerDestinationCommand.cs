using System.Management.Automation;
using KustomerSync.Cmdlets.Session;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Cmdlets;

/// <summary>Removes registered Kustomer destinations from this session and forgets their keys.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "KustomerDestination", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Disconnect-KustomerDestination.md", DefaultParameterSetName = "Name", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class DisconnectKustomerDestinationCommand : KustomerCmdlet
{
    [Parameter(Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.DestinationNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "All")]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        var registry = DestinationRegistry.Current;
        var names = All ? registry.All.Select(d => d.Name).ToArray()
            : Name ?? registry.All.Where(d => d.IsDefault).Select(d => d.Name).ToArray();
        foreach (var name in names)
        {
            if (!ShouldProcess(name, "Disconnect Kustomer destination")) continue;
            if (!registry.Remove(name))
                WriteError(new ErrorRecord(new ItemNotFoundException($"No Kustomer destination named '{name}' is connected."),
                    ErrorIds.NotConnected, ErrorCategory.ObjectNotFound, name));
        }
    }
}
