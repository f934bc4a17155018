using System.Text.Json.Nodes;
using KustomerSync.Engine.Sync;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Tests;

public class ValueConverterTests
{
    private static JsonNode? Convert(object? value, FieldType type, int max = 0)
    {
        Assert.True(ValueConverter.TryConvert(value, new FieldSpec("custom.x", type, max), out var json, out var error), error);
        return json;
    }

    private static string Reject(object? value, FieldType type, int max = 0)
    {
        Assert.False(ValueConverter.TryConvert(value, new FieldSpec("custom.x", type, max), out _, out var error));
        return error!;
    }

    [Fact]
    public void Numbers_keep_decimals_exact_and_parse_invariant_strings()
    {
        Assert.Equal("1840.50", Convert(1840.50m, FieldType.Number)!.ToJsonString());
        Assert.Equal("12.5", Convert("12.5", FieldType.Number)!.ToJsonString());
        Assert.Equal("42", Convert(42L, FieldType.Number)!.ToJsonString());
        Assert.Contains("'lots' is not a number", Reject("lots", FieldType.Number));
        Assert.Contains("boolean", Reject(true, FieldType.Number));
    }

    [Fact]
    public void Booleans_accept_common_spellings_only()
    {
        Assert.Equal("true", Convert("yes", FieldType.Bool)!.ToJsonString());
        Assert.Equal("false", Convert(0L, FieldType.Bool)!.ToJsonString());
        Assert.Contains("not true or false", Reject("maybe", FieldType.Bool));
        Assert.Contains("not true or false", Reject(2L, FieldType.Bool));
    }

    [Fact]
    public void Dates_become_iso_8601_utc()
    {
        var local = new DateTimeOffset(2026, 1, 2, 5, 4, 5, TimeSpan.FromHours(2));
        Assert.Equal("\"2026-01-02T03:04:05.000Z\"", Convert(local, FieldType.DateTime)!.ToJsonString());
        Assert.Equal("\"2026-01-02T03:04:05.000Z\"", Convert("2026-01-02 03:04:05", FieldType.DateTime)!.ToJsonString());
        Assert.Contains("not a date", Reject("someday", FieldType.DateTime));
    }

    [Fact]
    public void Strings_over_the_limit_are_rejected_with_their_length()
    {
        var error = Reject(new string('x', 1025), FieldType.String, 1024);
        Assert.Contains("1025 characters", error);
        Assert.Contains("at most 1024", error);
        Assert.Equal("\"ok\"", Convert("ok", FieldType.String, 1024)!.ToJsonString());
    }

    [Fact]
    public void Urls_emails_and_ids_are_checked()
    {
        Assert.Contains("not an absolute http(s) URL", Reject("example.com/x", FieldType.Url));
        Assert.Contains("not an email address", Reject("ada-at-example.com", FieldType.Email));
        Assert.Equal("\"ada@example.com\"", Convert(" ada@example.com ", FieldType.Email)!.ToJsonString());
        Assert.Contains("not a Kustomer id", Reject("company-1", FieldType.ObjectId));
    }

    [Fact]
    public void Null_is_always_allowed_and_clears()
    {
        Assert.Null(Convert(null, FieldType.Number));
    }

    [Fact]
    public void Tags_split_on_commas_and_respect_kustomer_limits()
    {
        Assert.Equal("[\"vip\",\"beta\"]", Convert("vip, beta,vip", FieldType.Tags)!.ToJsonString());
        Assert.Contains("at most 20", Reject(string.Join(",", Enumerable.Range(1, 21)), FieldType.Tags));
    }
}
