using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using KustomerSync.Cmdlets.Session;
using KustomerSync.Engine.Diagnostics;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Sources;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets;

/// <summary>
/// What every KustomerSync cmdlet shares: a cancellation token tied to Ctrl+C (StopProcessing), engine exceptions
/// turned into ErrorRecords with stable ErrorIds and fitting categories, throttled progress, and redaction.
/// </summary>
public abstract class KustomerCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Stopwatch _progressClock = Stopwatch.StartNew();
    private TimeSpan? _lastProgress;

    protected CancellationToken Cancellation => _stopping.Token;

    private QueuedLog? _engineLog;

    /// <summary>
    /// The engine's narration for this cmdlet: collected from any thread, written as -Verbose and -Debug records by
    /// <see cref="FlushEngineLog"/> on the pipeline thread (the only thread that may write).
    /// </summary>
    internal IEngineLog EngineLog => _engineLog ??= new QueuedLog(PreferenceOn("Verbose"), PreferenceOn("Debug"));

    protected internal void FlushEngineLog()
    {
        if (_engineLog is null) return;
        while (_engineLog.Messages.TryDequeue(out var message))
        {
            if (message.Debug) WriteDebug(message.Text);
            else WriteVerbose(message.Text);
        }
    }

    private bool PreferenceOn(string name)
    {
        if (MyInvocation.BoundParameters.TryGetValue(name, out var bound)) return bound is SwitchParameter s ? s.IsPresent : bound is true;
        return Enum.TryParse<ActionPreference>(GetVariableValue(name + "Preference")?.ToString(), out var preference) &&
            preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
    }

    private sealed class QueuedLog : IEngineLog
    {
        public QueuedLog(bool verbose, bool debug)
        {
            VerboseEnabled = verbose;
            DebugEnabled = debug;
        }

        public ConcurrentQueue<(bool Debug, string Text)> Messages { get; } = new();
        public bool VerboseEnabled { get; }
        public bool DebugEnabled { get; }
        public void Verbose(string message) { if (VerboseEnabled) Messages.Enqueue((false, message)); }
        public void Debug(string message) { if (DebugEnabled) Messages.Enqueue((true, message)); }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs engine work to completion on the pipeline thread (PowerShell has no synchronization context there).</summary>
    protected T Await<T>(Task<T> task) => task.GetAwaiter().GetResult();

    /// <summary>A computed mapping value: the scriptblock runs with the row's object as $_ and its last output is the value.</summary>
    protected static Func<InputRecord, object?> Computed(ScriptBlock script) => record =>
    {
        var input = record.Source as PSObject ?? new PSObject(record.Source);
        var output = script.InvokeWithContext(null, new List<PSVariable> { new("_", input), new("PSItem", input) });
        return output.Count == 0 ? null : output[output.Count - 1]?.BaseObject;
    };

    /// <summary>The destination named by -Destination, or the default one; a terminating error when there is none.</summary>
    internal (KustomerDestination Destination, KustomerClient Client) ResolveDestination(string? name)
    {
        var found = DestinationRegistry.Current.Find(name);
        if (found is not null) return found.Value;
        var message = string.IsNullOrEmpty(name)
            ? "No Kustomer destination is connected in this session. Run Connect-KustomerDestination -Organization <org> -ApiKey <key> first."
            : $"No Kustomer destination named '{name}' is connected. Get-KustomerDestination lists the connected ones.";
        throw Terminate(new ErrorRecord(new InvalidOperationException(message), "KustomerSync.NotConnected", ErrorCategory.ConnectionError, name));
    }

    /// <summary>Turns an engine failure into an ErrorRecord with its stable ErrorId.</summary>
    protected static ErrorRecord ToErrorRecord(Exception exception, object? target)
    {
        switch (exception)
        {
            case KustomerException k:
                return WithAction(new ErrorRecord(k, k.ErrorId, CategoryFor(k.ErrorId), target), ActionFor(k.ErrorId));
            case SourceException s:
                return new ErrorRecord(s, s.ErrorId, s.Failure switch
                {
                    SourceFailure.InvalidArgument => ErrorCategory.InvalidArgument,
                    SourceFailure.ConnectionFailed => ErrorCategory.ConnectionError,
                    SourceFailure.AuthenticationFailed => ErrorCategory.AuthenticationError,
                    SourceFailure.Timeout => ErrorCategory.OperationTimeout,
                    _ => ErrorCategory.InvalidOperation,
                }, target);
            case StateException st:
                return new ErrorRecord(st, st.ErrorId, st.ErrorId switch
                {
                    StateErrors.Locked => ErrorCategory.ResourceBusy,
                    StateErrors.InvalidArgument => ErrorCategory.InvalidArgument,
                    StateErrors.Mismatch => ErrorCategory.InvalidArgument,
                    StateErrors.WriteFailed => ErrorCategory.WriteError,
                    _ => ErrorCategory.ReadError,
                }, target);
            case MappingException m:
                return new ErrorRecord(m, "KustomerSync.InvalidMapping", ErrorCategory.InvalidArgument, target);
            case ArgumentException a:
                return new ErrorRecord(a, "KustomerSync.InvalidArgument", ErrorCategory.InvalidArgument, target);
            case OperationCanceledException c:
                return new ErrorRecord(c, "KustomerSync.Cancelled", ErrorCategory.OperationStopped, target);
            default:
                return new ErrorRecord(exception, "KustomerSync.UnexpectedError", ErrorCategory.NotSpecified, target);
        }
    }

    /// <summary>
    /// The run's summary goes by its own route, never the output stream (which holds results only): one line on the
    /// host through the information stream (shown like Write-Host, in logs too; 6> or -InformationAction Ignore
    /// silence it) and, with -SummaryVariable, the object in the caller's variable.
    /// </summary>
    protected void WriteSummary(UpsertSummary summary, string? variableName)
    {
        if (!string.IsNullOrEmpty(variableName)) SessionState.PSVariable.Set(variableName!, summary);
        WriteHostLine(summary.ToString(), "KustomerSync:Summary");
    }

    /// <summary>A line for the person at the console (and the log), never on the output stream: shown like Write-Host.</summary>
    protected void WriteHostLine(string text, string tag) =>
        WriteInformation(new HostInformationMessage { Message = text }, new[] { "PSHOST", tag });

    /// <summary>An unknown -Object kobject.&lt;klass&gt;, with the org's closest klasses (best effort: one more request).</summary>
    internal ErrorRecord UnknownKlassError(KustomerException exception, KustomerClient client, string? destinationName, string objectName)
    {
        var record = ToErrorRecord(exception, objectName);
        try
        {
            var klasses = Await(KlassCatalog.ListAsync(client, destinationName, Cancellation)).Select(k => "kobject." + k.Name).ToList();
            var hint = NameSuggestions.DidYouMean(objectName, klasses);
            record.ErrorDetails = new ErrorDetails($"-Object {objectName} names no klass of this organization{hint}. " +
                (klasses.Count == 0 ? "It has none yet." : $"It has: {string.Join(", ", klasses.Take(10))}{(klasses.Count > 10 ? ", ..." : "")}."))
            {
                RecommendedAction = "Press Tab after -Object to complete a klass, or Get-KustomerSchema -Klasses to list them.",
            };
        }
        catch (KustomerException)
        {
            // Listing the klasses needs a role the key may lack: the error as it stands still says what is wrong.
        }
        return record;
    }

    /// <summary>A mapping that cannot fit the input or the object, with the PowerShell way to fix it.</summary>
    protected static ErrorRecord MappingError(MappingException exception, object? target) =>
        WithAction(new ErrorRecord(exception, "KustomerSync.InvalidMapping", ErrorCategory.InvalidArgument, target),
            "Fix -Mapping (Kustomer field = input property), rename the input property, or pick another -SyncKey; Get-KustomerSchema lists the fields and custom attributes.");

    /// <summary>The error record of a row that ended Invalid or Failed; the row key is the target object.</summary>
    protected internal static ErrorRecord RowError(UpsertResult result)
    {
        var exception = new InvalidOperationException(result.Message ?? result.Status.ToString());
        var category = result.Status == UpsertStatus.Invalid ? ErrorCategory.InvalidData : CategoryFor(result.ErrorId ?? "");
        return WithAction(new ErrorRecord(exception, result.ErrorId ?? "KustomerSync.RowFailed", category, result.Key ?? $"row {result.Row}"), ActionFor(result.ErrorId ?? ""));
    }

    /// <summary>The one error of a run that stopped for a reason that concerns every row (key refused, Kustomer unreachable).</summary>
    protected static ErrorRecord RunError(string message, string errorId, object? target) =>
        WithAction(new ErrorRecord(new InvalidOperationException(message), errorId, CategoryFor(errorId), target), ActionFor(errorId));

    /// <summary>Throws the record as a terminating error; returns an exception only so callers can write 'throw'.</summary>
    protected Exception Terminate(ErrorRecord record)
    {
        ThrowTerminatingError(record);
        return new InvalidOperationException("unreachable");
    }

    /// <summary>True at most four times a second: hot loops build their progress text only when it is due.</summary>
    protected internal bool ProgressDue()
    {
        var now = _progressClock.Elapsed;
        if (_lastProgress is { } last && now - last < TimeSpan.FromMilliseconds(250)) return false;
        _lastProgress = now;
        return true;
    }

    /// <summary>Write-Progress at most four times a second.</summary>
    protected internal void Progress(int id, string activity, string status, int percent = -1, int secondsRemaining = -1)
    {
        if (ProgressDue()) WriteProgress(new ProgressRecord(id, activity, status) { PercentComplete = percent, SecondsRemaining = secondsRemaining });
    }

    protected void CompleteProgress(int id, string activity) =>
        WriteProgress(new ProgressRecord(id, activity, "Done") { RecordType = ProgressRecordType.Completed });

    private static ErrorCategory CategoryFor(string errorId) => errorId switch
    {
        "KustomerSync.AuthenticationFailed" => ErrorCategory.AuthenticationError,
        "KustomerSync.MissingRole" => ErrorCategory.PermissionDenied,
        "KustomerSync.ConnectionFailed" => ErrorCategory.ConnectionError,
        "KustomerSync.NotFound" or "KustomerSync.RecordNotFound" or "KustomerSync.UnknownKlass" => ErrorCategory.ObjectNotFound,
        "KustomerSync.Conflict" or "KustomerSync.AmbiguousKey" => ErrorCategory.ResourceExists,
        "KustomerSync.RateLimited" or "KustomerSync.PayloadTooLarge" => ErrorCategory.LimitsExceeded,
        "KustomerSync.Rejected" => ErrorCategory.InvalidData,
        "KustomerSync.OutcomeUnknown" => ErrorCategory.OperationTimeout,
        "KustomerSync.Cancelled" => ErrorCategory.OperationStopped,
        _ => ErrorCategory.InvalidOperation,
    };

    private static string? ActionFor(string errorId) => errorId switch
    {
        "KustomerSync.AuthenticationFailed" => "Check the API key (complete, not expired, same region as the org) and run Connect-KustomerDestination again.",
        "KustomerSync.MissingRole" => "Run Test-KustomerConnection to see the roles the key lacks; Kustomer keys cannot be edited, so create a new key with them.",
        "KustomerSync.ConnectionFailed" => "Check the organization name or -BaseUri, the network path to Kustomer, and any proxy.",
        "KustomerSync.RecordNotFound" => "Use -Behavior UpdateOrCreate to create missing records.",
        _ => null,
    };

    private static ErrorRecord WithAction(ErrorRecord record, string? action)
    {
        if (action is not null) record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = action };
        return record;
    }
}
