namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>
/// What the engine asks of the host (the cmdlet) while validating and running a definition: environment variables,
/// whether PowerShell commands exist (Get-AutomationVariable only exists inside Azure Automation; Get-Secret only when
/// SecretManagement is installed), and resolving secrets through them. The engine never calls PowerShell itself.
/// </summary>
public interface IDefinitionHost
{
    string? GetEnvironmentVariable(string name);

    /// <summary>True when the command can be called in this session (Get-AutomationVariable, Get-AutomationPSCredential, Get-Secret).</summary>
    bool CommandExists(string name);

    bool FileExists(string path);

    /// <summary>Resolves a secret; throws with a message that never contains the secret when it cannot.</summary>
    ResolvedSecret Resolve(SecretReference reference);
}
