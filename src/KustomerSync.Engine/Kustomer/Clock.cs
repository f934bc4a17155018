namespace KustomerSync.Engine.Kustomer;

/// <summary>Waits on an injected clock, so pacing and backoff can be tested on a fake one.</summary>
internal static class Clock
{
    public static Task Delay(TimeProvider time, TimeSpan delay, CancellationToken cancellationToken) =>
#if NET
        Task.Delay(delay, time, cancellationToken);
#else
        time.Delay(delay, cancellationToken);
#endif
}
