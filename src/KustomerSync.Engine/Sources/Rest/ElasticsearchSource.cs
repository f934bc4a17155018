using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>
/// Elasticsearch (and OpenSearch where compatible) through the SQL API: POST /_sql?format=json with positional
/// params (?), pages followed by cursor one at a time, and the cursor closed (POST /_sql/close) when reading stops
/// early. Basic auth (User/Password or -Credential) or an API key (ApiKey=base64 or id:key). The cursor is kept for
/// PageTimeout seconds between pages (Elasticsearch's default, 45 s, is shorter than a slow pipeline may take to
/// consume one page).
/// Connection string: Endpoint=https://es.example.com:9200;ApiKey=...;[FetchSize=1000;PageTimeout=600]
/// </summary>
public sealed class ElasticsearchSource : RestSource
{
    private readonly Uri _endpoint;
    private readonly string? _authorization;
    private readonly int _fetchSize;
    private readonly int _pageTimeout;

    public ElasticsearchSource(RestSettings settings, HttpMessageHandler? handler = null, TimeProvider? time = null) : base(settings, handler, time)
    {
        _endpoint = settings.Endpoint(null);
        _fetchSize = settings.GetInt(1000, "FetchSize", "PageSize");
        _pageTimeout = settings.GetInt(600, "PageTimeout");
        var apiKey = settings.Get("ApiKey", "Api Key");
        if (apiKey is not null)
        {
            var encoded = apiKey.Contains(':') ? Convert.ToBase64String(Encoding.UTF8.GetBytes(apiKey)) : apiKey;
            _authorization = "ApiKey " + encoded;
            Mask.Add(encoded).Add(apiKey);
        }
        else
        {
            var user = settings.User("User", "Username", "User ID");
            var password = settings.Secret("Password", "Pwd");
            if (user is not null)
            {
                var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
                _authorization = "Basic " + encoded;
                Mask.Add(encoded).Add(password);
            }
        }
    }

    public override string Provider => "Elasticsearch";
    public override string Target => Authority(_endpoint);

    private HttpRequestMessage Request(string path, object body)
    {
        var request = Json(HttpMethod.Post, Combine(_endpoint, path), body);
        if (_authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", _authorization);
        return request;
    }

    /// <summary>The params array: native JSON values in binding order (dates as ISO 8601 UTC text).</summary>
    public static List<object?> Parameters(IReadOnlyList<KeyValuePair<string, object?>> parameters) =>
        parameters.Select(p => p.Value switch
        {
            null => null,
            DateTime or DateTimeOffset => RestValues.ParameterText(p.Value),
            byte[] bytes => Convert.ToBase64String(bytes),
            Guid g => g.ToString(),
            var v when RestValues.IsInteger(v) || v is decimal or double or float or bool or string => v,
            var v => RestValues.ParameterText(v),
        }).ToList();

    public override IEnumerable<SourceRow> Read(SourceQuery query, CancellationToken cancellationToken)
    {
        var parameters = query.PositionalParameters(Provider);
        QueryPlaceholders.RequirePositional(Provider, query.Query, parameters.Count);
        var body = new Dictionary<string, object?>
        {
            ["query"] = query.Query,
            ["fetch_size"] = _fetchSize,
            ["time_zone"] = "Z",
            ["page_timeout"] = $"{_pageTimeout}s",
        };
        if (query.CommandTimeout is { } timeout && timeout > TimeSpan.Zero) body["request_timeout"] = $"{(long)Math.Ceiling(timeout.TotalSeconds)}s";
        if (parameters.Count > 0) body["params"] = Parameters(parameters);
        var reply = Send(() => Request("/_sql?format=json", body), "the first page of the result", cancellationToken);
        try
        {
            if (!reply.Ok) throw EsFailure(reply, "running the query");
        }
        catch
        {
            reply.Dispose();
            throw;
        }
        return Rows(reply, cancellationToken);
    }

    private IEnumerable<SourceRow> Rows(Reply first, CancellationToken cancellationToken)
    {
        string? cursor = null;
        try
        {
            using (first)
            {
                var columns = new ResultColumns(Property(first.Root, "columns"), column => Converter(StringOf(column, "type") ?? "keyword"));
                cursor = StringOf(first.Root, "cursor");
                foreach (var row in columns.ArrayRows(RequireRows(first, "the first page"), "rows")) yield return row;
                for (var number = 2; !string.IsNullOrEmpty(cursor); number++)
                {
                    var current = cursor!;
                    var what = $"page {number} of the result";
                    using var page = Send(() => Request("/_sql?format=json", new Dictionary<string, object?> { ["cursor"] = current }), what, cancellationToken);
                    if (!page.Ok) throw EsFailure(page, "fetching the next page");
                    cursor = StringOf(page.Root, "cursor");
                    foreach (var row in columns.ArrayRows(RequireRows(page, what), "rows")) yield return row;
                }
            }
        }
        finally
        {
            // Reading stopped early (Select-Object -First, an error, Ctrl+C): free the server-side cursor.
            if (!string.IsNullOrEmpty(cursor))
            {
                var open = cursor!;
                TryCancel(() => Request("/_sql/close", new Dictionary<string, object?> { ["cursor"] = open }));
            }
        }
    }

    /// <summary>Every page of an _sql answer has a rows array (empty at the end): one without it is not a page.</summary>
    private JsonElement RequireRows(Reply page, string what) =>
        Property(page.Root, "rows") is { ValueKind: JsonValueKind.Array } ? page.Root : throw ReadFailed($"{what} has no rows array");

    /// <summary>How a cell of an Elasticsearch SQL type becomes a value.</summary>
    public static Func<JsonElement, object?> Converter(string type) => type.ToLowerInvariant() switch
    {
        "byte" or "short" or "integer" or "long" => RestValues.Integer,
        "unsigned_long" or "scaled_float" => RestValues.Decimal,
        "double" or "float" or "half_float" => RestValues.Double,
        "boolean" => RestValues.Boolean,
        "datetime" or "date" => RestValues.IsoDate,
        "binary" => RestValues.Base64,
        _ => RestValues.Text, // keyword, text, ip, version, object and nested (JSON text), geo types, ...
    };

    private SourceException EsFailure(Reply reply, string doing)
    {
        string? message = null;
        if (Property(reply.Root, "error") is { } error)
        {
            if (error.ValueKind == JsonValueKind.String) message = error.GetString();
            else
            {
                var reason = StringOf(error, "reason");
                var type = StringOf(error, "type");
                if (Property(error, "root_cause") is { ValueKind: JsonValueKind.Array } causes && causes.GetArrayLength() > 0)
                {
                    reason = StringOf(causes[0], "reason") ?? reason;
                    type = StringOf(causes[0], "type") ?? type;
                }
                message = type is null ? reason : $"{reason} ({type})";
            }
        }
        return Failure(reply, message, doing);
    }
}
