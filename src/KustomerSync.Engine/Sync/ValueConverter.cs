using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>Turns a source value into the JSON value a field's type demands, or says why it cannot.</summary>
public static class ValueConverter
{
    private static readonly Regex RelaxedEmail = new(@"^[^@\s]+@[^@\s]+\.[^@\s.]+$", RegexOptions.Compiled);
    private static readonly Regex Phone = new(@"^\+?[0-9 ().\-/x]{3,40}$", RegexOptions.Compiled);
    private static readonly Regex ObjectId = new("^[0-9a-fA-F]{24}$", RegexOptions.Compiled);

    /// <summary>Returns true with the JSON value (null for null), or false with a reason that reads after the column name.</summary>
    public static bool TryConvert(object? value, FieldSpec field, out JsonNode? json, out string? error)
    {
        json = null;
        error = null;
        if (value is null)
            return field.MinLength == 0 || Fail($"is empty; Kustomer needs at least {field.MinLength} characters", out json, out error);
        switch (field.Type)
        {
            case FieldType.String:
            case FieldType.Text:
            case FieldType.Tree:
                return TryText(value, field, out json, out error);
            case FieldType.Number:
                return TryNumber(value, out json, out error);
            case FieldType.Bool:
                return TryBool(value, out json, out error);
            case FieldType.DateTime:
                return TryDate(value, out json, out error);
            case FieldType.Url:
                if (!TryText(value, field, out json, out error)) return false;
                var url = json!.GetValue<string>();
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)) return true;
                return Fail($"'{Short(url)}' is not an absolute http(s) URL", out json, out error);
            case FieldType.Email:
                if (!TryText(value, field, out json, out error)) return false;
                var email = json!.GetValue<string>().Trim();
                if (!RelaxedEmail.IsMatch(email)) return Fail($"'{Short(email)}' is not an email address", out json, out error);
                json = JsonValue.Create(email);
                return true;
            case FieldType.Phone:
                if (!TryText(value, field, out json, out error)) return false;
                var phone = json!.GetValue<string>().Trim();
                if (!Phone.IsMatch(phone)) return Fail($"'{Short(phone)}' is not a phone number", out json, out error);
                json = JsonValue.Create(phone);
                return true;
            case FieldType.ObjectId:
                if (!TryText(value, field, out json, out error)) return false;
                if (ObjectId.IsMatch(json!.GetValue<string>())) return true;
                return Fail($"'{Short(json.GetValue<string>())}' is not a Kustomer id (24 hex characters)", out json, out error);
            case FieldType.Tags:
                return TryTags(value, out json, out error);
            default:
                return TryJson(value, out json, out error);
        }
    }

    private static bool TryText(object value, FieldSpec field, out JsonNode? json, out string? error)
    {
        var text = value switch
        {
            string s => s,
            DateTime d => FormatDate(d),
            DateTimeOffset o => FormatDate(o.UtcDateTime),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            _ => value.ToString() ?? "",
        };
        if (field.MaxLength > 0 && text.Length > field.MaxLength)
            return Fail($"is {text.Length} characters long; Kustomer allows at most {field.MaxLength}", out json, out error);
        if (text.Trim().Length < field.MinLength)
            return Fail($"'{Short(text)}' is {text.Trim().Length} characters long; Kustomer needs at least {field.MinLength}", out json, out error);
        json = JsonValue.Create(text);
        error = null;
        return true;
    }

    private static bool TryNumber(object value, out JsonNode? json, out string? error)
    {
        error = null;
        switch (value)
        {
            case decimal m: json = JsonValue.Create(m); return true;
            case double d when !double.IsNaN(d) && !double.IsInfinity(d): json = JsonValue.Create(d); return true;
            case float f when !float.IsNaN(f) && !float.IsInfinity(f): json = JsonValue.Create((double)(decimal)f); return true;
            case long or int or short or byte or sbyte or ushort or uint or ulong:
                json = JsonValue.Create(Convert.ToDecimal(value, CultureInfo.InvariantCulture));
                return true;
            case bool:
                return Fail("is a boolean, not a number", out json, out error);
            case string s when decimal.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed):
                json = JsonValue.Create(parsed);
                return true;
            default:
                return Fail($"'{Short(value.ToString())}' is not a number", out json, out error);
        }
    }

    private static bool TryBool(object value, out JsonNode? json, out string? error)
    {
        error = null;
        bool? result = value switch
        {
            bool b => b,
            long or int or short or byte or decimal => Convert.ToDecimal(value, CultureInfo.InvariantCulture) switch { 0 => false, 1 => true, _ => null },
            string s => s.Trim().ToLowerInvariant() switch
            {
                "true" or "yes" or "y" or "1" or "t" => true,
                "false" or "no" or "n" or "0" or "f" => false,
                _ => null,
            },
            _ => null,
        };
        if (result is null) return Fail($"'{Short(value.ToString())}' is not true or false", out json, out error);
        json = JsonValue.Create(result.Value);
        return true;
    }

    private static bool TryDate(object value, out JsonNode? json, out string? error)
    {
        error = null;
        switch (value)
        {
            case DateTime d:
                json = JsonValue.Create(FormatDate(d));
                return true;
            case DateTimeOffset o:
                json = JsonValue.Create(FormatDate(o.UtcDateTime));
                return true;
            case string s when DateTimeOffset.TryParse(s.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed):
                json = JsonValue.Create(FormatDate(parsed.UtcDateTime));
                return true;
            default:
                return Fail($"'{Short(value.ToString())}' is not a date and time", out json, out error);
        }
    }

    private static bool TryTags(object value, out JsonNode? json, out string? error)
    {
        IEnumerable<string> items = value switch
        {
            string s => s.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim()),
            IEnumerable e => e.Cast<object?>().Where(o => o is not null).Select(o => o!.ToString()!.Trim()),
            _ => new[] { value.ToString() ?? "" },
        };
        var tags = items.Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (tags.Count > 20) return Fail($"has {tags.Count} tags; Kustomer allows at most 20", out json, out error);
        var tooLong = tags.FirstOrDefault(t => t.Length > 64);
        if (tooLong is not null) return Fail($"tag '{Short(tooLong)}' is longer than 64 characters", out json, out error);
        json = new JsonArray(tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        error = null;
        return true;
    }

    private static bool TryJson(object value, out JsonNode? json, out string? error)
    {
        error = null;
        try
        {
            json = value is string s ? JsonNode.Parse(s) : System.Text.Json.JsonSerializer.SerializeToNode(value);
            return true;
        }
        catch (System.Text.Json.JsonException ex)
        {
            return Fail($"is not valid JSON ({ex.Message})", out json, out error);
        }
    }

    /// <summary>ISO-8601 UTC with milliseconds, as Kustomer writes its own timestamps.</summary>
    public static string FormatDate(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime();
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    private static bool Fail(string message, out JsonNode? json, out string? error)
    {
        json = null;
        error = message;
        return false;
    }

    private static string Short(string? text) => text is null ? "" : text.Length <= 60 ? text : text.Substring(0, 57) + "...";
}
