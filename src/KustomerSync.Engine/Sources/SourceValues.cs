using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace KustomerSync.Engine.Sources;

/// <summary>One place that turns driver values into what the pipeline carries.</summary>
public static class SourceValues
{
    /// <summary>
    /// DBNull becomes null; dates become UTC (a date without zone is taken as UTC, as the warehouse stored it);
    /// decimals stay System.Decimal; arrays, lists and maps (Postgres arrays, hstore) become JSON text; network
    /// addresses and other driver-specific structures become their text.
    /// </summary>
    public static object? Normalize(object? value) => value switch
    {
        null or DBNull => null,
        string or int or long or decimal or bool or double or short or float or byte or Guid or TimeSpan or byte[] => value,
        DateTime { Kind: DateTimeKind.Unspecified } d => DateTime.SpecifyKind(d, DateTimeKind.Utc),
        DateTime d => d.ToUniversalTime(),
        DateTimeOffset o => o.UtcDateTime,
        char[] chars => new string(chars),
        char ch => ch.ToString(),
        sbyte or ushort or uint or ulong => value,
        System.Net.IPAddress ip => ip.ToString(),
        BitArray bits => BitsToString(bits),
        IDictionary or Array or IList => ToJson(value),
#if NET
        DateOnly date => date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
        TimeOnly time => time.ToTimeSpan(),
#endif
        _ when IsDriverStruct(value) => Convert.ToString(value, CultureInfo.InvariantCulture),
        _ => value,
    };

    /// <summary>JSON text of a value (used for array and map columns).</summary>
    public static string ToJson(object value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            WriteJson(writer, value);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteJson(Utf8JsonWriter writer, object? value)
    {
        var v = value is IDictionary or (IEnumerable and not string and not byte[]) ? value : Normalize(value);
        switch (v)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case byte[] bytes: writer.WriteStringValue(Convert.ToBase64String(bytes)); break;
            case int or long or short or byte or sbyte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(v, CultureInfo.InvariantCulture)); break;
            case ulong ul: writer.WriteNumberValue(ul); break;
            case decimal d: writer.WriteNumberValue(d); break;
            case double d when !double.IsNaN(d) && !double.IsInfinity(d): writer.WriteNumberValue(d); break;
            case float f when !float.IsNaN(f) && !float.IsInfinity(f): writer.WriteNumberValue(f); break;
            case DateTime dt: writer.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture)); break;
            case IDictionary map:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in map)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteJson(writer, entry.Value);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable list and not string:
                writer.WriteStartArray();
                foreach (var item in list) WriteJson(writer, item);
                writer.WriteEndArray();
                break;
            case var other:
                writer.WriteStringValue(Convert.ToString(other, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string BitsToString(BitArray bits)
    {
        var chars = new char[bits.Length];
        for (var i = 0; i < bits.Length; i++) chars[i] = bits[i] ? '1' : '0';
        return new string(chars);
    }

    // Npgsql ranges, intervals, geometric types and the like: shown as their text rather than leaked driver types.
    private static bool IsDriverStruct(object value)
    {
        var ns = value.GetType().Namespace ?? "";
        return ns.StartsWith("NpgsqlTypes", StringComparison.Ordinal) || ns.StartsWith("MySqlConnector", StringComparison.Ordinal)
            || ns.StartsWith("Microsoft.Data.SqlTypes", StringComparison.Ordinal) || ns.StartsWith("System.Data.SqlTypes", StringComparison.Ordinal);
    }
}
