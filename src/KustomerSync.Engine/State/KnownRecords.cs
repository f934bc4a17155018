namespace KustomerSync.Engine.State;

/// <summary>
/// What <see cref="SyncState.Known"/> found: <paramref name="Records"/> keys with a confirmed write, and per field path
/// (<see cref="ValuedFields"/>) how many of them held a value in it; keys whose set is not known count in Records only.
/// </summary>
public sealed record KnownRecords(long Records, IReadOnlyDictionary<string, long> HadValue);
