using System.Text;
using KustomerSync.Engine.Runs.Alerts;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Runs.Definitions;

/// <summary>How a definition run ended: the summary, the exit code for schedulers, and the error that stopped it, if any.</summary>
/// <param name="Summary">Null when the run stopped before any row was read (state locked, Kustomer refused the key).</param>
/// <param name="ExitCode">0: every row succeeded; 2: the run completed but some rows were Invalid or Failed; 1: the run failed.</param>
/// <param name="Message">The error's message with the run's secrets redacted.</param>
/// <param name="Error">The exception as thrown: its message is not redacted.</param>
public sealed record DefinitionOutcome(UpsertSummary? Summary, int ExitCode, string? ErrorId = null, string? Message = null, Exception? Error = null)
{
    public const int ExitSucceeded = 0;
    public const int ExitRunFailed = 1;
    public const int ExitRowsFailed = 2;

    public bool Failed => ExitCode == ExitRunFailed;
    /// <summary>What became of the run's event log entry and alert; null when nothing was to be told (-WhatIf).</summary>
    public Notification? Notification { get; init; }

    public static int ExitCodeFor(UpsertSummary summary) => summary.Invalid + summary.Failed > 0 ? ExitRowsFailed : ExitSucceeded;

    // Not the exception: its message is not redacted and can hold a secret (a connection string's, the API key).
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"ExitCode = {ExitCode}, ErrorId = {ErrorId}, Message = {Message}, Notification = {Notification}");
        return true;
    }
}
