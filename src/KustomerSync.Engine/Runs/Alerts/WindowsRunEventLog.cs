using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KustomerSync.Engine.Runs.Alerts;

/// <summary>
/// The Application event log of Windows, source KustomerSync. The source is registered on first use where the account
/// may (registering needs an administrator once);
/// where it may not, the entry is skipped and the reason returned.
/// </summary>
public sealed class WindowsRunEventLog : IRunEventLog
{
    public const string SourceName = "KustomerSync";
    public const string LogName = "Application";

    private WindowsRunEventLog()
    {
    }

    /// <summary>The event log of this system, or null with the reason when it has none.</summary>
    public static IRunEventLog? ForThisSystem(out string? whyNot)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            whyNot = "there is no Windows event log on this system";
            return null;
        }
        whyNot = null;
        return new WindowsRunEventLog();
    }

    public string? Write(RunReport report)
    {
#pragma warning disable CA1416 // only constructed on Windows (ForThisSystem)
        var entry = RunEventEntry.For(report);
        try
        {
            if (!EventLog.SourceExists(SourceName))
                EventLog.CreateEventSource(SourceName, LogName);
        }
        catch (Exception ex)
        {
            return $"the event source {SourceName} is not registered in the {LogName} log and this account may not register it ({ex.GetType().Name}); " +
                   "an administrator can register it once";
        }
        try
        {
            var type = entry.Level switch
            {
                RunEventLevel.Error => EventLogEntryType.Error,
                RunEventLevel.Warning => EventLogEntryType.Warning,
                _ => EventLogEntryType.Information,
            };
            EventLog.WriteEntry(SourceName, entry.Text, type, entry.EventId);
            return null;
        }
        catch (Exception ex)
        {
            return $"the entry could not be written to the {LogName} log: {ex.Message}";
        }
#pragma warning restore CA1416
    }
}
