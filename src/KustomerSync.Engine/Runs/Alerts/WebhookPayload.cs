using System.Globalization;
using System.Text.Json.Nodes;

namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>Builds the body of an alert post in the format its receiver reads.</summary>
public static class WebhookPayload
{
    public static WebhookFormat Resolve(WebhookFormat format, Uri url)
    {
        if (format != WebhookFormat.Auto) return format;
        var host = url.Host.ToLowerInvariant();
        if (host == "hooks.slack.com") return WebhookFormat.Slack;
        if (host.EndsWith(".webhook.office.com", StringComparison.Ordinal) || host == "outlook.office.com" ||
            host.EndsWith(".logic.azure.com", StringComparison.Ordinal) || host.EndsWith(".powerplatform.com", StringComparison.Ordinal) ||
            host.EndsWith(".powerautomate.com", StringComparison.Ordinal))
            return WebhookFormat.Teams;
        return WebhookFormat.Json;
    }

    public static JsonObject Build(RunReport report, WebhookFormat format) => format switch
    {
        WebhookFormat.Teams => Teams(report),
        WebhookFormat.Slack => Slack(report),
        _ => Json(report),
    };

    private static IEnumerable<(string Name, string Value)> Facts(RunReport r)
    {
        yield return ("Object", r.Object);
        yield return ("Status", r.Status.ToString());
        yield return ("Rows", r.CountsLine);
        if (r.RunId is { } id) yield return ("Run", $"{id} in the run history of sync '{r.Sync}'");
        yield return ("Started", r.StartedUtc.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        yield return ("Took", $"{(r.EndedUtc - r.StartedUtc).TotalSeconds:N1} s");
        if (r.ErrorId is not null) yield return ("ErrorId", r.ErrorId);
        if (r.RejectedKeys.Count > 0)
            yield return ("Rejected keys", string.Join(", ", r.RejectedKeys) + (r.Rejected > r.RejectedKeys.Count ? $" and {r.Rejected - r.RejectedKeys.Count:N0} more" : ""));
    }

    private static JsonObject Teams(RunReport r)
    {
        var body = new JsonArray
        {
            new JsonObject { ["type"] = "TextBlock", ["text"] = r.Headline, ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true },
        };
        if (r.Message is not null) body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = r.Message, ["wrap"] = true });
        var facts = new JsonArray();
        foreach (var (name, value) in Facts(r)) facts.Add(new JsonObject { ["title"] = name, ["value"] = value });
        body.Add(new JsonObject { ["type"] = "FactSet", ["facts"] = facts });
        return new JsonObject
        {
            ["type"] = "message",
            ["summary"] = r.Headline,
            ["attachments"] = new JsonArray
            {
                new JsonObject
                {
                    ["contentType"] = "application/vnd.microsoft.card.adaptive",
                    ["contentUrl"] = null,
                    ["content"] = new JsonObject
                    {
                        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                        ["type"] = "AdaptiveCard",
                        ["version"] = "1.4",
                        ["body"] = body,
                    },
                },
            },
        };
    }

    private static JsonObject Slack(RunReport r)
    {
        var lines = Facts(r).Select(f => $"*{f.Name}:* {f.Value}");
        var detail = (r.Message is null ? "" : r.Message + "\n") + string.Join("\n", lines);
        return new JsonObject
        {
            ["text"] = r.Headline,
            ["blocks"] = new JsonArray
            {
                new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = "*" + r.Headline + "*" } },
                new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = detail } },
            },
        };
    }

    private static JsonObject Json(RunReport r)
    {
        var keys = new JsonArray();
        foreach (var key in r.RejectedKeys) keys.Add(key);
        return new JsonObject
        {
            ["source"] = "KustomerSync",
            ["text"] = r.Headline,
            ["sync"] = r.Sync,
            ["object"] = r.Object,
            ["status"] = r.Status.ToString(),
            ["guard"] = r.Guard,
            ["runId"] = r.RunId,
            ["machine"] = r.Machine,
            ["startedAt"] = r.StartedUtc.ToString("o", CultureInfo.InvariantCulture),
            ["endedAt"] = r.EndedUtc.ToString("o", CultureInfo.InvariantCulture),
            ["total"] = r.Total,
            ["created"] = r.Created,
            ["updated"] = r.Updated,
            ["unchanged"] = r.Unchanged,
            ["invalid"] = r.Invalid,
            ["failed"] = r.Failed,
            ["requests"] = r.Requests,
            ["errorId"] = r.ErrorId,
            ["message"] = r.Message,
            ["rejectedKeys"] = keys,
        };
    }
}
