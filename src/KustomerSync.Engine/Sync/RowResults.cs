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

    public static string? FieldFromPointer(string? pointer) =>
        string.IsNullOrEmpty(pointer) ? null : pointer!.TrimStart('/').Replace('/', '.');
}
