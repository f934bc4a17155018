using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Runs;

/// <summary>What an <see cref="UpsertSession"/> tells its driver, always on the thread that called the session.</summary>
public interface IUpsertObserver
{
    void Result(UpsertResult result);
    /// <summary>After results came out, and every quarter second while a row waits for room (a wait for the rate window); the observer decides how often to show it.</summary>
    void Progress(RunProgress progress);
    void Warning(string message);
}

/// <summary>Where a run stands, for progress.</summary>
public readonly record struct RunProgress(UpsertSummary Summary, int InFlight, bool WaitingForRateWindow, TimeSpan Elapsed);
