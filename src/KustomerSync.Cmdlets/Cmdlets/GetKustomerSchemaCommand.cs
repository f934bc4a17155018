using System.Management.Automation;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets;

/// <summary>
/// Lists what an org's Kustomer objects hold: the custom attributes of Customer, Company or a klass (system name, path,
/// type from the suffix, display name, enumeration), with -Standard also the standard writable fields; or with -Klasses
/// the klasses of the org. Reads only.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KustomerSchema", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Get-KustomerSchema.md", DefaultParameterSetName = ObjectSet)]
[OutputType(typeof(KustomerAttribute), ParameterSetName = new[] { ObjectSet })]
[OutputType(typeof(KustomerKlass), ParameterSetName = new[] { KlassesSet })]
public sealed class GetKustomerSchemaCommand : KustomerCmdlet
{
    private const string ObjectSet = "Object";
    private const string KlassesSet = "Klasses";

    /// <summary>Customer, Company or kobject.&lt;klass&gt;. Also from the pipeline (the Object property of Get-KustomerSchema -Klasses output).</summary>
    [Parameter(Position = 0, ParameterSetName = ObjectSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ObjectCompleter))]
    public string Object { get; set; } = "Customer";

    /// <summary>Adds the standard writable fields the mapper accepts (name, externalId, email, ...) before the custom attributes.</summary>
    [Parameter(ParameterSetName = ObjectSet)]
    public SwitchParameter Standard { get; set; }

    /// <summary>Lists the klasses of the org instead of attributes.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KlassesSet)]
    public SwitchParameter Klasses { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.DestinationNameCompleter))]
    public string? Destination { get; set; }

    protected override void ProcessRecord()
    {
        var (destination, client) = ResolveDestination(Destination);
        if (Klasses)
        {
            try
            {
                foreach (var klass in Await(KlassCatalog.ListAsync(client, destination.Name, Cancellation))) WriteObject(klass);
            }
            catch (Exception ex) when (ex is KustomerException or OperationCanceledException)
            {
                WriteError(ToErrorRecord(ex, destination.Name));
            }
            return;
        }

        KustomerObject target;
        try
        {
            target = KustomerObject.Parse(Object);
        }
        catch (ArgumentException ex)
        {
            WriteError(ToErrorRecord(ex, Object));
            return;
        }
        try
        {
            foreach (var attribute in Await(SchemaCatalog.ListAttributesAsync(client, target, Standard, destination.Name, Cancellation)))
                WriteObject(attribute);
        }
        catch (Exception ex) when (ex is KustomerException or OperationCanceledException)
        {
            WriteError(ToErrorRecord(ex, target.DisplayName));
        }
    }
}
