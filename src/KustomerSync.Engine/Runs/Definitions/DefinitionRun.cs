using System.Net;
using System.Security;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sources;
using KustomerSync.Engine.Runs.Alerts;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>How the host wants a definition run.</summary>
public sealed class DefinitionRunOptions
{
    /// <summary>Plan only: the source is read and lookups are made, nothing is written to Kustomer.</summary>
    public bool WhatIf { get; set; }

    /// <summary>Ignore the stored hashes (and give '$LastRunStart' its first-run value), in addition to the file's FullSync.</summary>
    public bool FullSync { get; set; }

    /// <summary>Run even when a guard against a broken source would refuse the run (the definition's guards are not judged).</summary>
    public bool Force { get; set; }

    /// <summary>Compiles a computed mapping value; required when the definition has any.</summary>
    public Func<DefinitionExpression, Func<InputRecord, object?>>? CompileExpression { get; set; }

    /// <summary>Makes the object results carry as InputObject (and computed values see as $_); null: no object.</summary>
    public Func<string[], object?[], object?>? MakeSourceObject { get; set; }

    /// <summary>Where the run narrates its mapping, rows, requests and pacing waits; null: nowhere.</summary>
    public Diagnostics.IEngineLog? Log { get; set; }

    /// <summary>For tests: the HTTP handler of the Kustomer client.</summary>
    public HttpMessageHandler? KustomerHandler { get; set; }

    /// <summary>Where runs are logged instead of the system's event log (tests, and hosts with a log of their own); null: the system's.</summary>
    public IRunEventLog? EventLog { get; set; }
}

/// <summary>What the run tells its host as it goes, on the thread that called <see cref="DefinitionRun.Execute"/>.</summary>
public interface IDefinitionRunObserver : IUpsertObserver
{
    void Verbose(string message);
}

/// <summary>
/// Runs a validated <see cref="SyncDefinition"/> end to end: resolves its secrets through the host, opens the state
/// (taking the sync's lease), gives '$LastRunStart' the start of the last successful run, reads the source (or, with
/// PushDown, only the rows whose source hash differs from the state's), upserts through an <see cref="UpsertSession"/>,
/// which records the run in the history, including runs that failed before or while reading.
/// </summary>
public sealed class DefinitionRun : IDisposable
{
    private readonly SyncDefinition _definition;
    private readonly DefinitionRunOptions _options;
    private readonly SecureString _apiKey;
    private readonly string _sourceConnection;
    private readonly NetworkCredential? _sourceCredential;
    private readonly string? _stateConnection;
    private readonly List<string> _secretsForRedaction = new();
    private RunNotifier? _notifier;

    private DefinitionRun(SyncDefinition definition, DefinitionRunOptions options, SecureString apiKey, string sourceConnection,
        NetworkCredential? sourceCredential, string? stateConnection)
    {
        _definition = definition;
        _options = options;
        _apiKey = apiKey;
        _sourceConnection = sourceConnection;
        _sourceCredential = sourceCredential;
        _stateConnection = stateConnection;
    }

    public SyncDefinition Definition => _definition;

    public bool FullSync => _definition.FullSync || _options.FullSync;

    /// <summary>
    /// Resolves every secret through the host (all failures reported at once, each naming its setting, as a
    /// DefinitionException with ErrorId KustomerSync.SecretUnavailable) and checks what could only be checked with
    /// them. Connects to nothing.
    /// </summary>
    public static DefinitionRun Prepare(SyncDefinition definition, IDefinitionHost host, DefinitionRunOptions options)
    {
        if (definition.Mapping.Any(m => m.Value is DefinitionExpression) && options.CompileExpression is null)
            throw new InvalidOperationException("The definition has computed mapping values but the host gave no CompileExpression.");
        var problems = new List<DefinitionProblem>();
        ResolvedSecret? Get(SecretReference? reference)
        {
            if (reference is null) return null;
            try
            {
                if (reference.Source == SecretSource.EnvironmentVariable)
                {
                    var value = host.GetEnvironmentVariable(reference.Name);
                    if (string.IsNullOrWhiteSpace(value))
                    {
                        problems.Add(new DefinitionProblem(reference.Setting, $"the environment variable {reference.Name} is not set (or is empty) for this process."));
                        return null;
                    }
                    return new ResolvedSecret(SecretText.Protect(value!.Trim()));
                }
                return host.Resolve(reference);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                problems.Add(new DefinitionProblem(reference.Setting, $"could not read the {reference}: {ex.Message}"));
                return null;
            }
        }

        var d = definition;
        var key = Get(d.Destination.ApiKey);
        var sourceCs = Get(d.Source.ConnectionStringSecret);
        var password = Get(d.Source.Password);
        var stateCs = Get(d.State.ConnectionStringSecret);
        var webhook = Get(d.Alerts.Webhook);
        Uri? webhookUrl = null;
        if (webhook is not null && !Uri.TryCreate(SecretText.Reveal(webhook.Secret).Trim(), UriKind.Absolute, out webhookUrl))
            problems.Add(new DefinitionProblem(d.Alerts.Webhook!.Setting, $"the {d.Alerts.Webhook} does not hold an absolute URL (https://...)."));
        else if (webhookUrl is not null && webhookUrl.Scheme != Uri.UriSchemeHttps && !(webhookUrl.Scheme == Uri.UriSchemeHttp && webhookUrl.IsLoopback))
            problems.Add(new DefinitionProblem(d.Alerts.Webhook!.Setting, $"the {d.Alerts.Webhook} holds a {webhookUrl.Scheme} URL for {webhookUrl.Host}: alerts go over https only (http only on loopback)."));
        var sourceConnection = d.Source.ConnectionString ?? (sourceCs is null ? null : SecretText.Reveal(sourceCs.Secret));
        var stateConnection = d.State.ConnectionString ?? (stateCs is null ? null : SecretText.Reveal(stateCs.Secret));
        if (d.PushDown && sourceConnection is not null && stateConnection is not null && !SyncDefinitionParser.SameDatabase(sourceConnection, stateConnection))
            problems.Add(new DefinitionProblem("PushDown", "needs the state in the same database as the source, but the source and state connection strings name different hosts, ports or databases."));
        if (problems.Count > 0) throw new DefinitionException(d.DefinitionPath, problems, ErrorIds.SecretUnavailable);

        NetworkCredential? credential = null;
        if (password is not null)
            credential = new NetworkCredential(password.UserName ?? d.Source.UserName ?? "", password.Secret);
        else if (d.Source.UserName is not null)
            credential = new NetworkCredential(d.Source.UserName, "");
        var run = new DefinitionRun(d, options, key!.Secret, sourceConnection!, credential, stateConnection);
        run._secretsForRedaction.Add(SecretText.Reveal(key.Secret));
        if (webhookUrl is not null) run._secretsForRedaction.Add(webhookUrl.AbsoluteUri);
        run._notifier = NotifierFor(d.Alerts, webhookUrl, options.EventLog);
        if (password is not null) run._secretsForRedaction.Add(SecretText.Reveal(password.Secret));
        return run;
    }

    /// <summary>Masks every resolved secret (and connection-string secrets) in a text.</summary>
    public string Redact(string text) => ConnectionStrings.Redact(SecretText.Redact(text, _secretsForRedaction));

    /// <summary>
    /// Runs the sync on the calling thread; results and progress go to the observer on the same thread. Then the run is
    /// told to the event log and, as the definition's Alerts policy says, to its webhook (not under -WhatIf).
    /// </summary>
    public DefinitionOutcome Execute(IDefinitionRunObserver observer, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        IStateStore? store = null;
        var outcome = Execute(observer, s => store = s, cancellationToken);
        if (_notifier is not null && !_options.WhatIf)
            outcome = outcome with { Notification = _notifier.NotifyAsync(Report(outcome, store, started)).GetAwaiter().GetResult() };
        return outcome;
    }

    private static RunNotifier? NotifierFor(AlertsDefinition alerts, Uri? webhookUrl, IRunEventLog? eventLog)
    {
        string? noEventLog = null;
        if (alerts.EventLog) eventLog ??= WindowsRunEventLog.ForThisSystem(out noEventLog);
        else eventLog = null;
        if (webhookUrl is null && eventLog is null) return null;
        var webhook = webhookUrl is null ? null : new WebhookAlerter(webhookUrl, alerts.Format);
        return new RunNotifier(webhook, alerts.Policy, eventLog, noEventLog);
    }

    private RunReport Report(DefinitionOutcome outcome, IStateStore? store, DateTime started)
    {
        var summary = outcome.Summary ?? new UpsertSummary { Object = _definition.Target.DisplayName, SyncKey = _definition.Key.DisplayName };
        var status = outcome.ErrorId == ErrorIds.Cancelled ? SyncRunStatus.Cancelled
            : outcome.ErrorId == ErrorIds.GuardTripped ? SyncRunStatus.Refused
            : outcome.Failed ? SyncRunStatus.Failed
            : outcome.ExitCode == DefinitionOutcome.ExitRowsFailed ? SyncRunStatus.PartiallyFailed
            : SyncRunStatus.Succeeded;
        IEnumerable<string> rejected = Array.Empty<string>();
        if (store is not null && summary.RunId is { } runId && summary.Invalid + summary.Failed > 0)
        {
            try
            {
                rejected = store.RowOutcomes(runId, new[] { UpsertStatus.Invalid, UpsertStatus.Failed })
                    .Where(o => o.Key is not null).Select(o => o.Key!).Take(RunReport.MaxKeys).ToList();
            }
            catch (StateException)
            {
                // The alert still goes, without keys.
            }
        }
        return RunReport.From(_definition.Name, summary, status, started, DateTime.UtcNow,
            outcome.Message is null ? null : Redact(outcome.Message), outcome.ErrorId,
            guard: summary.GuardsTripped.Length > 0 && status == SyncRunStatus.Refused ? string.Join(", ", summary.GuardsTripped) : null, rejectedKeys: rejected);
    }

    private DefinitionOutcome Execute(IDefinitionRunObserver observer, Action<IStateStore> opened, CancellationToken cancellationToken)
    {
        var d = _definition;
        var options = new UpsertOptions(d.Target, d.Key) { Behavior = d.Behavior, ThrottleLimit = d.ThrottleLimit, WhatIf = _options.WhatIf, CreateOnSearchMiss = d.CreateOnSearchMiss, Backfill = d.Backfill,
            BudgetShare = d.BudgetShare, MaxRequestsPerMinute = d.MaxRequestsPerMinute };
        IStateStore store;
        UpsertSession session;
        try
        {
            store = d.State.Provider == StateProvider.Sqlite
                ? StateStores.Sqlite(d.State.Path!, d.State.StoreOptions())
                : StateStores.Create(d.State.Provider, _stateConnection!, d.State.StoreOptions());
            opened(store);
            observer.Verbose($"State: {store.Display}");
            session = UpsertSession.Open(store, d.Name, options, FullSync, observer, cancellationToken, loadEntries: !PushesDown);
        }
        catch (StateException ex)
        {
            return new DefinitionOutcome(null, DefinitionOutcome.ExitRunFailed, ex.ErrorId, Redact(ex.Message), ex);
        }

        using (session)
        using (var client = new KustomerClient(d.Destination.BaseUri, _apiKey, handler: _options.KustomerHandler) { Log = _options.Log })
        {
            return Run(store, session, client, options, observer, cancellationToken);
        }
    }

    private DefinitionOutcome Run(IStateStore store, UpsertSession session, KustomerClient client, UpsertOptions options, IDefinitionRunObserver observer, CancellationToken ct)
    {
        var d = _definition;
        DateTime? last;
        try
        {
            last = KeepsFailedRows ? KeptRows.WatermarkStart(store, d.Name) : store.LastSuccessfulRunStart(d.Name);
        }
        catch (StateException ex)
        {
            return new DefinitionOutcome(null, DefinitionOutcome.ExitRunFailed, ex.ErrorId, Redact(ex.Message), ex);
        }
        var since = FullSync || last is null ? d.Source.FirstRunStart : last.Value;
        if (d.Source.UsesLastRunStart)
            observer.Verbose($"$LastRunStart = {since:O} ({(last is null ? "first run" : FullSync ? "full sync" : KeepsFailedRows ? "start of the last run that succeeded or kept its failed rows" : "start of the last successful run")}).");

        try
        {
            session.Start(client, options, MappingRules(), d.SkipNull, d.ReportKeysLeft, _options.Log, Redact);
            // A query taking '$LastRunStart' or pushed down returns only what changed: its size says nothing of the table's.
            if (d.Guards is { } guards && !_options.Force) session.Guard(guards, fullSource: !d.Source.UsesLastRunStart && !PushesDown);
        }
        catch (Exception ex) when (ex is KustomerException or MappingException or StateException or OperationCanceledException)
        {
            var id = ex is KustomerSyncException known ? known.ErrorId : ErrorIds.Cancelled;
            return new DefinitionOutcome(null, DefinitionOutcome.ExitRunFailed, id, Redact(ex.Message), ex);
        }
        return Drive(session, store, since, observer, ct);
    }

    private DefinitionOutcome Drive(UpsertSession session, IStateStore store, DateTime since, IDefinitionRunObserver observer, CancellationToken ct)
    {
        var d = _definition;
        var query = BuildQuery(store, since, out var pushedDown);
        string? failureId = null;
        string? failureMessage = null;
        Exception? failure = null;
        var cancelled = false;
        FailedRowRetry? retry = null;
        try
        {
            if (KeepsFailedRows)
            {
                retry = FailedRowRetry.Load(session.State!, d.State.RetryRuns);
                session.Observer = observer = retry.Watch(observer);
            }
            using var reader = SourceProviders.Create(d.Source.Provider, _sourceConnection, _sourceCredential);
            observer.Verbose($"Source: {reader.Provider} at {reader.Target}{(pushedDown ? " (pushed-down diff: only new and changed rows leave the database)" : "")}.");
            string[]? names = null;
            int[]? keep = null;
            int sourceHashAt = -1, payloadHashAt = -1, kustomerIdAt = -1, failedAt = -1, valuedAt = -1, stampAt = -1;
            foreach (var row in reader.Read(query, ct))
            {
                if (names is null)
                {
                    names = row.Columns.Names;
                    if (pushedDown)
                    {
                        // The rewrite adds the source hash and the key's state; none of them is a column of the user's.
                        sourceHashAt = Array.IndexOf(names, PushedDownDiff.SourceHashColumn);
                        payloadHashAt = Array.IndexOf(names, PushedDownDiff.PayloadHashColumn);
                        kustomerIdAt = Array.IndexOf(names, PushedDownDiff.KustomerIdColumn);
                        failedAt = Array.IndexOf(names, PushedDownDiff.FailedColumn);
                        valuedAt = Array.IndexOf(names, PushedDownDiff.ValuedColumn);
                        stampAt = Array.IndexOf(names, PushedDownDiff.StampColumn);
                        keep = Enumerable.Range(0, names.Length).Where(i => !PushedDownDiff.AddedColumns.Contains(names[i])).ToArray();
                        names = keep.Select(i => names[i]).ToArray();
                    }
                }
                var values = row.Values;
                if (keep is null)
                {
                    retry?.Submitting(session.Run.Submitted + 1, names, values);
                    session.Submit(names, values, _options.MakeSourceObject?.Invoke(names, values));
                }
                else
                {
                    var all = values;
                    values = keep.Select(i => all[i]).ToArray();
                    var entry = PushedDownDiff.EntryFromRow(At(all, payloadHashAt), At(all, kustomerIdAt), At(all, failedAt), At(all, valuedAt), At(all, stampAt));
                    var sourceHash = At(all, sourceHashAt)?.ToString();
                    retry?.Submitting(session.Run.Submitted + 1, names, values);
                    session.Submit(names, values, _options.MakeSourceObject?.Invoke(names, values), entry, string.IsNullOrEmpty(sourceHash) ? null : sourceHash);
                }
            }
            retry?.SendKeptRows(session, _options.MakeSourceObject, observer.Verbose);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            cancelled = true;
        }
        catch (SourceException ex)
        {
            (failureId, failureMessage, failure) = (ex.ErrorId, Redact(ex.Message), ex);
        }
        catch (MappingException ex)
        {
            (failureId, failureMessage, failure) = (ErrorIds.InvalidMapping, Redact(ex.Message), ex);
        }
        catch (StateException ex)
        {
            (failureId, failureMessage, failure) = (ex.ErrorId, Redact(ex.Message), ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && ex is not StackOverflowException)
        {
            // A computed mapping value that threw, or a provider failure that was not wrapped.
            (failureId, failureMessage, failure) = (ErrorIds.SourceReadFailed, Redact($"Reading or mapping the source rows failed: {ex.Message}"), ex);
        }

        session.Drain();
        if (retry is not null && !_options.WhatIf)
        {
            try
            {
                if (retry.Save(session.Run.Summary.RunId ?? 0) is { } givenUp) observer.Warning(givenUp);
            }
            catch (StateException ex) when (failure is null)
            {
                (failureId, failureMessage, failure) = (ex.ErrorId, Redact(ex.Message), ex);
            }
        }
        // The source stopped part-way: the run is Failed (without the keys-left check, which needs the whole input).
        var ending = failure is not null ? RunEnding.Failed : cancelled ? RunEnding.Cancelled : RunEnding.Completed;
        UpsertSummary summary;
        try
        {
            summary = session.Finish(ending, failureMessage);
        }
        catch (StateException ex)
        {
            return new DefinitionOutcome(session.Run.Summary, DefinitionOutcome.ExitRunFailed, ex.ErrorId, Redact(ex.Message), ex);
        }

        if (failure is not null) return new DefinitionOutcome(summary, DefinitionOutcome.ExitRunFailed, failureId, failureMessage, failure);
        if (cancelled) return new DefinitionOutcome(summary, DefinitionOutcome.ExitRunFailed, ErrorIds.Cancelled, session.Run.StoppedMessage());
        if (session.Fault is { } fault) return new DefinitionOutcome(summary, DefinitionOutcome.ExitRunFailed, fault.ErrorId, fault.Message);
        return new DefinitionOutcome(summary, DefinitionOutcome.ExitCodeFor(summary));
    }

    private static object? At(object?[] values, int index) => index >= 0 ? values[index] : null;

    private bool PushesDown => _definition.PushDown && !FullSync;

    private bool KeepsFailedRows => _definition.State.Watermark == StateWatermark.AdvanceAndRetry;

    private SourceQuery BuildQuery(IStateStore store, DateTime since, out bool pushedDown)
    {
        var d = _definition;
        pushedDown = PushesDown;
        string sql = d.Source.Query;
        var extra = new Dictionary<string, object?>();
        if (pushedDown)
        {
            var pushed = PushedDownDiff.BuildQuery(d.Source.Query, KeyColumn(), d.Name, store, lowerCaseKey: d.Key.Kind == RecordKeyKind.Email, salt: MappingFingerprint());
            sql = pushed.Sql;
            foreach (var pair in pushed.Parameters) extra[pair.Key] = pair.Value;
        }
        var query = new SourceQuery(sql)
        {
            CommandTimeout = d.Source.CommandTimeoutSeconds is { } s ? (s == 0 ? null : TimeSpan.FromSeconds(s)) : TimeSpan.FromSeconds(300),
        };
        foreach (var pair in d.Source.Parameters)
            query.Parameters[pair.Key] = pair.Value is LastRunStartToken ? since : pair.Value;
        foreach (var pair in extra) query.Parameters[pair.Key] = pair.Value;
        return query;
    }

    /// <summary>
    /// A fingerprint of everything outside the query that shapes the payload (object, key, behaviour, SkipNull, the
    /// mapping): the pushed-down diff hashes it with every row, so a changed mapping brings every row out once.
    /// </summary>
    public string MappingFingerprint()
    {
        var d = _definition;
        var text = new System.Text.StringBuilder()
            .Append("v1|").Append(d.Target.DisplayName).Append('|').Append(d.Key.DisplayName).Append('|').Append(d.Behavior).Append('|').Append(d.SkipNull);
        foreach (var pair in d.Mapping) text.Append('|').Append(pair.Key).Append('=').Append(pair.Value is DefinitionExpression e ? "{" + e.Text + "}" : pair.Value);
        using var sha = System.Security.Cryptography.SHA256.Create();
        var bytes = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        return string.Concat(bytes.Take(8).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>The query column that carries the key: Source.KeyColumn, else the column mapped to the key field, else the key field's own name.</summary>
    public string KeyColumn()
    {
        var d = _definition;
        if (d.Source.KeyColumn is { } explicitColumn) return explicitColumn;
        var mapped = d.Mapping.FirstOrDefault(m => string.Equals(m.Key, d.Key.FieldPath, StringComparison.OrdinalIgnoreCase) && m.Value is string);
        if (mapped.Value is string column) return column;
        return d.Key.Kind == RecordKeyKind.CustomAttribute ? d.Key.Attribute! : d.Key.FieldPath;
    }

    private IReadOnlyList<MappingRule> MappingRules()
    {
        var rules = new List<MappingRule>();
        foreach (var pair in _definition.Mapping)
        {
            if (pair.Value is DefinitionExpression expression)
                rules.Add(new MappingRule(pair.Key, _options.CompileExpression!(expression), expression.ToString()));
            else
                rules.Add(new MappingRule(pair.Key, (string)pair.Value));
        }
        return rules;
    }

    public void Dispose()
    {
        _notifier?.Dispose();
        _secretsForRedaction.Clear();
    }
}
