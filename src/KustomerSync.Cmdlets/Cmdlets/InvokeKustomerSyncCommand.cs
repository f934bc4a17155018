using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Security;
using KustomerSync.Engine.Runs.Definitions;
using KustomerSync.Engine.Security;
using KustomerSync.Engine.Sync;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Cmdlets;

/// <summary>
/// Runs one declarative sync definition (.psd1) end to end: validated first (every problem at once, each naming its
/// setting), incremental through the state store, run history, the summary as a host line and in -SummaryVariable (the
/// output stream holds only results, with -PassThru), and an exit code for schedulers
/// ($LASTEXITCODE always; the host's exit code with -ExitCode). The file is read as data with the PowerShell parser and
/// never run; only Mapping values may be scriptblocks, compiled here because the engine has no PowerShell.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "KustomerSync", HelpUri = "https://github.com/kustomersync/kustomersync/blob/main/docs/cmdlets/Invoke-KustomerSync.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UpsertResult))]
public sealed class InvokeKustomerSyncCommand : KustomerCmdlet
{
    private const string Activity = "Kustomer sync";
    /// <summary>Without -PassThru, only this many rejected rows are written as errors; the rest are in the run history.</summary>
    private const int MaxRowErrors = 100;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "DefinitionPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter FullSync { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    [Parameter]
    public SwitchParameter ExitCode { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SummaryVariable { get; set; }

    protected override void ProcessRecord()
    {
        var code = DefinitionOutcome.ExitRunFailed;
        try
        {
            code = RunDefinition();
        }
        finally
        {
            SetExitCode(code);
        }
    }

    private int RunDefinition()
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        var host = new PowerShellDefinitionHost(this);
        SyncDefinition definition;
        try
        {
            definition = DefinitionFile.Load(path, host);
        }
        catch (DefinitionException ex)
        {
            throw Terminate(ToErrorRecord(ex, path));
        }

        var action = $"Sync {definition.Source.Provider} rows into {definition.Target.DisplayName} records by {definition.Key.DisplayName} ({definition.Behavior}{(definition.FullSync || FullSync ? ", full sync" : "")})";
        var whatIf = !ShouldProcess($"{definition.Name} -> {definition.Destination.BaseUri.Host}", action);
        var hasExpressions = definition.Mapping.Any(m => m.Value is DefinitionExpression);
        var options = new DefinitionRunOptions
        {
            WhatIf = whatIf,
            FullSync = FullSync,
            CompileExpression = Compile,
            MakeSourceObject = PassThru || hasExpressions ? MakeRow : null,
            Log = EngineLog,
        };

        DefinitionRun run;
        try
        {
            run = DefinitionRun.Prepare(definition, host, options);
        }
        catch (DefinitionException ex)
        {
            throw Terminate(ToErrorRecord(ex, path));
        }

        using (run)
        {
            var observer = new Observer(this, run);
            DefinitionOutcome outcome;
            try
            {
                outcome = run.Execute(observer, Cancellation);
            }
            finally
            {
                CompleteProgress(1, Activity);
                FlushEngineLog();
            }
            if (Cancellation.IsCancellationRequested)
            {
                // The pipeline is stopping, so the warning goes straight to the host.
                if (outcome.Message is { } stopped)
                    try { Host.UI.WriteWarningLine(stopped); } catch (Exception ex) when (ex is PipelineStoppedException or NotImplementedException) { }
                throw new PipelineStoppedException();
            }
            if (observer.SuppressedErrors > 0)
                WriteWarning($"{observer.SuppressedErrors} more rejected rows were not written as errors. See them with Get-KustomerSyncRun -Sync '{definition.Name}' -Status Failed, Invalid (or run with -PassThru).");
            if (observer.Unreachable > 0 && !outcome.Failed)
                WriteWarning($"{observer.Unreachable} rows could not reach Kustomer and were not written; the next run retries them.");
            if (outcome.Summary is not null) WriteSummary(outcome.Summary, SummaryVariable);
            if (outcome.Failed)
            {
                SetExitCode(DefinitionOutcome.ExitRunFailed);
                var error = outcome.Error is null
                    ? RunError(outcome.Message ?? "The sync failed.", outcome.ErrorId ?? ErrorIds.SyncFailed, definition.Name)
                    : ToErrorRecord(outcome.Error, definition.Name);
                if (outcome.Error is not null && outcome.Message is not null && outcome.Message != outcome.Error.Message)
                    error.ErrorDetails = new ErrorDetails(outcome.Message) { RecommendedAction = error.ErrorDetails?.RecommendedAction };
                throw Terminate(error);
            }
            return outcome.ExitCode;
        }
    }

    /// <summary>$LASTEXITCODE always; with -ExitCode also the host's exit code (pwsh -File exits with it).</summary>
    private void SetExitCode(int code)
    {
        SessionState.PSVariable.Set("global:LASTEXITCODE", code);
        if (ExitCode) Host.SetShouldExit(code);
    }

    private Func<InputRecord, object?> Compile(DefinitionExpression expression)
    {
        var script = ScriptBlock.Create(expression.Text);
        return record =>
        {
            var input = record.Source as PSObject ?? new PSObject(record.Source);
            var output = script.InvokeWithContext(null, new List<PSVariable> { new("_", input), new("PSItem", input) });
            return output.Count == 0 ? null : output[output.Count - 1]?.BaseObject;
        };
    }

    private static object MakeRow(string[] names, object?[] values)
    {
        var item = new PSObject();
        for (var i = 0; i < names.Length; i++) item.Properties.Add(new PSNoteProperty(names[i], values[i]), true);
        return item;
    }

    protected override string? Advice(string errorId) => errorId switch
    {
        ErrorIds.InvalidMapping => "Fix Mapping in the sync definition (Kustomer field = source column), rename the column in the query, or pick another SyncKey; Get-KustomerSchema lists the fields and custom attributes.",
        ErrorIds.RecordNotFound => "Set Behavior = 'UpdateOrCreate' in the sync definition to create missing records.",
        ErrorIds.ConnectionFailed => "Check Destination (Organization or BaseUri) in the sync definition, the network path to Kustomer, and any proxy.",
        ErrorIds.SourceMissingParameter => "Supply every placeholder of the query in Source.Parameters of the sync definition.",
        ErrorIds.SourceTimeout => "Raise Source.CommandTimeout (seconds) in the sync definition, or make the query cheaper.",
        _ => base.Advice(errorId),
    };

    private sealed class Observer : IDefinitionRunObserver
    {
        private readonly InvokeKustomerSyncCommand _cmdlet;
        private readonly DefinitionRun _run;
        private int _errors;

        public Observer(InvokeKustomerSyncCommand cmdlet, DefinitionRun run)
        {
            _cmdlet = cmdlet;
            _run = run;
        }

        public int SuppressedErrors { get; private set; }

        /// <summary>Rows that failed for want of Kustomer, not for their content: the run's error (or one warning) covers them.</summary>
        public int Unreachable { get; private set; }

        /// <summary>With -PassThru a row is its result; without, a rejected row is an error record. Never both.</summary>
        public void Result(UpsertResult result)
        {
            _cmdlet.FlushEngineLog();
            if (_cmdlet.PassThru)
            {
                _cmdlet.WriteObject(result);
                return;
            }
            if (result.Status is not (UpsertStatus.Invalid or UpsertStatus.Failed)) return;
            if (result.ErrorId is ErrorIds.ConnectionFailed or ErrorIds.NotAttempted) Unreachable++;
            else if (_errors < MaxRowErrors)
            {
                _errors++;
                _cmdlet.WriteError(_cmdlet.RowError(result));
            }
            else SuppressedErrors++;
        }

        public void Progress(UpsertSummary summary, int inFlight, bool waitingForRateWindow) =>
            _cmdlet.Progress(1, Activity, $"{_run.Definition.Name}: {summary.Total:N0} rows done ({summary.Created:N0} created, {summary.Updated:N0} updated, {summary.Unchanged:N0} unchanged, {summary.Invalid + summary.Failed:N0} rejected), {inFlight} in flight" +
                (waitingForRateWindow ? ", waiting for Kustomer's rate window" : ""));

        public void Warning(string message) => _cmdlet.WriteWarning(_run.Redact(message));

        public void Verbose(string message) => _cmdlet.WriteVerbose(_run.Redact(message));
    }

    /// <summary>Environment, commands and secrets as this PowerShell session sees them.</summary>
    private sealed class PowerShellDefinitionHost : IDefinitionHost
    {
        private readonly PSCmdlet _cmdlet;

        public PowerShellDefinitionHost(PSCmdlet cmdlet)
        {
            _cmdlet = cmdlet;
        }

        public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);

        public bool CommandExists(string name) =>
            _cmdlet.InvokeCommand.GetCommand(name, CommandTypes.Cmdlet | CommandTypes.Function | CommandTypes.Alias) is not null;

        public bool FileExists(string path) => File.Exists(path);

        public ResolvedSecret Resolve(SecretReference reference)
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            switch (reference.Source)
            {
                case SecretSource.AutomationVariable:
                    ps.AddCommand(SecretCommands.AutomationVariable).AddParameter("Name", reference.Name);
                    break;
                case SecretSource.AutomationCredential:
                    ps.AddCommand(SecretCommands.AutomationCredential).AddParameter("Name", reference.Name);
                    break;
                case SecretSource.SecretManagement:
                    ps.AddCommand(SecretCommands.GetSecret).AddParameter("Name", reference.Name);
                    if (reference.Vault is not null) ps.AddParameter("Vault", reference.Vault);
                    break;
                default:
                    throw new InvalidOperationException($"{reference.Source} is resolved by the engine.");
            }
            var output = ps.Invoke();
            if (ps.HadErrors || output.Count == 0)
            {
                var first = ps.Streams.Error.FirstOrDefault();
                throw new InvalidOperationException(first is null ? "it returned nothing." : first.Exception.Message);
            }
            return output[output.Count - 1]?.BaseObject switch
            {
                PSCredential credential => new ResolvedSecret(credential.Password, credential.UserName),
                SecureString secure => new ResolvedSecret(secure),
                string text when text.Length > 0 => new ResolvedSecret(SecretText.Protect(text)),
                var other => throw new InvalidOperationException($"it returned {other?.GetType().Name ?? "null"}, not a string, SecureString or PSCredential."),
            };
        }
    }
}

/// <summary>
/// Reads a .psd1 sync definition as data, the way Import-PowerShellDataFile does: parsed, never run. Constants,
/// hashtables and arrays are taken as values; scriptblocks are kept as text (DefinitionExpression) for the Mapping;
/// anything else (variables, commands, expandable strings) is a problem naming its setting.
/// </summary>
internal static class DefinitionFile
{
    public static SyncDefinition Load(string path, IDefinitionHost host)
    {
        var problems = new List<DefinitionProblem>();
        if (!File.Exists(path))
            throw new DefinitionException(path, new[] { new DefinitionProblem("", $"The file '{path}' does not exist.") });
        var ast = Parser.ParseFile(path, out _, out var errors);
        if (errors.Length > 0)
            throw new DefinitionException(path, errors.Select(e => new DefinitionProblem("", $"line {e.Extent.StartLineNumber}: {e.Message}")).ToList());
        var statements = ast.EndBlock?.Statements;
        if (ast.ParamBlock is not null || ast.BeginBlock is not null || ast.ProcessBlock is not null || statements is null || statements.Count != 1 ||
            statements[0] is not PipelineAst pipeline || pipeline.GetPureExpression() is not HashtableAst table)
            throw new DefinitionException(path, new[] { new DefinitionProblem("", "A sync definition holds one hashtable, @{ Name = '...'; Source = @{ ... }; ... }, and nothing else.") });

        var data = (IDictionary)Convert(table, "", problems)!;
        try
        {
            var definition = SyncDefinitionParser.Parse(data, path, host);
            if (problems.Count > 0) throw new DefinitionException(path, problems);
            return definition;
        }
        catch (DefinitionException ex) when (problems.Count > 0)
        {
            // A value that could not be read was left out; drop the follow-on "missing" or type reports for the same setting.
            var merged = problems.Concat(ex.Problems.Where(p => !problems.Any(c => c.Setting.Equals(p.Setting, StringComparison.OrdinalIgnoreCase)))).ToList();
            throw new DefinitionException(path, merged);
        }
    }

    private static readonly object Unreadable = new();

    private static object? Convert(Ast ast, string setting, List<DefinitionProblem> problems)
    {
        switch (ast)
        {
            case HashtableAst hashtable:
            {
                var result = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
                foreach (var pair in hashtable.KeyValuePairs)
                {
                    var key = pair.Item1 is ConstantExpressionAst constant ? constant.Value?.ToString() : null;
                    if (key is null)
                    {
                        problems.Add(new DefinitionProblem(setting, $"line {pair.Item1.Extent.StartLineNumber}: the key {pair.Item1.Extent.Text} is not a constant name."));
                        continue;
                    }
                    var child = setting.Length == 0 ? key : setting + "." + key;
                    var valueAst = pair.Item2 is PipelineAst p && p.GetPureExpression() is { } expression ? (Ast)expression : pair.Item2;
                    var value = Convert(valueAst, child, problems);
                    if (!ReferenceEquals(value, Unreadable)) result[key] = value;
                }
                return result;
            }
            case ScriptBlockExpressionAst script:
            {
                var text = script.ScriptBlock.Extent.Text.Trim();
                if (text.StartsWith("{", StringComparison.Ordinal) && text.EndsWith("}", StringComparison.Ordinal)) text = text.Substring(1, text.Length - 2);
                return new DefinitionExpression(text, script.Extent.StartLineNumber);
            }
            case ArrayLiteralAst array:
                return array.Elements.Select(e => Convert(e, setting, problems)).Where(v => !ReferenceEquals(v, Unreadable)).ToArray();
            case ArrayExpressionAst arrayExpression:
            {
                var items = new List<object?>();
                foreach (var statement in arrayExpression.SubExpression.Statements)
                {
                    if (statement is PipelineAst p && p.GetPureExpression() is { } expression)
                    {
                        var value = Convert(expression, setting, problems);
                        if (value is object?[] inner) items.AddRange(inner);
                        else if (!ReferenceEquals(value, Unreadable)) items.Add(value);
                    }
                    else problems.Add(new DefinitionProblem(setting, $"line {statement.Extent.StartLineNumber}: '{statement.Extent.Text}' is not a constant value."));
                }
                return items.ToArray();
            }
            case ParenExpressionAst paren when paren.Pipeline is PipelineAst inner && inner.GetPureExpression() is { } innerExpression:
                return Convert(innerExpression, setting, problems);
            case ExpandableStringExpressionAst expandable:
                if (expandable.NestedExpressions.Count == 1 && expandable.NestedExpressions[0] is VariableExpressionAst variable &&
                    expandable.Value.Trim() == variable.Extent.Text)
                    return expandable.Value.Trim();
                if (expandable.NestedExpressions.Count == 0) return expandable.Value;
                problems.Add(new DefinitionProblem(setting, $"line {expandable.Extent.StartLineNumber}: {expandable.Extent.Text} would expand variables or expressions, which a definition never does. Use single quotes."));
                return Unreadable;
            default:
                try
                {
                    var value = ast.SafeGetValue();
                    return value is PSObject ps ? ps.BaseObject : value;
                }
                catch (InvalidOperationException)
                {
                    var hint = ast.Extent.Text.StartsWith("$env:", StringComparison.OrdinalIgnoreCase)
                        ? " To take a secret from an environment variable, name the variable in a setting such as Source.ConnectionStringEnvironmentVariable or Destination.ApiKeyEnvironmentVariable."
                        : "";
                    problems.Add(new DefinitionProblem(setting, $"line {ast.Extent.StartLineNumber}: '{ast.Extent.Text}' is not a constant value. A definition is data and is never run: write strings, numbers, $true/$false, hashtables (only Mapping values may be scriptblocks).{hint}"));
                    return Unreadable;
                }
        }
    }
}
