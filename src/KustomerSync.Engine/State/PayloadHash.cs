using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KustomerSync.Engine.State;

/// <summary>
/// A SHA-256 hash of a mapped payload's canonical JSON, 32 bytes held inline (a value type, so 200,000 state entries
/// cost no extra objects). Stored as 64 lower-case hex characters.
/// </summary>
/// <remarks>
/// Canonical form, so that equal payloads hash alike however they were built:
/// <list type="bullet">
/// <item>objects: members sorted by name with ordinal (UTF-16 code unit) comparison, written <c>{"a":1,"b":2}</c> without spaces;
/// a member whose value is null is kept (null is written <c>null</c>: clearing a field is a change);</item>
/// <item>arrays: elements in their order;</item>
/// <item>numbers: normalised from their JSON text, without going through double, so 1, 1.0, 1.00, 1e0 and 10e-1 hash
/// alike and -0 equals 0; written as <c>[-]digits</c> followed by <c>e&lt;exponent&gt;</c> with no leading or trailing
/// zeros in the digits (0 is <c>0</c>);</item>
/// <item>strings: as they are (no trimming, no Unicode normalisation, case kept), escaped with a fixed rule:
/// <c>\"</c>, <c>\\</c> and <c>\u00XX</c> for control characters below U+0020, everything else literal UTF-8;</item>
/// <item>true, false and null literally.</item>
/// </list>
/// The object and key are not part of what is hashed: a hash is only ever compared with the hash stored under the same
/// sync name and key, and a state store pins each sync name to one object and sync key (<see cref="SyncState"/>), so two
/// objects can never share a hash row. Changing the canonical form would make every row look changed once (a full resync,
/// never a missed change); <see cref="Version"/> names the form in use.
/// </remarks>
public readonly struct PayloadHash : IEquatable<PayloadHash>
{
    /// <summary>The canonical-form version; bump it when the canonical form changes.</summary>
    public const int Version = 1;

    private readonly ulong _a, _b, _c, _d;

    private PayloadHash(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    /// <summary>True for the default value (no hash).</summary>
    public bool IsEmpty => _a == 0 && _b == 0 && _c == 0 && _d == 0;

    [ThreadStatic] private static SHA256? _sha;
    [ThreadStatic] private static StringBuilder? _builder;

    /// <summary>The hash of a payload (null hashes like an empty object's <c>null</c> literal).</summary>
    public static PayloadHash Compute(JsonNode? payload) => FromBytes(Sha().ComputeHash(Encoding.UTF8.GetBytes(Canonical(payload))));

    /// <summary>The canonical JSON text that <see cref="Compute"/> hashes (for diagnostics and tests).</summary>
    public static string Canonical(JsonNode? payload)
    {
        var builder = _builder ??= new StringBuilder(512);
        builder.Clear();
        Write(builder, payload);
        var text = builder.ToString();
        if (builder.Capacity > 1 << 20) _builder = null;
        return text;
    }

    /// <summary>Parses 64 hex characters; false for anything else.</summary>
    public static bool TryParse(string? text, out PayloadHash hash)
    {
        hash = default;
        if (text is null || text.Length != 64) return false;
        var bytes = new byte[32];
        for (var i = 0; i < 32; i++)
        {
            var hi = Nibble(text[2 * i]);
            var lo = Nibble(text[2 * i + 1]);
            if (hi < 0 || lo < 0) return false;
            bytes[i] = (byte)(hi << 4 | lo);
        }
        hash = FromBytes(bytes);
        return true;
    }

    public static PayloadHash Parse(string text) =>
        TryParse(text, out var hash) ? hash : throw new FormatException("A payload hash is 64 hexadecimal characters.");

    public override string ToString()
    {
        var chars = new char[64];
        Hex(_a, chars, 0);
        Hex(_b, chars, 16);
        Hex(_c, chars, 32);
        Hex(_d, chars, 48);
        return new string(chars);
    }

    public bool Equals(PayloadHash other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;
    public override bool Equals(object? obj) => obj is PayloadHash other && Equals(other);
    public override int GetHashCode() => _a.GetHashCode();
    public static bool operator ==(PayloadHash left, PayloadHash right) => left.Equals(right);
    public static bool operator !=(PayloadHash left, PayloadHash right) => !left.Equals(right);

    private static SHA256 Sha() => _sha ??= SHA256.Create();

    private static PayloadHash FromBytes(byte[] b) => new(Read(b, 0), Read(b, 8), Read(b, 16), Read(b, 24));

    private static ulong Read(byte[] b, int offset)
    {
        ulong value = 0;
        for (var i = 0; i < 8; i++) value = value << 8 | b[offset + i];
        return value;
    }

    private static void Hex(ulong value, char[] chars, int offset)
    {
        for (var i = 15; i >= 0; i--)
        {
            var n = (int)(value & 0xF);
            chars[offset + i] = (char)(n < 10 ? '0' + n : 'a' + n - 10);
            value >>= 4;
        }
    }

    private static int Nibble(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                return;
            case JsonObject obj:
            {
                var members = new List<KeyValuePair<string, JsonNode?>>(obj.Count);
                foreach (var member in obj) members.Add(member);
                members.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
                sb.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    WriteString(sb, members[i].Key);
                    sb.Append(':');
                    Write(sb, members[i].Value);
                }
                sb.Append('}');
                return;
            }
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(sb, array[i]);
                }
                sb.Append(']');
                return;
            case JsonValue value:
                WriteValue(sb, value);
                return;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        if (value.TryGetValue<string>(out var s))
        {
            WriteString(sb, s);
            return;
        }
        // Anything else (numbers of any CLR type, booleans, dates, JsonElement): its JSON text decides.
        var text = value.ToJsonString();
        switch (value.GetValueKind())
        {
            case JsonValueKind.Number:
                WriteNumber(sb, text);
                return;
            case JsonValueKind.String:
                WriteString(sb, JsonSerializer.Deserialize<string>(text)!);
                return;
            case JsonValueKind.True:
                sb.Append("true");
                return;
            case JsonValueKind.False:
                sb.Append("false");
                return;
            case JsonValueKind.Null:
                sb.Append("null");
                return;
            default:
                Write(sb, JsonNode.Parse(text));
                return;
        }
    }

    internal static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Normalises a JSON number literal: [-]digits e exponent, no leading or trailing zeros; zero is 0.</summary>
    internal static void WriteNumber(StringBuilder sb, string text)
    {
        var i = 0;
        var negative = false;
        if (i < text.Length && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
        var digits = new StringBuilder(text.Length);
        var pointShift = 0; // digits after the decimal point
        var seenPoint = false;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (c >= '0' && c <= '9')
            {
                digits.Append(c);
                if (seenPoint) pointShift++;
            }
            else if (c == '.') seenPoint = true;
            else break;
        }
        long exponent = 0;
        if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
            exponent = long.Parse(text.Substring(i + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        exponent -= pointShift;

        var start = 0;
        while (start < digits.Length && digits[start] == '0') start++;
        if (start == digits.Length)
        {
            sb.Append('0');
            return;
        }
        var end = digits.Length;
        while (end > start && digits[end - 1] == '0')
        {
            end--;
            exponent++;
        }
        if (negative) sb.Append('-');
        sb.Append(digits.ToString(start, end - start)).Append('e').Append(exponent.ToString(CultureInfo.InvariantCulture));
    }
}
