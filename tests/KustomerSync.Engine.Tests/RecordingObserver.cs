using KustomerSync.Engine.Runs;

namespace KustomerSync.Engine.Tests;

/// <summary>An upsert session's observer that keeps what it is told: results in the order handed on, and warnings.</summary>
internal sealed class RecordingObserver : IUpsertObserver
{
    public List<UpsertResult> Results { get; } = new();
    public List<string> Warnings { get; } = new();
    public void Result(UpsertResult result) => Results.Add(result);
    public void Progress(RunProgress progress) { }
    public void Warning(string message) => Warnings.Add(message);
}
