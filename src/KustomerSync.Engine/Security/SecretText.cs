using System.Runtime.InteropServices;
using System.Security;

namespace KustomerSync.Engine.Security;

/// <summary>Turns secrets into text only where they must be sent, and takes them back out of anything shown.</summary>
public static class SecretText
{
    public static string Reveal(SecureString secret)
    {
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(pointer) ?? "";
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }

    public static SecureString Protect(string text)
    {
        var secure = new SecureString();
        foreach (var c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }

    /// <summary>Replaces every occurrence of each secret (4 characters or longer) with a fixed mask.</summary>
    public static string Redact(string text, IEnumerable<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret) || secret!.Length < 4) continue;
            text = text.Replace(secret, "****");
        }
        return text;
    }
}
