using System.Collections;
using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Runs.Alerts;
using KustomerSync.Engine.Runs.Guards;
using KustomerSync.Engine.Sources;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>
/// Validates the data of a sync definition (plain dictionaries, lists, strings, numbers, booleans and
/// <see cref="DefinitionExpression"/>s, as the host read them from a .psd1 file without running it) and builds a
/// <see cref="SyncDefinition"/>. Every problem is collected and reported at once, each naming its setting; nothing is
/// connected to.
/// </summary>
public static class SyncDefinitionParser
{
    private static readonly Regex NamePattern = new("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$");
    private static readonly string[] LastRunStartNames = { "$LastRunStart", "$LastSuccessfulRunStart" };

    private static readonly string[] RootSettings =
        { "Name", "Description", "Source", "Destination", "Object", "SyncKey", "Behavior", "Mapping", "SkipNull", "ThrottleLimit", "State", "FullSync", "ReportKeysLeft", "PushDown", "CreateOnSearchMiss", "Backfill", "BudgetShare", "MaxRequestsPerMinute", "Alerts", "Guards" };
    private static readonly string[] SourceSettings =
    {
        "Provider", "ConnectionString", "ConnectionStringEnvironmentVariable", "ConnectionStringAutomationVariable", "ConnectionStringSecret",
        "UserName", "PasswordEnvironmentVariable", "PasswordAutomationVariable", "PasswordSecret", "AutomationCredential", "SecretVault",
        "Query", "QueryPath", "Parameters", "FirstRunStart", "CommandTimeout", "KeyColumn",
    };
    private static readonly string[] DestinationSettings =
    {
        "Organization", "Region", "BaseUri", "ApiKeyEnvironmentVariable", "ApiKeyAutomationVariable", "ApiKeyAutomationCredential", "ApiKeySecret", "SecretVault",
    };
    private static readonly string[] StateSettings =
    {
        "Path", "Provider", "ConnectionString", "ConnectionStringEnvironmentVariable", "ConnectionStringAutomationVariable", "ConnectionStringSecret",
        "SecretVault", "Schema", "TablePrefix", "Watermark", "RetryRuns",
    };

    private static readonly string[] GuardSettingNames =
        { "Force", "RefuseEmptySource", "MinSourceShare", "MaxChangeShare", "MaxClearShare", "MinRecordsToJudge" };

    private static readonly string[] AlertSettings =
        { "WebhookEnvironmentVariable", "WebhookAutomationVariable", "WebhookSecret", "SecretVault", "Format", "RejectedShare", "OnSuccess", "EventLog" };

    /// <summary>Validates and builds; throws <see cref="DefinitionException"/> listing every problem.</summary>
    /// <param name="data">The file's top-level hashtable.</param>
    /// <param name="definitionPath">The file's absolute path (relative paths inside are resolved against its folder).</param>
    /// <param name="host">Environment variables, available commands and files.</param>
    public static SyncDefinition Parse(IDictionary data, string definitionPath, IDefinitionHost host)
    {
        var p = new Problems();
        var folder = System.IO.Path.GetDirectoryName(definitionPath) ?? ".";
        var root = p.Section(data, "", RootSettings);

        var name = p.String(root, "", "Name", required: true) ?? "";
        if (name.Length > 0 && !NamePattern.IsMatch(name))
            p.Add("Name", $"'{name}' is not a valid sync name: use letters, digits, '_', '.', ':' and '-' (up to 128, starting with a letter or digit). State and run history are kept under this name.");
        var description = p.String(root, "", "Description");

        var (target, key, behavior) = ParseTarget(p, root);
        var source = ParseSource(p, p.Section(root, "Source", SourceSettings, required: true), folder, host);
        var destination = ParseDestination(p, p.Section(root, "Destination", DestinationSettings, required: true), host);
        var mapping = ParseMapping(p, root);
        var skipNull = p.Bool(root, "", "SkipNull") ?? false;
        var throttleLimit = SyncDefinition.DefaultThrottleLimit;
        if (p.Int(root, "", "ThrottleLimit") is { } t)
        {
            if (t < 1 || t > 64) p.Add("ThrottleLimit", $"{t} is out of range: use 1 to 64 requests in flight.");
            else throttleLimit = t;
        }
        var state = ParseState(p, p.Section(root, "State", StateSettings, required: true), folder, host);
        var fullSync = p.Bool(root, "", "FullSync") ?? false;
        var reportKeysLeft = p.Bool(root, "", "ReportKeysLeft") ?? false;
        var pushDown = p.Bool(root, "", "PushDown") ?? false;
        var createOnSearchMiss = p.Bool(root, "", "CreateOnSearchMiss") ?? false;
        var backfill = p.Bool(root, "", "Backfill") ?? false;
        var (budgetShare, maxRequestsPerMinute) = ParseBudget(p, root);
        var alerts = ParseAlerts(p, p.Section(root, "Alerts", AlertSettings), host);
        var guards = ParseGuards(p, p.Section(root, "Guards", GuardSettingNames), "Guards");
        var d = new SyncDefinition
        {
            Name = name, Description = description, DefinitionPath = definitionPath,
            Source = source, Destination = destination, Target = target, Key = key, Behavior = behavior,
            Mapping = mapping, SkipNull = skipNull, ThrottleLimit = throttleLimit, State = state, Alerts = alerts, Guards = guards,
            FullSync = fullSync, ReportKeysLeft = reportKeysLeft, PushDown = pushDown, CreateOnSearchMiss = createOnSearchMiss,
            Backfill = backfill, BudgetShare = budgetShare, MaxRequestsPerMinute = maxRequestsPerMinute,
        };
        CheckCombinations(p, root, d);

        if (p.Count > 0) throw new DefinitionException(definitionPath, p.List);
        return d;
    }

    private static AlertsDefinition ParseAlerts(Problems p, IDictionary? alerts, IDefinitionHost host)
    {
        var a = new AlertsDefinition();
        if (alerts is null) return a;
        var vault = p.String(alerts, "Alerts", "SecretVault");
        var webhook = OneOf(p, alerts, "Alerts", host, vault, required: false, "the webhook URL",
            ("WebhookEnvironmentVariable", SecretSource.EnvironmentVariable), ("WebhookAutomationVariable", SecretSource.AutomationVariable),
            ("WebhookSecret", SecretSource.SecretManagement))?.Secret;
        var format = p.String(alerts, "Alerts", "Format");
        var webhookFormat = a.Format;
        if (format is not null)
        {
            if (Enum.TryParse<WebhookFormat>(format, ignoreCase: true, out var f) && Enum.IsDefined(typeof(WebhookFormat), f) && !int.TryParse(format, out _)) webhookFormat = f;
            else p.Add("Alerts.Format", $"'{format}' is not a webhook format. Use Auto (the default: from the webhook's host), Teams, Slack or Json{Suggestion(format, Enum.GetNames(typeof(WebhookFormat)))}.");
        }
        var share = p.Share(alerts, "Alerts", "RejectedShare");
        var onSuccess = p.Bool(alerts, "Alerts", "OnSuccess");
        var policy = new AlertPolicy { RejectedShare = share ?? AlertPolicy.DefaultRejectedShare, OnSuccess = onSuccess ?? false };
        var eventLog = p.Bool(alerts, "Alerts", "EventLog") ?? a.EventLog;
        if (webhook is null && (format is not null || share is not null || onSuccess is not null))
            p.Add("Alerts.WebhookEnvironmentVariable", "is missing: Alerts.Format, Alerts.RejectedShare and Alerts.OnSuccess describe webhook posts; name where the webhook's URL comes from (Alerts.WebhookEnvironmentVariable, Alerts.WebhookAutomationVariable or Alerts.WebhookSecret).");
        return a with { Webhook = webhook, Format = webhookFormat, Policy = policy, EventLog = eventLog };
    }

    /// <summary>
    /// Guard settings given as a hashtable outside a definition (a cmdlet's): the same names and rules as a definition's
    /// Guards section.
    /// </summary>
    /// <returns>The settings, or null when Force turns every guard off.</returns>
    /// <exception cref="ArgumentException">A setting is unknown or out of range; the message names each.</exception>
    public static GuardSettings? ParseGuardSettings(IDictionary settings)
    {
        var p = new Problems();
        var guards = ParseGuards(p, p.Section(settings, "", GuardSettingNames), "");
        if (p.Count > 0) throw new ArgumentException($"The guard settings have {(p.Count == 1 ? "a problem" : p.Count + " problems")}: {string.Join("; ", p.List)}");
        return guards;
    }

    /// <summary>
    /// Guards = @{ ... }: each threshold has its default when left out and turns its guard off when $null; Force = $true
    /// turns them all off (null settings).
    /// </summary>
    private static GuardSettings? ParseGuards(Problems p, IDictionary? section, string name)
    {
        var defaults = GuardSettings.Default;
        if (section is null) return defaults;
        double? ShareOrOff(string setting, double? fallback) =>
            section.Contains(setting) && section[setting] is null ? null : p.Share(section, name, setting, 0.01, "0.25 is 25 %; $null turns the guard off") ?? fallback;
        var settings = defaults with
        {
            RefuseEmptySource = p.Bool(section, name, "RefuseEmptySource") ?? defaults.RefuseEmptySource,
            MinSourceShare = ShareOrOff("MinSourceShare", defaults.MinSourceShare),
            MaxChangeShare = ShareOrOff("MaxChangeShare", defaults.MaxChangeShare),
            MaxClearShare = ShareOrOff("MaxClearShare", defaults.MaxClearShare),
        };
        if (p.Int(section, name, "MinRecordsToJudge") is { } least)
        {
            if (least < 1) p.Add(Full(name, "MinRecordsToJudge"), $"{least} is out of range: use at least 1 record.");
            else settings = settings with { MinRecordsToJudge = least };
        }
        return p.Bool(section, name, "Force") == true ? null : settings;
    }

    private static string Full(string section, string name) => section.Length == 0 ? name : section + "." + name;

    /// <summary>BudgetShare (a share of the org's rate budget, 0.01 to 1) and MaxRequestsPerMinute (a whole number of requests).</summary>
    private static (double Share, int? MaxRequestsPerMinute) ParseBudget(Problems p, IDictionary? root)
    {
        var share = p.Share(root, "", "BudgetShare", 0.01, "the share of the org's rate budget the sync may use, e.g. 0.5") ?? UpsertOptions.DefaultBudgetShare;
        if (p.Int(root, "", "MaxRequestsPerMinute") is not { } max) return (share, null);
        if (max >= 1) return (share, max);
        p.Add("MaxRequestsPerMinute", $"{max} is out of range: use at least 1 request a minute.");
        return (share, null);
    }

    private static (KustomerObject Target, RecordKey Key, SyncBehavior Behavior) ParseTarget(Problems p, IDictionary? root)
    {
        var defaults = new SyncDefinition();
        var (target, key, behavior) = (defaults.Target, defaults.Key, defaults.Behavior);
        var objectText = p.String(root, "", "Object", required: true);
        var targetOk = false;
        if (objectText is not null)
        {
            try
            {
                target = KustomerObject.Parse(objectText);
                targetOk = true;
            }
            catch (ArgumentException ex)
            {
                p.Add("Object", ex.Message);
            }
        }
        var keyText = p.String(root, "", "SyncKey") ?? "ExternalId";
        if (targetOk)
        {
            try
            {
                key = RecordKey.Parse(keyText, target);
            }
            catch (ArgumentException ex)
            {
                p.Add("SyncKey", ex.Message);
            }
        }
        var behaviorText = p.String(root, "", "Behavior");
        if (behaviorText is not null)
        {
            if (Enum.TryParse<SyncBehavior>(behaviorText, ignoreCase: true, out var b) && Enum.IsDefined(typeof(SyncBehavior), b) && !int.TryParse(behaviorText, out _))
                behavior = b;
            else
                p.Add("Behavior", $"'{behaviorText}' is not a behaviour. Use {string.Join(", ", Enum.GetNames(typeof(SyncBehavior)))}{Suggestion(behaviorText, Enum.GetNames(typeof(SyncBehavior)))}.");
        }
        return (target, key, behavior);
    }

    private static SourceDefinition ParseSource(Problems p, IDictionary? source, string folder, IDefinitionHost host)
    {
        var s = new SourceDefinition();
        if (source is null) return s;
        var provider = p.String(source, "Source", "Provider", required: true);
        if (provider is not null)
        {
            var resolved = SourceProviders.Resolve(provider);
            if (resolved is null)
                p.Add("Source.Provider", $"'{provider}' is not a known provider. Known providers: {string.Join(", ", SourceProviders.Names)}{Suggestion(provider, SourceProviders.Names)}.");
            else s = s with { Provider = resolved };
        }

        var vault = p.String(source, "Source", "SecretVault");
        var connection = OneOf(p, source, "Source", host, vault, required: true, "a connection string",
            ("ConnectionString", null), ("ConnectionStringEnvironmentVariable", SecretSource.EnvironmentVariable),
            ("ConnectionStringAutomationVariable", SecretSource.AutomationVariable), ("ConnectionStringSecret", SecretSource.SecretManagement));
        if (connection is { Literal: { } literal })
        {
            s = s with { ConnectionString = literal };
            try
            {
                _ = new DbConnectionStringBuilder { ConnectionString = literal };
            }
            catch (ArgumentException)
            {
                p.Add("Source.ConnectionString", "is not a valid connection string: write it as Key=Value pairs separated by ';' (quote values that contain ';').");
            }
            if (Regex.IsMatch(literal, @"(?i)\b(password|pwd)\s*=\s*[^;\s]"))
                p.Add("Source.ConnectionString", "holds a password in the definition file. Keep it out of the file: use Source.PasswordEnvironmentVariable, Source.AutomationCredential or Source.PasswordSecret, or put the whole connection string in Source.ConnectionStringEnvironmentVariable.");
        }
        else if (connection is { Secret: { } secret }) s = s with { ConnectionStringSecret = secret };

        s = s with { UserName = p.String(source, "Source", "UserName") };
        var password = OneOf(p, source, "Source", host, vault, required: false, "a password",
            ("PasswordEnvironmentVariable", SecretSource.EnvironmentVariable), ("PasswordAutomationVariable", SecretSource.AutomationVariable),
            ("PasswordSecret", SecretSource.SecretManagement), ("AutomationCredential", SecretSource.AutomationCredential));
        if (password?.Secret is { } pw)
        {
            s = s with { Password = pw };
            if (pw.Source == SecretSource.AutomationCredential && s.UserName is not null)
                p.Add("Source.UserName", "is not used with Source.AutomationCredential: the credential brings its own user name. Remove one of them.");
        }

        var query = p.String(source, "Source", "Query");
        var queryPath = p.String(source, "Source", "QueryPath");
        if (query is not null && queryPath is not null)
            p.Add("Source.Query", "give Source.Query or Source.QueryPath (a .sql file), not both.");
        else if (query is null && queryPath is null)
        {
            if (source.Contains("Query") || source.Contains("QueryPath")) { /* reported as empty already */ }
            else p.Add("Source.Query", "is missing: write the query that returns the rows to sync (or Source.QueryPath, the path of a .sql file).");
        }
        else if (query is not null) s = s with { Query = query };
        else
        {
            var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, queryPath!));
            if (!host.FileExists(full)) p.Add("Source.QueryPath", $"the file '{full}' does not exist.");
            else s = s with { Query = File.ReadAllText(full) };
        }

        var parameters = p.Dictionary(source, "Source", "Parameters");
        if (parameters is not null)
        {
            var list = new List<KeyValuePair<string, object?>>();
            foreach (DictionaryEntry entry in parameters)
            {
                var name = entry.Key?.ToString() ?? "";
                var setting = "Source.Parameters." + name;
                var value = entry.Value;
                if (name.Length == 0 || name.StartsWith("@", StringComparison.Ordinal))
                {
                    p.Add(setting, "parameter names are written without '@' (the query refers to them as @name).");
                    continue;
                }
                if (value is string text && LastRunStartNames.Any(n => string.Equals(n, text.Trim(), StringComparison.OrdinalIgnoreCase)))
                    value = LastRunStartToken.Instance;
                else if (value is string other && other.TrimStart().StartsWith("$", StringComparison.Ordinal))
                    p.Add(setting, $"'{other}' is not a value a definition can take: variables are not expanded. The one automatic value is '$LastRunStart' (the start of the last successful run).");
                else if (value is DefinitionExpression)
                    p.Add(setting, "a parameter value cannot be a scriptblock: write a constant, or '$LastRunStart'.");
                else if (value is IDictionary or IList)
                    p.Add(setting, "a parameter value must be a single value (string, number, $true/$false, $null) or '$LastRunStart'.");
                list.Add(new KeyValuePair<string, object?>(name, value));
            }
            s = s with { Parameters = list };
        }

        var first = p.String(source, "Source", "FirstRunStart");
        if (first is not null)
        {
            if (DateTime.TryParse(first, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
                s = s with { FirstRunStart = DateTime.SpecifyKind(at, DateTimeKind.Utc) };
            else
                p.Add("Source.FirstRunStart", $"'{first}' is not a date: write it as ISO 8601, for example '2024-01-01' or '2024-01-01T00:00:00Z' (UTC unless an offset is given).");
        }
        var timeout = p.Int(source, "Source", "CommandTimeout");
        if (timeout is { } seconds)
        {
            if (seconds < 0) p.Add("Source.CommandTimeout", "must be 0 (no limit) or a number of seconds.");
            else s = s with { CommandTimeoutSeconds = seconds };
        }
        return s with { KeyColumn = p.String(source, "Source", "KeyColumn") };
    }

    private static DestinationDefinition ParseDestination(Problems p, IDictionary? destination, IDefinitionHost host)
    {
        var dest = new DestinationDefinition();
        if (destination is null) return dest;
        var organization = p.String(destination, "Destination", "Organization");
        var region = p.String(destination, "Destination", "Region");
        var baseUri = p.String(destination, "Destination", "BaseUri");
        if (organization is not null && baseUri is not null)
            p.Add("Destination.BaseUri", "give Destination.Organization (with an optional Region) or Destination.BaseUri, not both.");
        else if (organization is null && baseUri is null)
        {
            if (!destination.Contains("Organization") && !destination.Contains("BaseUri"))
                p.Add("Destination.Organization", "is missing: name the Kustomer organization (the subdomain of <org>.kustomerapp.com), or give Destination.BaseUri.");
        }
        else if (organization is not null)
        {
            try
            {
                dest = dest with { BaseUri = KustomerEndpoint.ForOrganization(organization, region), Organization = organization.ToLowerInvariant(), Region = region };
            }
            catch (ArgumentException ex)
            {
                p.Add(ex.ParamName == "region" ? "Destination.Region" : "Destination.Organization", StripParam(ex.Message));
            }
        }
        else
        {
            if (region is not null) p.Add("Destination.Region", "is only used with Destination.Organization; Destination.BaseUri already names the host.");
            if (!Uri.TryCreate(baseUri, UriKind.Absolute, out var uri))
                p.Add("Destination.BaseUri", $"'{baseUri}' is not an absolute URI such as https://api.kustomerapp.com or http://127.0.0.1:5080 (the emulator).");
            else
            {
                try
                {
                    dest = dest with { BaseUri = KustomerEndpoint.Normalize(uri) };
                }
                catch (ArgumentException ex)
                {
                    p.Add("Destination.BaseUri", StripParam(ex.Message));
                }
            }
        }

        var vault = p.String(destination, "Destination", "SecretVault");
        var key = OneOf(p, destination, "Destination", host, vault, required: true, "the API key",
            ("ApiKeyEnvironmentVariable", SecretSource.EnvironmentVariable), ("ApiKeyAutomationVariable", SecretSource.AutomationVariable),
            ("ApiKeyAutomationCredential", SecretSource.AutomationCredential), ("ApiKeySecret", SecretSource.SecretManagement));
        return key?.Secret is { } secret ? dest with { ApiKey = secret } : dest;
    }

    private static IReadOnlyList<KeyValuePair<string, object>> ParseMapping(Problems p, IDictionary? root)
    {
        var mapping = p.Dictionary(root, "", "Mapping");
        if (mapping is null) return [];
        var list = new List<KeyValuePair<string, object>>();
        foreach (DictionaryEntry entry in mapping)
        {
            var target = entry.Key?.ToString() ?? "";
            var setting = "Mapping." + target;
            switch (entry.Value)
            {
                case string column when column.Trim().Length > 0:
                    list.Add(new KeyValuePair<string, object>(target, column.Trim()));
                    break;
                case DefinitionExpression expression when expression.Text.Trim().Length > 0:
                    list.Add(new KeyValuePair<string, object>(target, expression));
                    break;
                case string:
                case DefinitionExpression:
                    p.Add(setting, "is empty: name the source column, or compute the value with a scriptblock such as { $_.first + ' ' + $_.last }.");
                    break;
                default:
                    p.Add(setting, $"must be a source column name (a string) or a scriptblock, not {Describe(entry.Value)}.");
                    break;
            }
            if (target.Trim().Length == 0) p.Add("Mapping", "has an empty field name.");
        }
        return list;
    }

    private static StateDefinition ParseState(Problems p, IDictionary? state, string folder, IDefinitionHost host)
    {
        var st = new StateDefinition();
        if (state is null) return st;
        var path = p.String(state, "State", "Path");
        var provider = p.String(state, "State", "Provider");
        var vault = p.String(state, "State", "SecretVault");
        var hasConnection = new[] { "ConnectionString", "ConnectionStringEnvironmentVariable", "ConnectionStringAutomationVariable", "ConnectionStringSecret" }.Any(state.Contains);
        if (provider is not null)
        {
            if (Enum.TryParse<StateProvider>(provider, ignoreCase: true, out var sp) && Enum.IsDefined(typeof(StateProvider), sp) && !int.TryParse(provider, out _)) st = st with { Provider = sp };
            else p.Add("State.Provider", $"'{provider}' is not a state store. Use Sqlite (with State.Path), Postgres or SqlServer (with a connection string){Suggestion(provider, Enum.GetNames(typeof(StateProvider)))}.");
        }
        else if (hasConnection) p.Add("State.Provider", "is missing: a state connection string needs State.Provider = 'Postgres' or 'SqlServer'.");

        if (path is not null && hasConnection)
        {
            p.Add("State.Path", "give State.Path (a SQLite file) or a state connection string (a Postgres or SQL Server table), not both.");
            return st;
        }
        if (path is not null)
        {
            if (provider is not null && st.Provider != StateProvider.Sqlite)
                p.Add("State.Provider", $"State.Path is a SQLite file; {st.Provider} needs State.ConnectionString instead.");
            st = st with { Provider = StateProvider.Sqlite, Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, path)) };
        }
        else if (hasConnection)
        {
            if (st.Provider == StateProvider.Sqlite && provider is not null)
                p.Add("State.Provider", "Sqlite keeps state in a file: give State.Path instead of a connection string.");
            var connection = OneOf(p, state, "State", host, vault, required: true, "a connection string",
                ("ConnectionString", null), ("ConnectionStringEnvironmentVariable", SecretSource.EnvironmentVariable),
                ("ConnectionStringAutomationVariable", SecretSource.AutomationVariable), ("ConnectionStringSecret", SecretSource.SecretManagement));
            if (connection is { Literal: { } literal })
            {
                st = st with { ConnectionString = literal };
                try
                {
                    _ = new DbConnectionStringBuilder { ConnectionString = literal };
                }
                catch (ArgumentException)
                {
                    p.Add("State.ConnectionString", "is not a valid connection string: write it as Key=Value pairs separated by ';'.");
                }
            }
            else if (connection is { Secret: { } secret }) st = st with { ConnectionStringSecret = secret };
        }
        else if (!state.Contains("Path"))
            p.Add("State.Path", "is missing: give State.Path (a SQLite file, relative to the definition's folder) or State.Provider with a connection string. Without state every run would resend every row.");

        var schema = p.String(state, "State", "Schema");
        var prefix = p.String(state, "State", "TablePrefix");
        var identifier = new Regex("^[A-Za-z_][A-Za-z0-9_]{0,39}$");
        if (schema is not null && !identifier.IsMatch(schema)) p.Add("State.Schema", $"'{schema}' is not valid: use letters, digits and '_' (up to 40, not starting with a digit).");
        else st = st with { Schema = schema };
        if (prefix is not null && !identifier.IsMatch(prefix)) p.Add("State.TablePrefix", $"'{prefix}' is not valid: use letters, digits and '_' (up to 40, not starting with a digit).");
        else st = st with { TablePrefix = prefix };

        var watermark = p.String(state, "State", "Watermark");
        var watermarkRead = true;
        if (watermark is not null)
        {
            if (Enum.TryParse<StateWatermark>(watermark, ignoreCase: true, out var w) && Enum.IsDefined(typeof(StateWatermark), w) && !int.TryParse(watermark, out _)) st = st with { Watermark = w };
            else
            {
                watermarkRead = false;
                p.Add("State.Watermark", $"'{watermark}' is not a watermark. Use LastSuccessfulRun (the default) or AdvanceAndRetry{Suggestion(watermark, Enum.GetNames(typeof(StateWatermark)))}.");
            }
        }
        var retryRuns = p.Int(state, "State", "RetryRuns");
        if (retryRuns is { } r)
        {
            if (st.Watermark != StateWatermark.AdvanceAndRetry)
            {
                if (watermarkRead) p.Add("State.RetryRuns", "only applies with State.Watermark = 'AdvanceAndRetry' (failed rows are kept and sent again).");
            }
            else if (r < 1 || r > 100) p.Add("State.RetryRuns", $"{r} is out of range: use 1 to 100 runs.");
            else st = st with { RetryRuns = r };
        }
        return st;
    }

    private static void CheckCombinations(Problems p, IDictionary? root, SyncDefinition d)
    {
        if (d.State.Watermark == StateWatermark.AdvanceAndRetry && !d.Source.UsesLastRunStart)
            p.Add("State.Watermark", "'AdvanceAndRetry' moves '$LastRunStart' on, but no Source.Parameters value is '$LastRunStart': a query that reads the whole table sends failed rows again by itself.");
        if (d.ReportKeysLeft && d.Source.UsesLastRunStart)
            p.Add("ReportKeysLeft", "cannot be used with a query that takes '$LastRunStart': an incremental query returns only changed rows, so every other key would look gone. Use it with a query that returns the whole table.");
        if (d.PushDown)
        {
            if (d.ReportKeysLeft)
                p.Add("ReportKeysLeft", "cannot be used with PushDown: the pushed-down query returns only changed rows, so every other key would look gone.");
            if (d.Source.Provider.Length > 0 && d.Source.Provider != "Postgres")
                p.Add("PushDown", $"needs a Postgres source (the diff runs as SQL in the source database); Source.Provider is {d.Source.Provider}.");
            if (d.State.Provider != StateProvider.Postgres)
                p.Add("PushDown", "needs the state in the same Postgres database as the source: set State.Provider = 'Postgres' and State.ConnectionString to that database.");
            else if (d.Source.ConnectionString is { } a && d.State.ConnectionString is { } b && !SameDatabase(a, b))
                p.Add("PushDown", "needs the state in the same database as the source, but Source.ConnectionString and State.ConnectionString name different hosts, ports or databases.");
            if (d.Mapping.Any(m => m.Value is DefinitionExpression) && d.Source.KeyColumn is null &&
                d.Mapping.Any(m => string.Equals(m.Key, d.Key.FieldPath, StringComparison.OrdinalIgnoreCase) && m.Value is DefinitionExpression))
                p.Add("Source.KeyColumn", "is needed with PushDown when the key is computed: name the query column that carries the key, as stored.");
        }
    }

    /// <summary>Host, port and database agree (case-insensitive); unknown parts count as equal.</summary>
    public static bool SameDatabase(string a, string b)
    {
        try
        {
            var x = new DbConnectionStringBuilder { ConnectionString = a };
            var y = new DbConnectionStringBuilder { ConnectionString = b };
            return Same(x, y, "Host", "Server") && Same(x, y, "Port") && Same(x, y, "Database", "Initial Catalog");
        }
        catch (ArgumentException)
        {
            return true;
        }

        static bool Same(DbConnectionStringBuilder x, DbConnectionStringBuilder y, params string[] keys)
        {
            string? Get(DbConnectionStringBuilder b) => keys.Select(k => b.TryGetValue(k, out var v) ? v?.ToString() : null).FirstOrDefault(v => v is not null);
            var vx = Get(x);
            var vy = Get(y);
            return vx is null || vy is null || string.Equals(vx.Trim(), vy.Trim(), StringComparison.OrdinalIgnoreCase);
        }
    }

    private sealed class Choice
    {
        public string? Literal;
        public SecretReference? Secret;
    }

    /// <summary>Exactly one (or at most one) of several settings that give the same thing; checks that its source is available.</summary>
    private static Choice? OneOf(Problems p, IDictionary section, string sectionName, IDefinitionHost host, string? vault, bool required, string what,
        params (string Setting, SecretSource? Source)[] options)
    {
        var given = options.Where(o => section.Contains(o.Setting)).ToList();
        if (given.Count == 0)
        {
            if (required)
                p.Add($"{sectionName}.{options[0].Setting}", $"is missing: give {what} with one of {string.Join(", ", options.Select(o => sectionName + "." + o.Setting))}.");
            return null;
        }
        if (given.Count > 1)
        {
            p.Add($"{sectionName}.{given[1].Setting}", $"give {what} once: {string.Join(" and ", given.Select(o => sectionName + "." + o.Setting))} are both set.");
            return null;
        }
        var (setting, source) = given[0];
        var full = sectionName + "." + setting;
        var value = p.String(section, sectionName, setting, required: true);
        if (value is null) return null;
        if (source is null) return new Choice { Literal = value };
        switch (source.Value)
        {
            case SecretSource.EnvironmentVariable:
                if (string.IsNullOrWhiteSpace(host.GetEnvironmentVariable(value)))
                    p.Add(full, $"the environment variable {value} is not set (or is empty) for this process.");
                break;
            case SecretSource.AutomationVariable:
            case SecretSource.AutomationCredential:
                if (!host.CommandExists(SecretCommands.For(source.Value)!))
                    p.Add(full, $"{SecretCommands.For(source.Value)} is not available: Automation assets can only be read inside an Azure Automation runbook. Elsewhere use an environment variable or a SecretManagement vault.");
                break;
            case SecretSource.SecretManagement:
                if (!host.CommandExists(SecretCommands.GetSecret))
                    p.Add(full, "Get-Secret is not available: install and import Microsoft.PowerShell.SecretManagement and register a vault, or use an environment variable.");
                break;
        }
        return new Choice { Secret = new SecretReference(full, source.Value, value, source == SecretSource.SecretManagement ? vault : null) };
    }

    internal static string Suggestion(string given, IEnumerable<string> known)
    {
        var best = known.Select(k => (k, Distance(given.ToLowerInvariant(), k.ToLowerInvariant())))
            .Where(x => x.Item2 <= Math.Max(2, x.k.Length / 3)).OrderBy(x => x.Item2).Select(x => x.k).FirstOrDefault();
        return best is null ? "" : $" (did you mean '{best}'?)";
    }

    private static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) row[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var prev = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var temp = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), prev + (a[i - 1] == b[j - 1] ? 0 : 1));
                prev = temp;
            }
        }
        return row[b.Length];
    }

    private static string StripParam(string message)
    {
        var i = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return i >= 0 ? message.Substring(0, i) : message;
    }

    internal static string Describe(object? value) => value switch
    {
        null => "$null",
        string => "a string",
        bool => "$true/$false",
        DefinitionExpression => "a scriptblock",
        IDictionary => "a hashtable",
        IList => "a list",
        _ when value.GetType().IsPrimitive || value is decimal => "a number",
        _ => value.GetType().Name,
    };

    /// <summary>Collects problems and reads typed settings, reporting type mistakes by setting name.</summary>
    private sealed class Problems
    {
        public readonly List<DefinitionProblem> List = new();
        public int Count => List.Count;

        public void Add(string setting, string message) => List.Add(new DefinitionProblem(setting, message));

        /// <summary>A section's hashtable, with unknown setting names reported (and the nearest known name suggested).</summary>
        public IDictionary? Section(IDictionary? parent, string name, string[] known, bool required = false)
        {
            IDictionary? section;
            if (name.Length == 0) section = parent;
            else
            {
                section = Dictionary(parent, "", name);
                if (section is null)
                {
                    if (required && parent is not null && !parent.Contains(name)) Add(name, $"is missing: the definition needs a {name} = @{{ ... }} section.");
                    return null;
                }
            }
            if (section is null) return null;
            foreach (var key in section.Keys)
            {
                var k = key?.ToString() ?? "";
                if (!known.Contains(k, StringComparer.OrdinalIgnoreCase))
                    Add(Full(name, k), $"is not a setting{(name.Length == 0 ? "" : " of " + name)}{Suggestion(k, known)}. Known settings: {string.Join(", ", known)}.");
            }
            return section;
        }

        public IDictionary? Dictionary(IDictionary? section, string sectionName, string name)
        {
            if (section is null || !section.Contains(name)) return null;
            var value = section[name];
            if (value is IDictionary dictionary) return dictionary;
            Add(Full(sectionName, name), $"must be a hashtable @{{ ... }}, not {Describe(value)}.");
            return null;
        }

        public string? String(IDictionary? section, string sectionName, string name, bool required = false)
        {
            if (section is null) return null;
            if (!section.Contains(name))
            {
                if (required) Add(Full(sectionName, name), "is missing.");
                return null;
            }
            var value = section[name];
            if (value is string text)
            {
                if (text.Trim().Length == 0)
                {
                    Add(Full(sectionName, name), "is empty.");
                    return null;
                }
                return text.Trim();
            }
            Add(Full(sectionName, name), $"must be a string in quotes, not {Describe(value)}.");
            return null;
        }

        public bool? Bool(IDictionary? section, string sectionName, string name)
        {
            if (section is null || !section.Contains(name)) return null;
            var value = section[name];
            if (value is bool b) return b;
            Add(Full(sectionName, name), $"must be $true or $false, not {Describe(value)}.");
            return null;
        }

        /// <summary>A share from <paramref name="min"/> to 1 (0.05 is 5 %).</summary>
        public double? Share(IDictionary? section, string sectionName, string name, double min = 0, string what = "0.05 is 5 %")
        {
            if (section is null || !section.Contains(name)) return null;
            var value = section[name];
            if (value is int or long or double or decimal or float && Convert.ToDouble(value, CultureInfo.InvariantCulture) is var share && share >= min && share <= 1) return share;
            Add(Full(sectionName, name), $"must be a number from {min.ToString(CultureInfo.InvariantCulture)} to 1 ({what}), not {Shown(value)}.");
            return null;
        }

        public int? Int(IDictionary? section, string sectionName, string name)
        {
            if (section is null || !section.Contains(name)) return null;
            var value = section[name];
            switch (value)
            {
                case int i: return i;
                case long l when l is >= int.MinValue and <= int.MaxValue: return (int)l;
                case byte or short: return Convert.ToInt32(value, CultureInfo.InvariantCulture);
            }
            Add(Full(sectionName, name), $"must be a whole number, not {Shown(value)}.");
            return null;
        }

        /// <summary>A number as written (a refused 1.5 reads "not 1.5", not "not a number"), anything else as <see cref="Describe"/> tells it.</summary>
        private static string Shown(object? value) =>
            value is int or long or short or byte or double or float or decimal ? Convert.ToString(value, CultureInfo.InvariantCulture)! : Describe(value);
    }
}
