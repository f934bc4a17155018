namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>Where a secret comes from.</summary>
public enum SecretSource
{
    /// <summary>An environment variable of the process (a scheduled task's account, a CI secret).</summary>
    EnvironmentVariable,
    /// <summary>Get-AutomationVariable in an Azure Automation runbook (an encrypted variable).</summary>
    AutomationVariable,
    /// <summary>Get-AutomationPSCredential in an Azure Automation runbook: user name and password.</summary>
    AutomationCredential,
    /// <summary>Get-Secret of Microsoft.PowerShell.SecretManagement (optionally from a named vault).</summary>
    SecretManagement,
}
