using System.Text.Json.Nodes;

namespace KustomerSync.State.Tests;

public class PayloadHashTests
{
    private static PayloadHash H(string json) => PayloadHash.Compute(JsonNode.Parse(json));

    [Fact]
    public void Member_order_does_not_matter()
    {
        Assert.Equal(H("""{"a":1,"b":"x","c":{"y":2,"x":1}}"""), H("""{"c":{"x":1,"y":2},"b":"x","a":1}"""));
    }

    [Theory]
    [InlineData("1", "1.0")]
    [InlineData("1", "1.00")]
    [InlineData("1", "1e0")]
    [InlineData("1", "10e-1")]
    [InlineData("100", "1E2")]
    [InlineData("0", "-0.0")]
    [InlineData("0.5", "5e-1")]
    [InlineData("-12.50", "-1.25e1")]
    [InlineData("123456789012345678901234567890", "1.2345678901234567890123456789e29")]
    public void Equal_numbers_hash_alike(string a, string b)
    {
        Assert.Equal(H($$"""{"n":{{a}}}"""), H($$"""{"n":{{b}}}"""));
    }

    [Fact]
    public void Numbers_built_from_clr_values_hash_like_their_json_text()
    {
        var fromDecimal = new JsonObject { ["n"] = JsonValue.Create(1.0m), ["m"] = JsonValue.Create(2.50m) };
        var fromDouble = new JsonObject { ["m"] = JsonValue.Create(2.5d), ["n"] = JsonValue.Create(1d) };
        var fromInt = new JsonObject { ["n"] = JsonValue.Create(1), ["m"] = JsonValue.Create(2.5f) };
        Assert.Equal(PayloadHash.Compute(fromDecimal), PayloadHash.Compute(fromDouble));
        Assert.Equal(PayloadHash.Compute(fromDecimal), PayloadHash.Compute(fromInt));
        Assert.Equal(PayloadHash.Compute(fromDecimal), H("""{"n":1,"m":2.5}"""));
    }

    [Theory]
    [InlineData("""{"n":1}""", """{"n":2}""")]
    [InlineData("""{"n":1}""", """{"n":"1"}""")]
    [InlineData("""{"s":"a"}""", """{"s":"A"}""")]
    [InlineData("""{"s":"a"}""", """{"s":"a "}""")]
    [InlineData("""{"s":null}""", """{}""")]
    [InlineData("""{"t":[1,2]}""", """{"t":[2,1]}""")]
    [InlineData("""{"b":true}""", """{"b":false}""")]
    [InlineData("""{"a":{"b":1}}""", """{"a.b":1}""")]
    [InlineData("""{"n":0.1}""", """{"n":0.10000000000000001}""")]
    public void Different_payloads_hash_differently(string a, string b)
    {
        Assert.NotEqual(H(a), H(b));
    }

    [Fact]
    public void Strings_are_kept_as_they_are_and_escaped_by_a_fixed_rule()
    {
        var payload = new JsonObject { ["s"] = "é \"q\" \\ \n ✓ <>&" };
        Assert.Equal("{\"s\":\"é \\\"q\\\" \\\\ \\u000a ✓ <>&\"}", PayloadHash.Canonical(payload));
        Assert.Equal(PayloadHash.Compute(payload), PayloadHash.Compute(JsonNode.Parse(payload.ToJsonString())));
    }

    [Fact]
    public void Canonical_form_is_documented_shape()
    {
        Assert.Equal("""{"a":[1e0,"x",null,true],"b":15e-1,"c":0}""", PayloadHash.Canonical(JsonNode.Parse("""{ "c": 0.000, "b": 1.50, "a": [1.0, "x", null, true] }""")));
    }

    [Fact]
    public void Hash_is_stable_across_releases()
    {
        // Golden value: if this changes, every stored hash stops matching and every row is resent once.
        var hash = H("""{"externalId":"c-1","name":"Ada","custom":{"tierStr":"gold","ltvNum":12.50}}""");
        Assert.Equal("{\"custom\":{\"ltvNum\":125e-1,\"tierStr\":\"gold\"},\"externalId\":\"c-1\",\"name\":\"Ada\"}",
            PayloadHash.Canonical(JsonNode.Parse("""{"externalId":"c-1","name":"Ada","custom":{"tierStr":"gold","ltvNum":12.50}}""")));
        Assert.Equal(GoldenSha("{\"custom\":{\"ltvNum\":125e-1,\"tierStr\":\"gold\"},\"externalId\":\"c-1\",\"name\":\"Ada\"}"), hash.ToString());
    }

    [Fact]
    public void Text_form_round_trips_and_rejects_garbage()
    {
        var hash = H("""{"a":1}""");
        Assert.Equal(64, hash.ToString().Length);
        Assert.True(PayloadHash.TryParse(hash.ToString(), out var parsed));
        Assert.Equal(hash, parsed);
        Assert.True(PayloadHash.TryParse(hash.ToString().ToUpperInvariant(), out parsed));
        Assert.Equal(hash, parsed);
        Assert.False(PayloadHash.TryParse("xyz", out _));
        Assert.False(PayloadHash.TryParse(new string('g', 64), out _));
        Assert.True(default(PayloadHash).IsEmpty);
        Assert.False(hash.IsEmpty);
    }

    [Fact]
    public void Hashing_is_thread_safe()
    {
        var payload = """{"a":1,"b":[1,2,3],"c":"text"}""";
        var expected = H(payload);
        Parallel.For(0, 2000, _ => Assert.Equal(expected, H(payload)));
    }

    private static string GoldenSha(string text) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
}
