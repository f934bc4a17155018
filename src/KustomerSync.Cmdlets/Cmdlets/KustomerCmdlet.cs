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

    /// <summary>
    /// A -Verbose line, written only while verbose output is on. PowerShell 7 sets the verbose preference of a cmdlet
    /// run with -Debug alone to Inquire, so a plain WriteVerbose would ask "Continue with this operation?" at every
    /// line, and fail a non-interactive scheduled task. Every verbose line of the module goes through here.
    /// </summary>
    protected internal void Narrate(string text)
    {
        if (EngineLog.VerboseEnabled) WriteVerbose(text);
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

    /// <summary>The destination named by -Destination, or the default one; a terminating error when there is none.</summary>
    internal (KustomerDestination Destination, KustomerClient Client) ResolveDestination(string? name)
    {
        var found = DestinationRegistry.Current.Find(name);
        if (found is not null) return found.Value;
        var message = string.IsNullOrEmpty(name)
            ? "No Kustomer destination is connected in this session. Run Connect-KustomerDestination -Organization <org> -ApiKey <key> first."
            : $"No Kustomer destination named '{name}' is connected. Get-KustomerDestination lists the connected ones.";
        throw Terminate(new ErrorRecord(new InvalidOperationException(message), ErrorIds.NotConnected, ErrorCategory.ConnectionError, name));
    }

    /// <summary>
    /// Turns a failure into an ErrorRecord: its stable ErrorId, the category of its kind, and this cmdlet's advice.
    /// The one place where engine exceptions meet PowerShell's error model.
    /// </summary>
    internal ErrorRecord ToErrorRecord(Exception exception, object? target) => exception switch
    {
        KustomerSyncException known => WithAdvice(new ErrorRecord(known, known.ErrorId, CategoryOf(known.Kind), target), known.ErrorId),
        ArgumentException => new ErrorRecord(exception, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, target),
        OperationCanceledException => new ErrorRecord(exception, ErrorIds.Cancelled, ErrorCategory.OperationStopped, target),
        _ => new ErrorRecord(exception, ErrorIds.UnexpectedError, ErrorCategory.NotSpecified, target),
    };

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

    /// <summary>The error record of a row that ended Invalid or Failed; the row key is the target object.</summary>
    internal ErrorRecord RowError(UpsertResult result)
    {
        var exception = new InvalidOperationException(result.Message ?? result.Status.ToString());
        var category = result.Status == UpsertStatus.Invalid ? ErrorCategory.InvalidData : CategoryOf(ErrorIds.KindOf(result.ErrorId));
        var errorId = result.ErrorId ?? ErrorIds.RowFailed;
        return WithAdvice(new ErrorRecord(exception, errorId, category, result.Key ?? $"row {result.Row}"), errorId);
    }

    /// <summary>The one error of a run that stopped for a reason that concerns every row (key refused, Kustomer unreachable).</summary>
    protected ErrorRecord RunError(string message, string errorId, object? target) =>
        WithAdvice(new ErrorRecord(new InvalidOperationException(message), errorId, CategoryOf(ErrorIds.KindOf(errorId)), target), errorId);

    /// <summary>Throws the record as a terminating error; returns an exception only so callers can write 'throw'.</summary>
    protected internal Exception Terminate(ErrorRecord record)
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

    private static ErrorCategory CategoryOf(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.Conflict => ErrorCategory.ResourceExists,
        ErrorKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ErrorKind.ConnectionFailed => ErrorCategory.ConnectionError,
        ErrorKind.LimitExceeded => ErrorCategory.LimitsExceeded,
        ErrorKind.Timeout => ErrorCategory.OperationTimeout,
        ErrorKind.Busy => ErrorCategory.ResourceBusy,
        ErrorKind.ReadFailed => ErrorCategory.ReadError,
        ErrorKind.WriteFailed => ErrorCategory.WriteError,
        ErrorKind.Cancelled => ErrorCategory.OperationStopped,
        _ => ErrorCategory.InvalidOperation,
    };

    /// <summary>
    /// What to do about an ErrorId, in PowerShell terms: the engine's messages name concepts (the mapping, the
    /// behaviour), and each cmdlet names its own parameters here. Null when the message says enough.
    /// </summary>
    protected virtual string? Advice(string errorId) => errorId switch
    {
        ErrorIds.AuthenticationFailed => "Check the API key (complete, not expired, same region as the org) and run Connect-KustomerDestination again.",
        ErrorIds.MissingRole => "Run Test-KustomerConnection to see the roles the key lacks; Kustomer keys cannot be edited, so create a new key with them.",
        ErrorIds.ConnectionFailed => "Check the organization name or -BaseUri, the network path to Kustomer, and any proxy.",
        ErrorIds.UnknownKlass => "Get-KustomerSchema -Klasses lists the klasses of the org.",
        _ => null,
    };

    private ErrorRecord WithAdvice(ErrorRecord record, string errorId)
    {
        if (Advice(errorId) is { } advice) record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = advice };
        return record;
    }
}
