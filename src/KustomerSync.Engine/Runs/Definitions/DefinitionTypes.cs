using System.Security;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>A computed mapping value written as a scriptblock in the definition: its text only. The host compiles it.</summary>
public sealed class DefinitionExpression
{
    public DefinitionExpression(string text, int line)
    {
        Text = text;
        Line = line;
    }

    /// <summary>The scriptblock's text, without the braces.</summary>
    public string Text { get; }

    /// <summary>The line in the definition file where it starts (1-based; 0 when unknown).</summary>
    public int Line { get; }

    public override string ToString() => "{ " + Text.Trim() + " }";
}

/// <summary>One mistake in a definition, with the setting it concerns (e.g. Destination.ApiKeyEnvironmentVariable).</summary>
public sealed class DefinitionProblem
{
    public DefinitionProblem(string setting, string message)
    {
        Setting = setting;
        Message = message;
    }

    public string Setting { get; }
    public string Message { get; }

    public override string ToString() => Setting.Length == 0 ? Message : Setting + ": " + Message;
}

/// <summary>A definition that cannot run: every problem found, at once.</summary>
public sealed class DefinitionException : KustomerSyncException
{
    /// <param name="errorId">ErrorIds.InvalidDefinition (the file), or ErrorIds.SecretUnavailable (a named secret could not be read).</param>
    public DefinitionException(string path, IReadOnlyList<DefinitionProblem> problems, string errorId = ErrorIds.InvalidDefinition)
        : base(errorId, Format(path, problems))
    {
        Path = path;
        Problems = problems;
    }

    public string Path { get; }
    public IReadOnlyList<DefinitionProblem> Problems { get; }

    private static string Format(string path, IReadOnlyList<DefinitionProblem> problems) =>
        $"The sync definition '{path}' has {problems.Count} problem{(problems.Count == 1 ? "" : "s")}:" + Environment.NewLine +
        string.Join(Environment.NewLine, problems.Select(p => "  - " + p));
}

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

/// <summary>A secret the definition names but does not hold: resolved by the host just before the run.</summary>
public sealed class SecretReference
{
    public SecretReference(string setting, SecretSource source, string name, string? vault)
    {
        Setting = setting;
        Source = source;
        Name = name;
        Vault = vault;
    }

    /// <summary>The setting that named it, for messages (e.g. Destination.ApiKeySecret).</summary>
    public string Setting { get; }
    public SecretSource Source { get; }
    public string Name { get; }
    public string? Vault { get; }

    public override string ToString() => Source switch
    {
        SecretSource.EnvironmentVariable => $"environment variable {Name}",
        SecretSource.AutomationVariable => $"Automation variable '{Name}'",
        SecretSource.AutomationCredential => $"Automation credential '{Name}'",
        _ => Vault is null ? $"secret '{Name}'" : $"secret '{Name}' in vault '{Vault}'",
    };
}

/// <summary>A resolved secret: the text (as a SecureString) and, for credentials, the user name.</summary>
public sealed class ResolvedSecret
{
    public ResolvedSecret(SecureString secret, string? userName = null)
    {
        Secret = secret;
        UserName = userName;
    }

    public SecureString Secret { get; }
    public string? UserName { get; }
}

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
