using System.Data;
using System.Globalization;
using System.Text.Json;

namespace KustomerSync.Engine.State;

/// <summary>
/// A row that failed at Kustomer, kept in the state store so that a later run can send it again although its source
/// query (taking '$LastRunStart') no longer selects it: the source columns and values as read, and how many runs have
/// sent it again since the source last delivered it.
/// </summary>
/// <param name="Key">The key as the state stores it (<see cref="SyncState.Stored"/>).</param>
public sealed record KeptRow(string Key, string[] Names, object?[] Values, int RetriedRuns)
{
    /// <summary>
    /// The row as JSON text that keeps each value's type (the mapper converts a long, a decimal and a date differently),
    /// for the values a source reader hands on (<see cref="Sources.SourceValues.Normalize"/>); anything else is kept as text.
    /// </summary>
    public string Encode()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("columns");
            foreach (var name in Names) writer.WriteStringValue(name);
            writer.WriteEndArray();
            writer.WriteStartArray("values");
            foreach (var value in Values)
            {
                var (tag, text) = Tagged(value);
                writer.WriteStartArray();
                writer.WriteStringValue(tag);
                if (text is null) writer.WriteNullValue();
                else writer.WriteStringValue(text);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static KeptRow Decode(string key, string data, int retriedRuns)
    {
        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        var names = root.GetProperty("columns").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
        var values = root.GetProperty("values").EnumerateArray()
            .Select(e => Untagged(e[0].GetString() ?? "s", e[1].ValueKind == JsonValueKind.Null ? null : e[1].GetString())).ToArray();
        if (values.Length != names.Length) throw new FormatException($"{names.Length} columns but {values.Length} values.");
        return new KeptRow(key, names, values, retriedRuns);
    }

    private static (string Tag, string? Text) Tagged(object? value)
    {
        var c = CultureInfo.InvariantCulture;
        return value switch
        {
            null => ("n", null),
            string s => ("s", s),
            bool b => ("b", b ? "1" : "0"),
            int i => ("i4", i.ToString(c)),
            long l => ("i8", l.ToString(c)),
            short h => ("i2", h.ToString(c)),
            byte y => ("u1", y.ToString(c)),
            sbyte sb => ("i1", sb.ToString(c)),
            ushort us => ("u2", us.ToString(c)),
            uint ui => ("u4", ui.ToString(c)),
            ulong ul => ("u8", ul.ToString(c)),
            decimal m => ("m", m.ToString(c)),
            double d => ("f8", d.ToString("R", c)),
            float f => ("f4", f.ToString("R", c)),
            DateTime t => ("t", t.ToUniversalTime().Ticks.ToString(c)),
            TimeSpan span => ("ts", span.Ticks.ToString(c)),
            Guid g => ("g", g.ToString("D")),
            byte[] bytes => ("x", Convert.ToBase64String(bytes)),
            _ => ("s", Convert.ToString(value, c)),
        };
    }

    private static object? Untagged(string tag, string? text)
    {
        if (text is null) return null;
        var c = CultureInfo.InvariantCulture;
        return tag switch
        {
            "b" => text == "1",
            "i4" => int.Parse(text, c),
            "i8" => long.Parse(text, c),
            "i2" => short.Parse(text, c),
            "u1" => byte.Parse(text, c),
            "i1" => sbyte.Parse(text, c),
            "u2" => ushort.Parse(text, c),
            "u4" => uint.Parse(text, c),
            "u8" => ulong.Parse(text, c),
            "m" => decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, c),
            "f8" => double.Parse(text, NumberStyles.Float, c),
            "f4" => float.Parse(text, NumberStyles.Float, c),
            "t" => new DateTime(long.Parse(text, c), DateTimeKind.Utc),
            "ts" => new TimeSpan(long.Parse(text, c)),
            "g" => Guid.Parse(text),
            "x" => Convert.FromBase64String(text),
            _ => text,
        };
    }
}

/// <summary>
/// The rows a sync keeps to send again (table retry, schema v4), and the watermark that keeping them allows: a run
/// that kept its failed rows may move '$LastRunStart' past them. Writes go at once, in one transaction, at the end of
/// a run (the kept rows are few: the failures).
/// </summary>
public static class KeptRows
{
    /// <summary>The sync's kept rows. A row whose data cannot be read (a damaged store) is left out, not fatal.</summary>
    public static IReadOnlyList<KeptRow> Load(SyncState state)
    {
        var store = (SqlStateStore)state.Store;
        return store.Guard("read", () =>
        {
            var rows = new List<KeptRow>();
            using var connection = store.Connect();
            using var command = store.Command(connection, null, store.Dialect.KeptRowsQuery());
            StateDialect.AddText(command, "@s", state.SyncName);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                try
                {
                    rows.Add(KeptRow.Decode(reader.GetString(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture)));
                }
                catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException or OverflowException)
                {
                }
            }
            return rows;
        });
    }

    /// <summary>
    /// Flushes the session's queued writes, then in one transaction forgets the <paramref name="drop"/> keys, keeps
    /// <paramref name="keep"/>, appends a note to the row outcomes of run <paramref name="runId"/> that were given up,
    /// and marks the run as having kept its failed rows.
    /// </summary>
    public static void Save(SyncState state, long runId, IEnumerable<string> drop, IEnumerable<KeptRow> keep, IEnumerable<(long Row, string Message)> givenUp)
    {
        state.Flush();
        var store = (SqlStateStore)state.Store;
        var d = store.Dialect;
        var now = store.Options.Time.GetUtcNow().UtcDateTime;
        store.GuardWrite(state.SyncName, "written", () =>
        {
            using var connection = store.Connect();
            using var tx = connection.BeginTransaction();
            var kept = keep.ToList();
            foreach (var key in drop.Concat(kept.Select(k => k.Key)).Distinct(StringComparer.Ordinal))
            {
                using var command = store.Command(connection, tx, d.DropKeptRowStatement());
                StateDialect.AddText(command, "@s", state.SyncName);
                StateDialect.AddText(command, "@k", key);
                command.ExecuteNonQuery();
            }
            foreach (var row in kept)
            {
                using var command = store.Command(connection, tx, d.KeepRowStatement());
                StateDialect.AddText(command, "@s", state.SyncName);
                StateDialect.AddText(command, "@k", row.Key);
                StateDialect.AddText(command, "@d", row.Encode());
                StateDialect.Add(command, "@n", row.RetriedRuns, DbType.Int32);
                d.AddTime(command, "@t", now);
                command.ExecuteNonQuery();
            }
            foreach (var (row, message) in givenUp)
            {
                using var command = store.Command(connection, tx, d.RowOutcomeMessageStatement());
                StateDialect.AddText(command, "@m", StateWriteBuffer.Truncate(message));
                StateDialect.Add(command, "@r", runId, DbType.Int64);
                StateDialect.Add(command, "@n", row, DbType.Int64);
                command.ExecuteNonQuery();
            }
            using (var mark = store.Command(connection, tx, d.RunKeptFailedRowsStatement()))
            {
                StateDialect.Add(mark, "@b", true, DbType.Boolean);
                StateDialect.Add(mark, "@r", runId, DbType.Int64);
                mark.ExecuteNonQuery();
            }
            tx.Commit();
            return 0;
        });
    }

    /// <summary>
    /// The value of '$LastRunStart' while failed rows are kept: the start of the newest run (not -WhatIf) that
    /// succeeded, or that rejected rows and kept its failed ones; null when there is none.
    /// </summary>
    public static DateTime? WatermarkStart(IStateStore store, string syncName)
    {
        var sql = (SqlStateStore)store;
        sql.EnsureSchema(create: false);
        return sql.Guard("read", () =>
        {
            using var connection = sql.Connect();
            using var command = sql.Command(connection, null, sql.Dialect.AdvancingRunStartsQuery());
            StateDialect.AddText(command, "@s", syncName);
            StateDialect.Add(command, "@w", false, DbType.Boolean);
            StateDialect.AddText(command, "@ok", nameof(SyncRunStatus.Succeeded));
            StateDialect.AddText(command, "@partial", nameof(SyncRunStatus.PartiallyFailed));
            StateDialect.Add(command, "@b", true, DbType.Boolean);
            using var reader = command.ExecuteReader();
            return reader.Read() ? sql.Dialect.ReadTime(reader, 0) : null;
        });
    }
}
