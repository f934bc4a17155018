namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>The commands each secret source needs in the session.</summary>
public static class SecretCommands
{
    public const string AutomationVariable = "Get-AutomationVariable";
    public const string AutomationCredential = "Get-AutomationPSCredential";
    public const string GetSecret = "Get-Secret";

    public static string? For(SecretSource source) => source switch
    {
        SecretSource.AutomationVariable => AutomationVariable,
        SecretSource.AutomationCredential => AutomationCredential,
        SecretSource.SecretManagement => GetSecret,
        _ => null,
    };
}
