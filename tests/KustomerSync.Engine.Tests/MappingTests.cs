using KustomerSync.Engine.Sync;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Tests;

public class MappingTests
{
    private static readonly ObjectSchema CustomerSchema = new(KustomerObject.Customer, new[]
    {
        new FieldSpec("custom.tierStr", FieldType.String, 1024),
        new FieldSpec("custom.lifetimeValueNum", FieldType.Number),
        new FieldSpec("custom.crmAccountIdStr", FieldType.String, 1024),
    }, customAttributesKnown: true);

    private static InputRecord Row(long row, params (string Name, object? Value)[] columns) =>
        new(row, columns.Select(c => c.Name).ToArray(), columns.Select(c => c.Value).ToArray(), null);

    [Fact]
    public void Columns_named_like_fields_or_custom_attributes_map_automatically()
    {
        var mapper = new RecordMapper(CustomerSchema, RecordKey.Parse("ExternalId", KustomerObject.Customer), Array.Empty<MappingRule>(), skipNull: false);
        var outcome = mapper.Map(Row(1, ("externalId", 42L), ("name", "Ada"), ("email", "ada@example.com"), ("tierStr", "gold"),
            ("LifetimeValueNum", "12.5"), ("shoeSize", 9L)));
        Assert.True(outcome.IsValid, outcome.Error);
        Assert.Equal("42", outcome.Record!.Key);
        Assert.Equal("{\"externalId\":\"42\",\"name\":\"Ada\",\"emails\":[{\"email\":\"ada@example.com\"}],\"custom\":{\"tierStr\":\"gold\",\"lifetimeValueNum\":12.5}}",
            outcome.Record.Payload.ToJsonString());
        Assert.Equal(new[] { "shoeSize" }, mapper.UnmappedColumns);
    }

    [Fact]
    public void Explicit_rules_win_and_computed_values_see_the_row()
    {
        var rules = new[]
        {
            new MappingRule("name", "full_name"),
            new MappingRule("externalId", r => "crm-" + r["id"], "computed"),
        };
        var mapper = new RecordMapper(CustomerSchema, RecordKey.Parse("ExternalId", KustomerObject.Customer), rules, skipNull: false);
        var outcome = mapper.Map(Row(7, ("id", 7L), ("full_name", "Grace Hopper"), ("name", "ignored because name is mapped")));
        Assert.True(outcome.IsValid, outcome.Error);
        Assert.Equal("crm-7", outcome.Record!.Key);
        Assert.Equal("Grace Hopper", outcome.Record.Payload["name"]!.GetValue<string>());
    }

    [Fact]
    public void An_unknown_mapping_target_stops_the_run_with_suggestions()
    {
        var error = Assert.Throws<MappingException>(() => new RecordMapper(CustomerSchema, RecordKey.Parse("ExternalId", KustomerObject.Customer),
            new[] { new MappingRule("custom.tierString", "plan") }, skipNull: false));
        Assert.Contains("'custom.tierStr'", error.Message);
    }

    [Fact]
    public void Nulls_clear_fields_unless_skipped()
    {
        var key = RecordKey.Parse("ExternalId", KustomerObject.Customer);
        var clearing = new RecordMapper(CustomerSchema, key, Array.Empty<MappingRule>(), skipNull: false).Map(Row(1, ("externalId", "a"), ("tierStr", null)));
        Assert.Equal("{\"externalId\":\"a\",\"custom\":{\"tierStr\":null}}", clearing.Record!.Payload.ToJsonString());
        var skipping = new RecordMapper(CustomerSchema, key, Array.Empty<MappingRule>(), skipNull: true).Map(Row(1, ("externalId", "a"), ("tierStr", null)));
        Assert.Equal("{\"externalId\":\"a\"}", skipping.Record!.Payload.ToJsonString());
    }

    [Fact]
    public void Invalid_rows_name_the_row_key_and_column()
    {
        var mapper = new RecordMapper(CustomerSchema, RecordKey.Parse("ExternalId", KustomerObject.Customer),
            new[] { new MappingRule("custom.lifetimeValueNum", "ltv") }, skipNull: false);
        var outcome = mapper.Map(Row(3, ("externalId", "c-3"), ("ltv", "a lot")));
        Assert.False(outcome.IsValid);
        Assert.Equal("ltv", outcome.Field);
        Assert.Contains("Row 3 (key 'c-3')", outcome.Error);
        Assert.Contains("column 'ltv'", outcome.Error);

        var missing = mapper.Map(Row(4, ("externalId", "  "), ("ltv", 1L)));
        Assert.False(missing.IsValid);
        Assert.Contains("is empty", missing.Error);
    }

    [Fact]
    public void Custom_attribute_keys_and_email_keys_are_parsed_per_object()
    {
        Assert.Equal("custom.crmAccountIdStr", RecordKey.Parse("crmAccountIdStr", KustomerObject.Customer).FieldPath);
        Assert.Equal(RecordKeyKind.Email, RecordKey.Parse("email", KustomerObject.Customer).Kind);
        Assert.Throws<ArgumentException>(() => RecordKey.Parse("Email", KustomerObject.Company));
        Assert.Throws<ArgumentException>(() => RecordKey.Parse("tierStr", KustomerObject.Parse("kobject.order")));
        Assert.Equal("klasses/order", KustomerObject.Parse("KObject.order").CollectionPath);
        Assert.Throws<ArgumentException>(() => KustomerObject.Parse("Conversation"));
    }
}
