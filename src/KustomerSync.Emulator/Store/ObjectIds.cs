using System.Security.Cryptography;
using System.Text;

namespace KustomerSync.Emulator.Store;

/// <summary>24-hex-char ids in the MongoDB ObjectId layout: 4-byte seconds, 5 random bytes per process, 3-byte counter.</summary>
public static class ObjectIds
{
    private static readonly byte[] ProcessRandom = RandomNumberGenerator.GetBytes(5);
    private static int _counter = RandomNumberGenerator.GetInt32(0, 0xFFFFFF);

    public static string NewId()
    {
        Span<byte> b = stackalloc byte[12];
        var seconds = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        b[0] = (byte)(seconds >> 24); b[1] = (byte)(seconds >> 16); b[2] = (byte)(seconds >> 8); b[3] = (byte)seconds;
        ProcessRandom.CopyTo(b[4..]);
        var c = Interlocked.Increment(ref _counter) & 0xFFFFFF;
        b[9] = (byte)(c >> 16); b[10] = (byte)(c >> 8); b[11] = (byte)c;
        return Convert.ToHexStringLower(b);
    }

    /// <summary>A stable id derived from a name (org, token and user ids of built-in things).</summary>
    public static string FromName(string name) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 12));

    public static bool IsValid(string? s)
    {
        if (s is null || s.Length != 24) return false;
        foreach (var ch in s)
            if (!char.IsAsciiHexDigit(ch)) return false;
        return true;
    }
}
