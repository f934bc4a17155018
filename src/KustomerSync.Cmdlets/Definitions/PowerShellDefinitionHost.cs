using System.Management.Automation;
using System.Security;
using KustomerSync.Engine.Runs.Definitions;
using KustomerSync.Engine.Security;

namespace KustomerSync.Cmdlets.Definitions;

/// <summary>Environment, commands and secrets as this PowerShell session sees them.</summary>
internal sealed class PowerShellDefinitionHost : IDefinitionHost
{
    private readonly PSCmdlet _cmdlet;

    public PowerShellDefinitionHost(PSCmdlet cmdlet)
    {
        _cmdlet = cmdlet;
    }

    public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);

    public bool CommandExists(string name) =>
        _cmdlet.InvokeCommand.GetCommand(name, CommandTypes.Cmdlet | CommandTypes.Function | CommandTypes.Alias) is not null;

    public bool FileExists(string path) => File.Exists(path);

    public ResolvedSecret Resolve(SecretReference reference)
    {
        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        switch (reference.Source)
        {
            case SecretSource.AutomationVariable:
                ps.AddCommand(SecretCommands.AutomationVariable).AddParameter("Name", reference.Name);
                break;
            case SecretSource.AutomationCredential:
                ps.AddCommand(SecretCommands.AutomationCredential).AddParameter("Name", reference.Name);
                break;
            case SecretSource.SecretManagement:
                ps.AddCommand(SecretCommands.GetSecret).AddParameter("Name", reference.Name);
                if (reference.Vault is not null) ps.AddParameter("Vault", reference.Vault);
                break;
            default:
                throw new InvalidOperationException($"{reference.Source} is resolved by the engine.");
        }
        var output = ps.Invoke();
        if (ps.HadErrors || output.Count == 0)
        {
            var first = ps.Streams.Error.FirstOrDefault();
            throw new InvalidOperationException(first is null ? "it returned nothing." : first.Exception.Message);
        }
        return output[output.Count - 1]?.BaseObject switch
        {
            PSCredential credential => new ResolvedSecret(credential.Password, credential.UserName),
            SecureString secure => new ResolvedSecret(secure),
            string text when text.Length > 0 => new ResolvedSecret(SecretText.Protect(text)),
            var other => throw new InvalidOperationException($"it returned {other?.GetType().Name ?? "null"}, not a string, SecureString or PSCredential."),
        };
    }
}
