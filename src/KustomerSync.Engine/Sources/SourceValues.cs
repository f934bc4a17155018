namespace KustomerSync.Engine.Sources;

/// <summary>One place that turns driver values into what the pipeline carries.</summary>
public static class SourceValues
{
    public static object? Normalize(object? value) => value switch
    {
        null or DBNull => null,
        DateTime { Kind: DateTimeKind.Unspecified } d => DateTime.SpecifyKind(d, DateTimeKind.Utc),
        DateTime d => d.ToUniversalTime(),
        DateTimeOffset o => o.UtcDateTime,
        char[] chars => new string(chars),
        _ => value,
    };
}
