namespace KustomerSync.Engine.Sync;

/// <summary>Why a run stopped writing (the key refused, Kustomer unreachable, a mapping that cannot fit): one error for the run.</summary>
public sealed record RunFault(string ErrorId, string Message);
