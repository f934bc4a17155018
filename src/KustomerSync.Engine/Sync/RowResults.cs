using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sync;

/// <summary>Builds the result of one row, so every path (single, bulk, planner) reports rows the same way.</summary>
internal static class RowResults
{
    public static UpsertResult For(MappedRecord record, UpsertOptions options) => new()
    {
        Row = record.Input.Row,
        Object = options.Target.DisplayName,
        Key = record.Key,
        InputObject = record.Input.Source,
    };

    public static UpsertResult Done(UpsertResult result, UpsertStatus status, string? id)
    {
        result.Status = status;
        result.KustomerId = id ?? result.KustomerId;
        return result;
    }

    public static UpsertResult Fail(UpsertResult result, string errorId, string message, string? field)
    {
        result.Status = UpsertStatus.Failed;
        result.ErrorId = errorId;
        result.Message = message;
        result.Field = field;
        return result;
    }

    /// <summary>A row the run did not write because it had stopped; the run's one error says why.</summary>
    public static UpsertResult NotAttempted(UpsertResult result, RunFault fault) =>
        Fail(result, ErrorIds.NotAttempted, $"Not attempted: the run stopped ({fault.ErrorId}).", null);

    /// <summary>
    /// A row whose outcome the state store could not record: it fails with the store's reason (and what Kustomer did),
    /// so it still has its one result and the next run writes it again.
    /// </summary>
    public static UpsertResult SettleFailed(UpsertResult result, Exception error, Func<string, string> redact)
    {
        var outcome = result.Status + (result.Message is null ? "" : $" ({result.Message})");
        return Fail(result, error is KustomerSyncException known ? known.ErrorId : ErrorIds.UnexpectedError,
            redact($"Row {result.Row}{(result.Key is null ? "" : $" (key '{result.Key}')")} ended {outcome}, but the state store could not record it: {error.Message}"), null);
    }

    public static string? FieldFromPointer(string? pointer) =>
        string.IsNullOrEmpty(pointer) ? null : pointer!.TrimStart('/').Replace('/', '.');
}
