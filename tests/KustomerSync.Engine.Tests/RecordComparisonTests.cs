using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Tests;

/// <summary>When a record Kustomer returned already holds a payload, so that the update is left out.</summary>
public class RecordComparisonTests
{
    private static FoundRecord Customer(string attributes, string? company = null) => FoundRecord.FromResource(JsonNode.Parse(
        $$"""{ "id": "aaaaaaaaaaaaaaaaaaaaaaaa", "attributes": {{attributes}}, "relationships": { "company": { "data": {{(company is null ? "null" : $$"""{ "type": "company", "id": "{{company}}" }""")}} } } }"""))!;

    private static bool Holds(FoundRecord current, string payload) =>
        RecordComparison.Holds(KustomerObject.Customer, current, (JsonObject)JsonNode.Parse(payload)!);

    [Fact]
    public void Kustomers_own_additions_and_forms_are_not_changes()
    {
        var current = Customer("""
            { "name": "Ada", "emails": [ { "email": "ada@example.com", "type": "work", "verified": false, "id": null } ],
              "signedUpAt": "2026-01-02T03:04:05.000Z", "custom": { "ltvNum": 1840.50, "tierStr": "gold", "otherStr": "kept" } }
            """);
        Assert.True(Holds(current, """
            { "name": "Ada", "emails": [ { "email": "ada@example.com", "type": "work" } ], "signedUpAt": "2026-01-02T03:04:05Z",
              "custom": { "ltvNum": 1840.5, "tierStr": "gold" } }
            """));
    }

    [Theory]
    [InlineData("""{ "name": "Ada Lovelace" }""")]
    [InlineData("""{ "custom": { "tierStr": "Gold" } }""")]
    [InlineData("""{ "custom": { "newStr": "x" } }""")]
    [InlineData("""{ "emails": [ { "email": "ada@example.com" } ] }""")]
    [InlineData("""{ "username": null, "name": "Ada", "locale": "en" }""")]
    [InlineData("""{ "company": "bbbbbbbbbbbbbbbbbbbbbbbb" }""")]
    public void A_difference_or_a_value_that_an_array_replacement_would_drop_is_a_change(string payload)
    {
        // The stored email is verified: an update whose item leaves verified out would reset it.
        var current = Customer("""{ "name": "Ada", "emails": [ { "email": "ada@example.com", "verified": true, "id": null } ], "custom": { "tierStr": "gold" } }""",
            company: "cccccccccccccccccccccccc");
        Assert.False(Holds(current, payload));
    }

    [Fact]
    public void A_search_hit_or_an_id_alone_is_never_taken_as_the_whole_record()
    {
        Assert.False(RecordComparison.Holds(KustomerObject.Customer, FoundRecord.ById("aaaaaaaaaaaaaaaaaaaaaaaa"), new JsonObject()));
        var hit = FoundRecord.FromSearchHit(JsonNode.Parse("""{ "id": "aaaaaaaaaaaaaaaaaaaaaaaa", "attributes": { "name": "Ada" } }"""))!;
        Assert.False(RecordComparison.Holds(KustomerObject.Customer, hit, new JsonObject { ["name"] = "Ada" }));
    }
}
