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
/// <param name="Held">Rows that need a write, held until the guards judge the run once the source ends (nothing is written before).</param>
public readonly record struct RunProgress(UpsertSummary Summary, int InFlight, bool WaitingForRateWindow, TimeSpan Elapsed, long Read = 0, long Held = 0)
{
    /// <summary>", 1,200 rows read, 40 held until the guards judge the run", or "" while nothing is held.</summary>
    public string HeldNote => Held > 0 ? $", {Read:N0} rows read, {Held:N0} held until the guards judge the run" : "";
}
