using System.Security;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>A resolved secret: the text (as a SecureString, which prints as its type name only) and, for credentials, the user name.</summary>
public sealed record ResolvedSecret(SecureString Secret, string? UserName = null);
