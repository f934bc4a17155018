using System.Globalization;
using System.Text.Json;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>Conversions of JSON cells to the values the pipeline carries, by the column's declared type.</summary>
public static class RestValues
{
    private static readonly DateTime Epoch = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The cell as text: strings as they are, other JSON (objects, arrays, numbers) as its raw JSON.</summary>
    public static string? Text(JsonElement cell) => cell.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => cell.GetString(),
        _ => cell.GetRawText(),
    };

    /// <summary>An exact decimal from a JSON string or number (exponents allowed); a value beyond System.Decimal stays text.</summary>
    public static object? Decimal(JsonElement cell)
    {
        var text = Text(cell);
        if (text is null) return null;
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        return text;
    }

    public static object? Integer(JsonElement cell)
    {
        var text = Text(cell);
        if (text is null) return null;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        return Decimal(cell);
    }

    public static object? Double(JsonElement cell)
    {
        var text = Text(cell);
        if (text is null) return null;
        return text switch
        {
            "NaN" => double.NaN,
            "Infinity" or "inf" => double.PositiveInfinity,
            "-Infinity" or "-inf" => double.NegativeInfinity,
            _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : text,
        };
    }

    public static object? Boolean(JsonElement cell) => cell.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => Text(cell) switch
        {
            "true" or "TRUE" or "True" or "1" => true,
            "false" or "FALSE" or "False" or "0" => false,
            var other => other,
        },
    };

    /// <summary>An ISO 8601 date or timestamp; no zone means UTC. Result is a UTC DateTime.</summary>
    public static object? IsoDate(JsonElement cell)
    {
        var text = Text(cell);
        if (text is null) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
            return value.UtcDateTime;
        return text;
    }

    /// <summary>Seconds since the epoch with a fraction ("1617235200.123456789"), as a UTC DateTime.</summary>
    public static DateTime FromEpochSeconds(string text)
    {
        var value = decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        var ticks = decimal.Round(value * TimeSpan.TicksPerSecond);
        return Epoch.AddTicks((long)ticks);
    }

    public static DateTime FromEpochDays(long days) => Epoch.AddDays(days);

    public static DateTime FromEpochMicroseconds(long micros) => Epoch.AddTicks(micros * 10);

    public static DateTime FromEpochMilliseconds(long millis) => Epoch.AddTicks(millis * TimeSpan.TicksPerMillisecond);

    /// <summary>Hex text to bytes (Snowflake BINARY).</summary>
    public static object? Hex(JsonElement cell)
    {
        var text = Text(cell);
        if (text is null) return null;
        if (text.Length % 2 != 0) return text;
        var bytes = new byte[text.Length / 2];
        for (var i = 0; i < bytes.Length; i++)
            if (!byte.TryParse(text.Substring(i * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out bytes[i])) return text;
        return bytes;
    }

    public static object? Base64(JsonElement cell)
    {
        var text = Text(cell);
        if (text is null) return null;
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return text;
        }
    }

    /// <summary>The text form a parameter value is sent in (ISO 8601 UTC for dates, invariant numbers).</summary>
    public static string? ParameterText(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        DateTime d => (d.Kind == DateTimeKind.Local ? d.ToUniversalTime() : d).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + (d.Kind == DateTimeKind.Unspecified ? "" : "Z"),
        DateTimeOffset o => o.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    public static bool IsInteger(object? value) => value is int or long or short or byte or sbyte or uint or ushort or ulong;
    public static bool IsFloat(object? value) => value is double or float;
}
