namespace KustomerSync.Engine.Sources;

/// <summary>SQLitePCLRaw needs its native provider chosen once per process before the first connection.</summary>
internal static class SqliteSetup
{
    private static int _initialized;

    public static void EnsureInitialized()
    {
        if (Interlocked.Exchange(ref _initialized, 1) == 0) SQLitePCL.Batteries_V2.Init();
    }
}
