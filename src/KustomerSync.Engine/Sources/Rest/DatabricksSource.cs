using System.Globalization;
using System.Text.Json;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// Databricks SQL through the Statement Execution API: POST /api/2.0/sql/statements with named parameters (:name),
/// a personal access token, wait_timeout then polling, JSON_ARRAY INLINE chunks followed by next_chunk_internal_link
/// one at a time (each checked against its row_count, the whole against the manifest's total_row_count and
/// total_chunk_count), and POST .../cancel on Ctrl+C or timeout.
/// Connection string: Host=adb-123.4.azuredatabricks.net;WarehouseId=abc123;Token=dapi...;[Catalog=main;Schema=default]
/// (Endpoint=https://... is the same as Host; the token may also come as -Credential's password).
/// </summary>
public sealed class DatabricksSource : RestSource
{
    private readonly Uri _endpoint;
    private readonly string _warehouse;
    private readonly string _token;

    public DatabricksSource(RestSettings settings, HttpMessageHandler? handler = null, TimeProvider? time = null) : base(settings, handler, time)
    {
        _endpoint = settings.Endpoint(null);
        _warehouse = settings.Require("the SQL warehouse id, from its connection details", "WarehouseId", "Warehouse", "warehouse_id");
        _token = settings.Secret("Token", "AccessToken", "PersonalAccessToken")
            ?? throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, "The Databricks connection string needs Token=... (a personal access token), or pass it as the credential's password.");
        Mask.Add(_token);
    }

    public override string Provider => "Databricks";
    public override string Target => Authority(_endpoint);

    private HttpRequestMessage Request(HttpMethod method, string path, object? body)
    {
        var request = Json(method, Combine(_endpoint, path), body);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _token);
        return request;
    }

    /// <summary>The parameters list: name, value as text (null for NULL) and a type the server casts to.</summary>
    public static List<Dictionary<string, object?>> Parameters(IEnumerable<KeyValuePair<string, object?>> parameters) =>
        parameters.Select(p =>
        {
            var item = new Dictionary<string, object?> { ["name"] = p.Key.TrimStart(':', '@'), ["value"] = RestValues.ParameterText(p.Value) };
            var type = p.Value switch
            {
                int or short or byte or sbyte => "INT",
                long or uint or ulong or ushort => "BIGINT",
                decimal d => $"DECIMAL(38,{(decimal.GetBits(d)[3] >> 16) & 0xFF})",
                double => "DOUBLE",
                float => "FLOAT",
                bool => "BOOLEAN",
                DateTime { Kind: DateTimeKind.Unspecified } => "TIMESTAMP_NTZ",
                DateTime or DateTimeOffset => "TIMESTAMP",
                _ => null,
            };
            if (type is not null) item["type"] = type;
            return item;
        }).ToList();

    public override IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken)
    {
        QueryPlaceholders.RequireNamed(Provider, query.Query, ':', query.Parameters.Keys);
        var body = new Dictionary<string, object?>
        {
            ["statement"] = query.Query,
            ["warehouse_id"] = _warehouse,
            ["wait_timeout"] = "30s",
            ["on_wait_timeout"] = "CONTINUE",
            ["format"] = "JSON_ARRAY",
            ["disposition"] = "INLINE",
        };
        if (Settings.Get("Catalog") is { } catalog) body["catalog"] = catalog;
        if (Settings.Get("Schema") is { } schema) body["schema"] = schema;
        if (query.Parameters.Count > 0) body["parameters"] = Parameters(query.Parameters);

        var reply = Send(() => Request(HttpMethod.Post, "/api/2.0/sql/statements", body), "the answer to the statement", cancellationToken);
        var id = StringOf(reply.Root, "statement_id");
        var statement = new RunningStatement(query, $"statement {id}",
            Running: r => State(r.Root) is "PENDING" or "RUNNING",
            Poll: () => Request(HttpMethod.Get, $"/api/2.0/sql/statements/{Uri.EscapeDataString(id ?? "")}", null),
            Cancel: () => Cancel(id))
        {
            // The statement has no server-side timeout that could answer first, so no grace beyond -CommandTimeout.
            Deadline = query.CommandTimeout is { } t && t > TimeSpan.Zero ? UtcNow + t : DateTime.MaxValue,
            Started = r => { if (!r.Ok) throw Failure(r, ErrorMessage(r.Root), "running the statement"); },
            Polled = r => { if (!r.Ok) throw Failure(r, ErrorMessage(r.Root), "polling the statement"); },
            Finished = r =>
            {
                var state = State(r.Root);
                if (state == "SUCCEEDED") return;
                var error = Property(Property(r.Root, "status") ?? default, "error") ?? default;
                var message = Mask.Mask(ErrorText(error) ?? $"the statement ended {state}");
                throw state == "CANCELED"
                    ? SourceErrors.Query($"The Databricks statement was cancelled: {message}")
                    : SourceErrors.Query($"The Databricks query failed: {message}");
            },
        };
        return Rows(AwaitFinished(reply, statement, cancellationToken), id, cancellationToken);
    }

    private IEnumerable<SourceRow> Rows(Reply first, string? id, CancellationToken cancellationToken)
    {
        using (first)
        {
            var manifest = Property(first.Root, "manifest") ?? throw ReadFailed($"the answer to statement {id} has no result manifest");
            if (Property(manifest, "truncated") is { ValueKind: JsonValueKind.True })
                throw ReadFailed($"statement {id} succeeded, but its manifest says the result was truncated (a row or byte limit)");
            var columns = new ResultColumns(Property(Property(manifest, "schema") ?? default, "columns"), column => Converter(StringOf(column, "type_name") ?? "STRING"));
            var totalRows = LongOf(manifest, "total_row_count");
            var totalChunks = LongOf(manifest, "total_chunk_count");
            // The manifest may list each chunk with its row count.
            var listed = new Dictionary<long, long?>();
            if (Property(manifest, "chunks") is { ValueKind: JsonValueKind.Array } chunks)
                foreach (var c in chunks.EnumerateArray())
                    if (LongOf(c, "chunk_index") is { } i) listed[i] = LongOf(c, "row_count");
            long total = 0;
            long index = 0;
            var chunk = Property(first.Root, "result");
            Reply? page = null;
            try
            {
                while (chunk is { } current)
                {
                    if (index == 0 && Property(current, "chunk_index") is null && Property(current, "data_array") is null) break; // an empty result
                    var at = LongOf(current, "chunk_index") ?? index;
                    if (at != index) throw ReadFailed($"chunk {index} of statement {id} was expected, but chunk {at} came");
                    long read = 0;
                    foreach (var row in columns.ArrayRows(current, "data_array"))
                    {
                        read++;
                        yield return row;
                    }
                    CheckCount($"Chunk {index} of statement {id}", LongOf(current, "row_count") ?? (listed.TryGetValue(index, out var listedCount) ? listedCount : null), read);
                    total += read;
                    index++;
                    var next = StringOf(current, "next_chunk_internal_link");
                    page?.Dispose();
                    page = null;
                    if (string.IsNullOrEmpty(next)) break;
                    var what = $"chunk {index}{(totalChunks is null ? "" : $" of {totalChunks}")} of statement {id}";
                    page = SendOrCancel(() => Request(HttpMethod.Get, next!, null), what, () => Cancel(id), cancellationToken);
                    if (!page.Ok) throw Failure(page, ErrorMessage(page.Root), "fetching a result chunk");
                    chunk = page.Root;
                }
            }
            finally
            {
                page?.Dispose();
            }
            // An empty result has no chunk at all, and a manifest that says 0 chunks.
            if (totalChunks is { } expected && expected != index)
                throw ReadFailed($"the manifest of statement {id} lists {expected} chunks, but only {index} arrived (the link to chunk {index} was missing)");
            CheckCount($"The result of statement {id}", totalRows, total);
        }
    }

    /// <summary>How a JSON_ARRAY cell (text) of a Databricks type becomes a value.</summary>
    public static Func<JsonElement, object?> Converter(string typeName) => typeName.ToUpperInvariant() switch
    {
        "BYTE" or "SHORT" or "INT" or "LONG" => RestValues.Integer,
        "DECIMAL" => RestValues.Decimal,
        "FLOAT" or "DOUBLE" => RestValues.Double,
        "BOOLEAN" => RestValues.Boolean,
        "DATE" or "TIMESTAMP" or "TIMESTAMP_NTZ" => RestValues.IsoDate,
        "BINARY" => RestValues.Base64,
        _ => RestValues.Text, // STRING, CHAR, ARRAY, MAP, STRUCT (JSON text), INTERVAL, ...
    };

    private static string? State(JsonElement root) => StringOf(Property(root, "status") ?? default, "state");

    private static string? ErrorText(JsonElement error) =>
        error.ValueKind != JsonValueKind.Object ? null
            : StringOf(error, "message") is { } message ? $"{message}{(StringOf(error, "error_code") is { } code ? $" ({code})" : "")}" : null;

    private static string? ErrorMessage(JsonElement root) => ErrorText(root) ?? ErrorText(Property(Property(root, "status") ?? default, "error") ?? default);

    private void Cancel(string? id)
    {
        if (string.IsNullOrEmpty(id)) return;
        TryCancel(() => Request(HttpMethod.Post, $"/api/2.0/sql/statements/{Uri.EscapeDataString(id!)}/cancel", null));
    }
}
