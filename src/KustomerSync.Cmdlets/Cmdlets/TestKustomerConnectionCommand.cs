using System.Management.Automation;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Cmdlets;

/// <summary>Checks a destination's API key: valid or not, roles held, what it can sync, latency, rate budget.</summary>
[Cmdlet(VerbsDiagnostic.Test, "KustomerConnection", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Test-KustomerConnection.md")]
[OutputType(typeof(ConnectionTestResult), typeof(bool))]
public sealed class TestKustomerConnectionCommand : KustomerCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(Completion.DestinationNameCompleter))]
    public string? Destination { get; set; }

    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        var (destination, client) = ResolveDestination(Destination);
        try
        {
            var result = Await(ConnectionTester.TestAsync(client, destination.Name, Cancellation));
            if (Quiet) WriteObject(result.Objects.Any(o => o.CanSync));
            else WriteObject(result);
        }
        catch (KustomerException ex)
        {
            if (Quiet)
            {
                Narrate(ex.Message);
                WriteObject(false);
                return;
            }
            WriteError(ToErrorRecord(ex, destination.Name));
        }
    }
}
