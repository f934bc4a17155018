namespace KustomerSync.State.Tests;

public class ValuedFieldsTests
{
    [Fact]
    public void A_set_is_distinct_and_in_ordinal_order_and_stored_joined_by_commas()
    {
        var set = ValuedFields.Of(new[] { "phones", "name", "custom.tierStr", "name", "Name" });
        Assert.Equal(new[] { "Name", "custom.tierStr", "name", "phones" }, set.Paths);
        Assert.Equal("Name,custom.tierStr,name,phones", set.Stored);
        Assert.True(set.Contains("custom.tierStr"));
        Assert.True(set.Contains("Name"));
        Assert.False(set.Contains("custom"));
        Assert.False(set.Contains("NAME"));
        Assert.Equal(set, ValuedFields.Of(new[] { "name", "phones", "Name", "custom.tierStr" }));
    }

    [Fact]
    public void The_stored_form_reads_back_as_the_same_set()
    {
        var set = ValuedFields.Of(new[] { "emails", "name", "custom.tierStr" });
        var parsed = ValuedFields.Parse(set.Stored);
        Assert.NotNull(parsed);
        Assert.Equal(set, parsed);
        Assert.Equal(set.Paths, parsed!.Paths);
        Assert.Equal(new[] { "name" }, ValuedFields.Parse("name")!.Paths);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_null_or_empty_column_is_not_known(string? stored)
    {
        Assert.Null(ValuedFields.Parse(stored));
    }

    [Theory]
    [InlineData("a,b")]
    [InlineData("")]
    public void A_path_that_could_not_be_stored_is_refused(string path)
    {
        Assert.Throws<ArgumentException>(() => ValuedFields.Of(new[] { "name", path }));
    }
}
