using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// Google Sheets through the values API: the query is a range in A1 notation ("Customers", "Customers!A:F",
/// "'Q3 data'!B2:H"); its first row holds the column names. Rows are fetched in pages of PageSize rows
/// (GET spreadsheets/{id}/values/{range}), so memory stays flat for big sheets; the sheet's row count comes from
/// GET spreadsheets/{id}?fields=sheets.properties. Blank cells are null; fully blank rows are skipped; numbers are
/// decimals; booleans stay booleans; dates come as the sheet shows them (text).
/// Connection string: SpreadsheetId=1AbC...;ApiKey=... | ServiceAccountKeyFile=/keys/sa.json | AccessToken=...;[PageSize=5000]
/// </summary>
public sealed class GoogleSheetsSource : GoogleSource
{
    private static readonly Regex CellRef = new(@"^(?<col>[A-Za-z]*)(?<row>\d*)$", RegexOptions.Compiled);
    private readonly Uri _endpoint;
    private readonly string _spreadsheet;
    private readonly int _pageSize;

    public GoogleSheetsSource(RestSettings settings, HttpMessageHandler? handler = null, TimeProvider? time = null)
        : base(settings, handler, time, "https://www.googleapis.com/auth/spreadsheets.readonly", allowApiKey: true)
    {
        _endpoint = settings.Endpoint("https://sheets.googleapis.com");
        _spreadsheet = settings.Require("the id in the sheet's URL: docs.google.com/spreadsheets/d/<id>/", "SpreadsheetId", "Spreadsheet", "Id");
        _pageSize = settings.GetInt(5000, "PageSize");
    }

    public override string Provider => "GoogleSheets";
    public override string Target => $"{Authority(_endpoint)} spreadsheet {_spreadsheet}";

    /// <summary>A range split into its sheet and its bounds (columns and rows, each optional).</summary>
    public sealed record SheetRange(string Sheet, string? FirstColumn = null, string? LastColumn = null, int FirstRow = 1, int? LastRow = null)
    {
        public static SheetRange Parse(string range)
        {
            var text = range.Trim();
            var bang = text.LastIndexOf('!');
            var sheet = bang >= 0 ? text.Substring(0, bang) : text;
            var cells = bang >= 0 ? text.Substring(bang + 1) : "";
            if (sheet.Length >= 2 && sheet[0] == '\'' && sheet[sheet.Length - 1] == '\'')
                sheet = sheet.Substring(1, sheet.Length - 2).Replace("''", "'");
            if (cells.Length == 0) return new SheetRange(sheet);
            var parts = cells.Split(':');
            var first = CellRef.Match(parts[0]);
            var last = parts.Length > 1 ? CellRef.Match(parts[1]) : first;
            if (!first.Success || !last.Success || parts.Length > 2)
                throw SourceErrors.Invalid(ErrorIds.SourceInvalidParameter, $"GoogleSheets: '{range}' is not a range in A1 notation (e.g. Sheet1, Sheet1!A:F, 'My sheet'!B2:H500).");
            return new SheetRange(sheet,
                first.Groups["col"].Length > 0 ? first.Groups["col"].Value.ToUpperInvariant() : null,
                last.Groups["col"].Length > 0 ? last.Groups["col"].Value.ToUpperInvariant() : null,
                first.Groups["row"].Length > 0 ? int.Parse(first.Groups["row"].Value, CultureInfo.InvariantCulture) : 1,
                parts.Length > 1 && last.Groups["row"].Length > 0 ? int.Parse(last.Groups["row"].Value, CultureInfo.InvariantCulture) : null);
        }

        /// <summary>The A1 range of rows [from, to] within these bounds.</summary>
        public string Rows(int from, int to)
        {
            var sheet = "'" + Sheet.Replace("'", "''") + "'";
            return FirstColumn is null && LastColumn is null
                ? $"{sheet}!{from}:{to}"
                : $"{sheet}!{FirstColumn ?? "A"}{from}:{LastColumn ?? FirstColumn}{to}";
        }
    }

    private HttpRequestMessage Get(string path, CancellationToken cancellationToken)
    {
        if (ApiKey is not null) path += (path.Contains('?') ? "&" : "?") + "key=" + Uri.EscapeDataString(ApiKey);
        var request = Json(HttpMethod.Get, Combine(_endpoint, path), null);
        Authorize(request, cancellationToken);
        return request;
    }

    public override IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken)
    {
        if (query.Parameters.Count > 0)
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidParameter, "GoogleSheets reads a range, not a query: it takes no query parameters (filter the rows once they are read).");
        var range = SheetRange.Parse(query.Query);
        var id = Uri.EscapeDataString(_spreadsheet);

        // The sheet's row count bounds the paging (blank rows in the middle do not end the read).
        int rowCount;
        using (var meta = Send(() => Get($"/v4/spreadsheets/{id}?fields=sheets.properties", cancellationToken), "the spreadsheet's sheet list", cancellationToken))
        {
            if (!meta.Ok) throw GoogleFailure(meta, "opening the spreadsheet");
            var sheet = Property(meta.Root, "sheets") is { ValueKind: JsonValueKind.Array } sheets
                ? sheets.EnumerateArray().Select(s => Property(s, "properties") ?? default)
                    .FirstOrDefault(p => string.Equals(StringOf(p, "title"), range.Sheet, StringComparison.OrdinalIgnoreCase))
                : default;
            if (sheet.ValueKind != JsonValueKind.Object)
                throw SourceErrors.Query($"GoogleSheets: the spreadsheet has no sheet named '{range.Sheet}'.");
            range = range with { Sheet = StringOf(sheet, "title") ?? range.Sheet };
            rowCount = Property(Property(sheet, "gridProperties") ?? default, "rowCount") is { ValueKind: JsonValueKind.Number } n ? n.GetInt32() : int.MaxValue;
        }
        var lastRow = Math.Min(range.LastRow ?? int.MaxValue, rowCount);
        return Rows(range, id, lastRow, cancellationToken);
    }

    private IEnumerable<SourceRow> Rows(SheetRange range, string id, int lastRow, CancellationToken cancellationToken)
    {
        SourceColumns? columns = null;
        var width = 0;
        for (var from = range.FirstRow; from <= lastRow; from += _pageSize)
        {
            var to = (int)Math.Min((long)from + _pageSize - 1, lastRow);
            var rows = range.Rows(from, to);
            var a1 = Uri.EscapeDataString(rows);
            using var page = Send(() => Get($"/v4/spreadsheets/{id}/values/{a1}?majorDimension=ROWS&valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=FORMATTED_STRING", cancellationToken), $"the range {rows}", cancellationToken);
            if (!page.Ok) throw GoogleFailure(page, "reading the range");
            if (Property(page.Root, "values") is not { ValueKind: JsonValueKind.Array } values) continue;
            foreach (var row in values.EnumerateArray())
            {
                if (columns is null)
                {
                    var names = row.EnumerateArray().Select(c => RestValues.Text(c)?.Trim() ?? "").ToList();
                    while (names.Count > 0 && names[names.Count - 1].Length == 0) names.RemoveAt(names.Count - 1);
                    if (names.Count == 0) throw SourceErrors.Query($"GoogleSheets: the first row of '{range.Sheet}' is blank; it must hold the column names.");
                    columns = new SourceColumns(names);
                    width = names.Count;
                    continue;
                }
                var cells = new object?[width];
                var i = 0;
                var blank = true;
                foreach (var cell in row.EnumerateArray())
                {
                    if (i >= width) break;
                    var value = Cell(cell);
                    cells[i++] = value;
                    if (value is not null) blank = false;
                }
                if (!blank) yield return new SourceRow(columns, cells);
            }
        }
    }

    /// <summary>An unformatted cell: numbers as exact decimals, booleans, text; an empty cell is null.</summary>
    public static object? Cell(JsonElement cell) => cell.ValueKind switch
    {
        JsonValueKind.Number => RestValues.Decimal(cell),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => cell.GetString() is { Length: > 0 } s ? s : null,
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => cell.GetRawText(),
    };
}
