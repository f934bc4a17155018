using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Store;

namespace KustomerSync.Emulator.Validation;

/// <summary>Checks one JSON value at a JSON pointer; throws a 400 <see cref="ApiException"/> when it does not fit.</summary>
public delegate void Rule(JsonNode? value, string pointer);

/// <summary>The primitive rules the object schemas are built from (string lengths, formats, enums, arrays).</summary>
public static partial class Rules
{
    /// <summary>"/emails/0/email" → "emails[0].email" for messages.</summary>
    public static string PathOf(string pointer)
    {
        if (pointer.Length == 0) return "body";
        var sb = new StringBuilder();
        foreach (var part in pointer.TrimStart('/').Split('/'))
        {
            if (part.Length > 0 && part.All(char.IsAsciiDigit)) sb.Append('[').Append(part).Append(']');
            else { if (sb.Length > 0) sb.Append('.'); sb.Append(part.Replace("~1", "/").Replace("~0", "~")); }
        }
        return sb.ToString();
    }

    public static ApiException Invalid(string pointer, string message) =>
        ApiException.BadRequest($"{PathOf(pointer)} {message}", pointer);

    public static string Child(string pointer, string name) => pointer + "/" + name.Replace("~", "~0").Replace("/", "~1");

    public static string Child(string pointer, int index) => pointer + "/" + index.ToString(CultureInfo.InvariantCulture);

    public static JsonValueKind KindOf(JsonNode? node) => node is null ? JsonValueKind.Null : node.GetValueKind();

    private static bool NullOk(JsonNode? v, bool nullable, string pointer)
    {
        if (v is not null) return false;
        if (nullable) return true;
        throw Invalid(pointer, "must not be null");
    }

    public static string RequireString(JsonNode? v, string pointer)
    {
        if (KindOf(v) != JsonValueKind.String) throw Invalid(pointer, $"must be a string (got {Describe(v)})");
        return v!.GetValue<string>();
    }

    public static string Describe(JsonNode? v) => KindOf(v) switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "an unknown value",
    };

    public static Rule Str(int min, int max, bool nullable = true, Regex? pattern = null, string? patternText = null) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        var s = RequireString(v, p);
        if (s.Length < min) throw Invalid(p, min == 1 ? "must not be empty" : $"must be at least {min} characters");
        if (s.Length > max) throw Invalid(p, $"must be at most {max} characters (got {s.Length})");
        if (pattern is not null && !pattern.IsMatch(s)) throw Invalid(p, $"does not match the pattern {patternText ?? pattern.ToString()}");
    };

    public static Rule DateTime(bool nullable = true) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        if (!IsDateTime(RequireString(v, p)))
            throw Invalid(p, "must be an ISO-8601 date-time with seconds and a UTC offset, e.g. 2026-01-02T03:04:05Z");
    };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex DateTimeRegex();

    public static bool IsDateTime(string s) =>
        DateTimeRegex().IsMatch(s) &&
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    public static Rule Uri(bool nullable = true, int max = 2048) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        var s = RequireString(v, p);
        if (!IsAbsoluteUri(s)) throw Invalid(p, "must be an absolute URI, e.g. https://example.com/path");
        if (s.Length > max) throw Invalid(p, $"must be at most {max} characters");
    };

    public static bool IsAbsoluteUri(string s) =>
        s.Length > 0 && !s.Any(char.IsWhiteSpace) &&
        System.Uri.TryCreate(s, UriKind.Absolute, out var u) && !string.IsNullOrEmpty(u.Scheme) &&
        !s.StartsWith('/');

    public static Rule Number(bool nullable = true, double? min = null, double? max = null, bool integer = false) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        if (KindOf(v) != JsonValueKind.Number) throw Invalid(p, $"must be a number (got {Describe(v)})");
        var d = v!.GetValue<double>();
        if (integer && Math.Floor(d) != d) throw Invalid(p, "must be an integer");
        if (min is double lo && d < lo) throw Invalid(p, $"must be >= {lo.ToString(CultureInfo.InvariantCulture)}");
        if (max is double hi && d > hi) throw Invalid(p, $"must be <= {hi.ToString(CultureInfo.InvariantCulture)}");
    };

    public static Rule Bool(bool nullable = true) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        if (KindOf(v) is not (JsonValueKind.True or JsonValueKind.False)) throw Invalid(p, $"must be a boolean (got {Describe(v)})");
    };

    public static Rule Enum(bool nullable, params string[] values) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        var s = RequireString(v, p);
        if (!values.Contains(s, StringComparer.Ordinal)) throw Invalid(p, $"must be one of {string.Join(", ", values)} (got '{s}')");
    };

    public static Rule ObjectId(bool nullable = true) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        if (!ObjectIds.IsValid(RequireString(v, p))) throw Invalid(p, "must be a 24-character hexadecimal object id");
    };

    public static Rule AnyObject(bool nullable = false) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        if (KindOf(v) != JsonValueKind.Object) throw Invalid(p, $"must be an object (got {Describe(v)})");
    };

    /// <summary>An array (never null) of at most <paramref name="maxItems"/> unique items.</summary>
    public static Rule Array(Rule item, int maxItems, Func<JsonNode, string?>? identity = null) => (v, p) =>
    {
        if (KindOf(v) != JsonValueKind.Array) throw Invalid(p, $"must be an array (got {Describe(v)})");
        var arr = v!.AsArray();
        if (arr.Count > maxItems) throw Invalid(p, $"must have at most {maxItems} items (got {arr.Count})");
        for (var i = 0; i < arr.Count; i++) item(arr[i], Child(p, i));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < arr.Count; i++)
        {
            var key = identity?.Invoke(arr[i]!) ?? arr[i]!.ToJsonString();
            if (!seen.Add(key)) throw Invalid(Child(p, i), "duplicates an earlier item (items must be unique)");
        }
    };

    public static Rule Object(ObjectSchema schema, bool nullable = false) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        if (KindOf(v) != JsonValueKind.Object) throw Invalid(p, $"must be an object (got {Describe(v)})");
        schema.Validate(v!.AsObject(), p);
    };

    [GeneratedRegex(@"^[^\s@]+@[^\s@]+$")]
    public static partial Regex EmailRelaxed();

    [GeneratedRegex(@"^\+?[0-9()\-. ]{3,40}$")]
    private static partial Regex PhoneChars();

    public static Rule Email(bool nullable = false) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        var s = RequireString(v, p);
        if (s.Length > 254 || !EmailRelaxed().IsMatch(s)) throw Invalid(p, $"must be an email address (got '{s}')");
    };

    public static Rule Phone(bool nullable = false) => (v, p) =>
    {
        if (NullOk(v, nullable, p)) return;
        var s = RequireString(v, p);
        var digits = s.Count(char.IsAsciiDigit);
        if (!PhoneChars().IsMatch(s) || digits < 3 || digits > 20)
            throw Invalid(p, $"must be a phone number: digits with optional leading + and spaces, dashes, dots or parentheses (got '{s}')");
    };

    /// <summary>Phone identity for uniqueness and lookups: digits and a leading '+', separators dropped.</summary>
    public static string NormalizePhone(string phone)
    {
        var sb = new StringBuilder(phone.Length);
        foreach (var ch in phone.Trim())
            if (char.IsAsciiDigit(ch) || (ch == '+' && sb.Length == 0)) sb.Append(ch);
        return sb.ToString();
    }

    [GeneratedRegex(@"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")]
    public static partial Regex DomainName();

    [GeneratedRegex(@"^[0-9a-zA-ZÀ-ÿ_/<>\-.][0-9a-zA-ZÀ-ÿ _/<>\-.]{0,63}$")]
    public static partial Regex TagPattern();

    public static readonly Rule Tags = Array(Str(1, 64, nullable: false, TagPattern(), "^[0-9a-zA-ZÀ-ÿ_/<>\\-.][0-9a-zA-ZÀ-ÿ _/<>\\-.]{0,63}$"), 20);
}
