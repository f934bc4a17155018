namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>
/// A secret the definition names but does not hold: resolved by the host just before the run. It holds where the
/// secret is (a variable's or secret's name), never its value.
/// </summary>
/// <param name="Setting">The setting that named it, for messages (e.g. Destination.ApiKeySecret).</param>
public sealed record SecretReference(string Setting, SecretSource Source, string Name, string? Vault)
{
    public override string ToString() => Source switch
    {
        SecretSource.EnvironmentVariable => $"environment variable {Name}",
        SecretSource.AutomationVariable => $"Automation variable '{Name}'",
        SecretSource.AutomationCredential => $"Automation credential '{Name}'",
        _ => Vault is null ? $"secret '{Name}'" : $"secret '{Name}' in vault '{Vault}'",
    };
}
