using System.Globalization;
using System.Text;
using System.Text.Json;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// BigQuery through jobs.query then getQueryResults: POST /bigquery/v2/projects/{project}/queries with named
/// parameters (@name), polling until jobComplete, pages followed by pageToken one at a time and checked against
/// totalRows at the end, and jobs.cancel on Ctrl+C or timeout. A service account's token asks for the bigquery scope:
/// jobs.query does not accept bigquery.readonly (what the account may read is still bounded by its IAM roles).
/// Connection string: Project=my-project;ServiceAccountKeyFile=/keys/sa.json;[Location=EU;PageSize=10000]
/// — or AccessToken=... (or -Credential's password) instead of the key file; Endpoint=https://... overrides the URL.
/// </summary>
public sealed class BigQuerySource : GoogleSource
{
    private readonly Uri _endpoint;
    private readonly string _project;
    private readonly string? _location;
    private readonly int _pageSize;

    public BigQuerySource(RestSettings settings, HttpMessageHandler? handler = null, TimeProvider? time = null)
        : base(settings, handler, time, "https://www.googleapis.com/auth/bigquery", allowApiKey: false)
    {
        _endpoint = settings.Endpoint("https://bigquery.googleapis.com");
        _project = settings.Get("Project", "ProjectId") ?? KeyProject ?? throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
            "The BigQuery connection string needs Project=... (the project that runs and pays for the query).");
        _location = settings.Get("Location");
        _pageSize = settings.GetInt(10000, "PageSize", "MaxResults");
    }

    public override string Provider => "BigQuery";
    public override string Target => $"{Authority(_endpoint)} project {_project}";

    private HttpRequestMessage Request(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var request = Json(method, Combine(_endpoint, path), body);
        Authorize(request, cancellationToken);
        return request;
    }

    /// <summary>queryParameters: each named, typed by its .NET value, the value as text.</summary>
    public static List<Dictionary<string, object?>> Parameters(IEnumerable<KeyValuePair<string, object?>> parameters) =>
        parameters.Select(p =>
        {
            var type = p.Value switch
            {
                _ when RestValues.IsInteger(p.Value) => "INT64",
                decimal d => ((decimal.GetBits(d)[3] >> 16) & 0xFF) > 9 ? "BIGNUMERIC" : "NUMERIC",
                double or float => "FLOAT64",
                bool => "BOOL",
                byte[] => "BYTES",
                DateTime { Kind: DateTimeKind.Unspecified } => "DATETIME",
                DateTime or DateTimeOffset => "TIMESTAMP",
                _ => "STRING",
            };
            var value = new Dictionary<string, object?>();
            if (p.Value is not null) value["value"] = RestValues.ParameterText(p.Value);
            return new Dictionary<string, object?>
            {
                ["name"] = p.Key.TrimStart('@'),
                ["parameterType"] = new Dictionary<string, object?> { ["type"] = type },
                ["parameterValue"] = value,
            };
        }).ToList();

    private string ResultsPath(string jobId, string? pageToken)
    {
        var path = new StringBuilder($"/bigquery/v2/projects/{Uri.EscapeDataString(_project)}/queries/{Uri.EscapeDataString(jobId)}?maxResults={_pageSize}&timeoutMs=10000&formatOptions.useInt64Timestamp=true");
        if (_location is not null) path.Append("&location=").Append(Uri.EscapeDataString(_location));
        if (pageToken is not null) path.Append("&pageToken=").Append(Uri.EscapeDataString(pageToken));
        return path.ToString();
    }

    public override IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken)
    {
        QueryPlaceholders.RequireNamed(Provider, query.Query, '@', query.Parameters.Keys);
        var body = new Dictionary<string, object?>
        {
            ["query"] = query.Query,
            ["useLegacySql"] = false,
            ["maxResults"] = _pageSize,
            ["timeoutMs"] = 10000,
            ["requestId"] = Guid.NewGuid().ToString(),
            ["formatOptions"] = new Dictionary<string, object?> { ["useInt64Timestamp"] = true },
        };
        if (_location is not null) body["location"] = _location;
        if (query.CommandTimeout is { } timeout && timeout > TimeSpan.Zero) body["jobTimeoutMs"] = ((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        if (query.Parameters.Count > 0)
        {
            body["parameterMode"] = "NAMED";
            body["queryParameters"] = Parameters(query.Parameters);
        }

        var reply = Send(() => Request(HttpMethod.Post, $"/bigquery/v2/projects/{Uri.EscapeDataString(_project)}/queries", body, cancellationToken), "the answer to jobs.query", cancellationToken);
        // Read before the reply is checked: it is used only once the query has started.
        var jobId = StringOf(Property(reply.Root, "jobReference") ?? default, "jobId");
        var statement = new RunningStatement(query, $"job {jobId}",
            Running: r => Property(r.Root, "jobComplete") is { ValueKind: JsonValueKind.False },
            Poll: () => Request(HttpMethod.Get, ResultsPath(jobId ?? "", null), null, cancellationToken),
            Cancel: () => Cancel(jobId))
        {
            Started = r => { if (!r.Ok) throw GoogleFailure(r, "running the query"); },
            Polled = r => { if (!r.Ok) throw GoogleFailure(r, "waiting for the query"); },
            Finished = r =>
            {
                if (Property(r.Root, "errors") is { ValueKind: JsonValueKind.Array } errors && errors.GetArrayLength() > 0)
                    throw SourceErrors.Query($"The BigQuery query failed: {Mask.Mask(StringOf(errors[0], "message"))}");
            },
            PauseBetweenPolls = false, // getQueryResults waits up to timeoutMs on the server
        };
        return Rows(AwaitFinished(reply, statement, cancellationToken), jobId, cancellationToken);
    }

    private IEnumerable<SourceRow> Rows(Reply first, string? jobId, CancellationToken cancellationToken)
    {
        using (first)
        {
            var columns = new ResultColumns(Property(Property(first.Root, "schema") ?? default, "fields"), Converter);
            var totalRows = LongOf(first.Root, "totalRows");
            var token = StringOf(first.Root, "pageToken");
            long total = 0;
            foreach (var row in RowsOf(first.Root, columns))
            {
                total++;
                yield return row;
            }
            first.Dispose();
            for (var number = 2; !string.IsNullOrEmpty(token); number++)
            {
                if (jobId is null) throw ReadFailed("the first page of the result has a pageToken but no jobReference to fetch the next page with");
                var pageToken = token;
                using var page = SendOrCancel(() => Request(HttpMethod.Get, ResultsPath(jobId, pageToken), null, cancellationToken), $"page {number} of job {jobId}", () => Cancel(jobId), cancellationToken);
                if (!page.Ok) throw GoogleFailure(page, "fetching a result page");
                token = StringOf(page.Root, "pageToken");
                foreach (var row in RowsOf(page.Root, columns))
                {
                    total++;
                    yield return row;
                }
            }
            CheckCount($"The result of job {jobId}", totalRows, total);
        }
    }

    /// <summary>The rows of a page: each an object whose "f" holds the cells, each cell's value in its "v".</summary>
    private static IEnumerable<SourceRow> RowsOf(JsonElement root, ResultColumns columns)
    {
        if (Property(root, "rows") is not { ValueKind: JsonValueKind.Array } rows) yield break;
        foreach (var row in rows.EnumerateArray())
            yield return columns.Row(Property(row, "f") is { ValueKind: JsonValueKind.Array } cells
                ? cells.EnumerateArray().Select(cell => Property(cell, "v") ?? default)
                : Enumerable.Empty<JsonElement>());
    }

    /// <summary>How a cell's "v" of a BigQuery field becomes a value; RECORD and REPEATED fields become JSON text.</summary>
    public static Func<JsonElement, object?> Converter(JsonElement field)
    {
        var type = (StringOf(field, "type") ?? "STRING").ToUpperInvariant();
        var mode = (StringOf(field, "mode") ?? "NULLABLE").ToUpperInvariant();
        if (mode == "REPEATED" || type is "RECORD" or "STRUCT")
        {
            var copy = field.Clone();
            return v => ToJson(copy, v);
        }
        return Scalar(type);
    }

    private static Func<JsonElement, object?> Scalar(string type) => type switch
    {
        "INTEGER" or "INT64" => RestValues.Integer,
        "NUMERIC" or "BIGNUMERIC" => RestValues.Decimal,
        "FLOAT" or "FLOAT64" => RestValues.Double,
        "BOOLEAN" or "BOOL" => RestValues.Boolean,
        "TIMESTAMP" => c =>
        {
            var text = RestValues.Text(c)!;
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var micros)
                ? RestValues.FromEpochMicroseconds(micros)
                : RestValues.FromEpochSeconds(text);
        },
        "DATE" or "DATETIME" => RestValues.IsoDate,
        "BYTES" => RestValues.Base64,
        _ => RestValues.Text, // STRING, JSON, TIME, GEOGRAPHY, INTERVAL, RANGE
    };

    private static string ToJson(JsonElement field, JsonElement value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) WriteValue(writer, field, value, repeatedHandled: false);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonElement field, JsonElement value, bool repeatedHandled)
    {
        var type = (StringOf(field, "type") ?? "STRING").ToUpperInvariant();
        var mode = (StringOf(field, "mode") ?? "NULLABLE").ToUpperInvariant();
        if (value.ValueKind == JsonValueKind.Null) { writer.WriteNullValue(); return; }
        if (mode == "REPEATED" && !repeatedHandled && value.ValueKind == JsonValueKind.Array)
        {
            writer.WriteStartArray();
            foreach (var item in value.EnumerateArray())
                WriteValue(writer, field, Property(item, "v") ?? default, repeatedHandled: true);
            writer.WriteEndArray();
            return;
        }
        if (type is "RECORD" or "STRUCT")
        {
            writer.WriteStartObject();
            var subFields = Property(field, "fields") is { ValueKind: JsonValueKind.Array } s ? s.EnumerateArray().ToList() : new List<JsonElement>();
            var cells = Property(value, "f") is { ValueKind: JsonValueKind.Array } f ? f.EnumerateArray().ToList() : new List<JsonElement>();
            for (var i = 0; i < subFields.Count; i++)
            {
                writer.WritePropertyName(StringOf(subFields[i], "name") ?? $"f{i}");
                var cell = i < cells.Count ? Property(cells[i], "v") : null;
                if (cell is null) writer.WriteNullValue();
                else WriteValue(writer, subFields[i], cell.Value, repeatedHandled: false);
            }
            writer.WriteEndObject();
            return;
        }
        switch (Scalar(type)(value))
        {
            case null: writer.WriteNullValue(); break;
            case long l: writer.WriteNumberValue(l); break;
            case decimal d: writer.WriteNumberValue(d); break;
            case double d when !double.IsNaN(d) && !double.IsInfinity(d): writer.WriteNumberValue(d); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case DateTime dt: writer.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture)); break;
            case byte[] bytes: writer.WriteStringValue(Convert.ToBase64String(bytes)); break;
            case var other: writer.WriteStringValue(Convert.ToString(other, CultureInfo.InvariantCulture)); break;
        }
    }

    private void Cancel(string? jobId)
    {
        if (string.IsNullOrEmpty(jobId)) return;
        var path = $"/bigquery/v2/projects/{Uri.EscapeDataString(_project)}/jobs/{Uri.EscapeDataString(jobId!)}/cancel" +
                   (_location is null ? "" : "?location=" + Uri.EscapeDataString(_location));
        TryCancel(() => Request(HttpMethod.Post, path, null, CancellationToken.None));
    }
}
