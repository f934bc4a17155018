namespace KustomerSync.Engine.Diagnostics;

/// <summary>
/// Where the engine narrates what it does, for a host to show (PowerShell: -Verbose and -Debug). Called from any
/// thread, so an implementation must be thread-safe and must not block; messages are built only when their level is
/// on. Verbose: what the run decides and does (mapping, lookups and writes per row, pacing waits). Debug: each HTTP
/// exchange, with secrets removed.
/// </summary>
public interface IEngineLog
{
    bool VerboseEnabled { get; }
    bool DebugEnabled { get; }
    void Verbose(string message);
    void Debug(string message);
}
