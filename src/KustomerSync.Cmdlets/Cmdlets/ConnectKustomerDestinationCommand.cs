using System.Management.Automation;
using System.Security;
using KustomerSync.Cmdlets.Session;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Cmdlets;

/// <summary>
/// <para type="synopsis">Registers a Kustomer organization as a sync destination for this session.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "KustomerDestination", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Connect-KustomerDestination.md", DefaultParameterSetName = OrganizationSet)]
[OutputType(typeof(KustomerDestination))]
public sealed class ConnectKustomerDestinationCommand : KustomerCmdlet
{
    private const string OrganizationSet = "Organization";
    private const string BaseUriSet = "BaseUri";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = OrganizationSet)]
    [ValidateNotNullOrEmpty]
    public string Organization { get; set; } = "";

    [Parameter(ParameterSetName = OrganizationSet)]
    [ValidateSet("US", "EU", "IN")]
    public string? Region { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = BaseUriSet)]
    [ValidateNotNull]
    public Uri BaseUri { get; set; } = null!;

    [Parameter]
    public SecureString? ApiKey { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ApiKeyEnvironmentVariable { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    public SwitchParameter SkipConnectionTest { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        var (key, source) = ReadKey();
        Uri baseUri;
        string organization;
        try
        {
            if (ParameterSetName == BaseUriSet)
            {
                baseUri = KustomerEndpoint.Normalize(BaseUri);
                organization = baseUri.IsLoopback ? baseUri.Authority : baseUri.Host.Split('.')[0];
            }
            else
            {
                baseUri = KustomerEndpoint.ForOrganization(Organization, Region);
                organization = Organization.ToLowerInvariant();
            }
        }
        catch (ArgumentException ex)
        {
            throw Terminate(ToErrorRecord(ex, ParameterSetName == BaseUriSet ? BaseUri : Organization));
        }

        var destination = new KustomerDestination(Name ?? organization, organization, baseUri, Region ?? (ParameterSetName == BaseUriSet ? "custom" : "org host"), key, source);
        var client = new KustomerClient(baseUri, key);
        var checkedKey = "the key was not checked (-SkipConnectionTest)";
        if (!SkipConnectionTest)
        {
            try
            {
                var test = Await(ConnectionTester.TestAsync(client, destination.Name, Cancellation));
                checkedKey = $"key '{test.TokenName}' with {test.Roles.Length} roles, {test.LatencyMs} ms";
                Narrate($"Connected to {baseUri.Host} as '{test.TokenName}' with {test.Roles.Length} roles in {test.LatencyMs} ms. {test.Message}");
            }
            catch (Exception ex) when (ex is KustomerException)
            {
                client.Dispose();
                throw Terminate(ToErrorRecord(ex, destination.Name));
            }
        }
        DestinationRegistry.Current.Add(destination, client);
        if (PassThru) WriteObject(destination);
        else WriteHostLine($"Connected '{destination.Name}' ({destination.BaseUri.GetLeftPart(UriPartial.Authority)}){(destination.IsDefault ? ", the default destination" : "")}: {checkedKey}.", "KustomerSync:Connected");
    }

    private (SecureString Key, string Source) ReadKey()
    {
        var given = new[] { ApiKey is not null, Credential is not null, ApiKeyEnvironmentVariable is not null }.Count(x => x);
        if (given != 1)
        {
            var problem = given == 0 ? "No API key was given" : "More than one API key source was given";
            throw Terminate(new ErrorRecord(new ArgumentException($"{problem}: use exactly one of -ApiKey (a SecureString), -Credential (the password is the key) or -ApiKeyEnvironmentVariable (the name of a variable holding the key)."),
                ErrorIds.MissingApiKey, ErrorCategory.InvalidArgument, null));
        }
        if (ApiKey is not null) return (ApiKey, "ApiKey");
        if (Credential is not null) return (Credential.Password, $"Credential ({Credential.UserName})");
        var value = Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable!);
        if (string.IsNullOrWhiteSpace(value))
            throw Terminate(new ErrorRecord(new ArgumentException($"The environment variable '{ApiKeyEnvironmentVariable}' is not set or empty; it should hold the Kustomer API key."),
                ErrorIds.MissingApiKey, ErrorCategory.InvalidArgument, ApiKeyEnvironmentVariable));
        return (SecretText.Protect(value!.Trim()), $"Environment variable {ApiKeyEnvironmentVariable}");
    }
}
