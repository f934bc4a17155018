using System.Text.Json.Nodes;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.State;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Engine.Tests;

/// <summary>The planner alone: no emulator, no HTTP, no clock; the state is a dictionary.</summary>
public class UpsertPlannerTests
{
    private static readonly ObjectSchema CustomerSchema = new(KustomerObject.Customer, new[] { new FieldSpec("custom.tierStr", FieldType.String, 1024) }, customAttributesKnown: true);
    private static readonly string[] Names = { "externalId", "name", "tierStr" };

    /// <summary>A state that remembers ids and confirmed payload hashes by key.</summary>
    private sealed class FakeState : IStateLookup
    {
        public Dictionary<string, (string Id, PayloadHash Hash)> Known { get; } = new();
        public HashSet<string> FailedBefore { get; } = new();
        public List<string> Asked { get; } = new();

        public bool TryGetEntry(string key, out StateEntry entry)
        {
            Asked.Add(key);
            entry = Known.TryGetValue(key, out var k) ? new StateEntry(k.Id, k.Hash, DateTime.UtcNow, 0, hasError: false, null)
                : FailedBefore.Contains(key) ? new StateEntry(null, default, null, 1, hasError: true, null)
                : default;
            return Known.ContainsKey(key) || FailedBefore.Contains(key);
        }

        public bool IsUnchanged(StateEntry entry, PayloadHash hash) => !entry.Hash.IsEmpty && !entry.HasError && entry.Hash == hash;
    }

    private static UpsertPlanner Planner(IStateLookup? state, string key = "ExternalId", IReadOnlyList<MappingRule>? rules = null)
    {
        var options = new UpsertOptions(KustomerObject.Customer, RecordKey.Parse(key, KustomerObject.Customer));
        return new UpsertPlanner(new RecordMapper(CustomerSchema, options.Key, rules ?? Array.Empty<MappingRule>(), skipNull: false), options, state);
    }

    private static PayloadHash HashOf(string id, string name, string tier) =>
        PayloadHash.Compute(new JsonObject { ["externalId"] = id, ["name"] = name, ["custom"] = new JsonObject { ["tierStr"] = tier } });

    [Fact]
    public void Rows_are_numbered_and_handed_on_with_their_payload_when_there_is_no_state()
    {
        var planner = Planner(state: null);

        var first = planner.Plan(Names, new object?[] { "c-1", "Ada", "gold" }, "source 1");
        var second = planner.Plan(Names, new object?[] { "c-2", "Bea", "silver" }, null);

        Assert.Null(first.Result);
        Assert.Equal(1, first.Write!.Record.Input.Row);
        Assert.Equal("source 1", first.Write.Record.Input.Source);
        Assert.Null(first.Write.KnownId);
        Assert.True(first.Write.Hash.IsEmpty);
        Assert.Equal(2, second.Write!.Record.Input.Row);
        Assert.Equal(2, planner.Rows);
    }

    [Fact]
    public void An_invalid_row_is_decided_without_a_write_and_its_key_still_counts_as_seen()
    {
        var planner = Planner(state: null);

        var empty = planner.Plan(Names, new object?[] { "", "Nobody", "gold" }, null);
        var tooLong = planner.Plan(Names, new object?[] { "c-9", "Ada", new string('x', 2000) }, null);

        Assert.Equal(UpsertStatus.Invalid, empty.Result!.Status);
        Assert.Null(empty.Write);
        Assert.Equal(UpsertStatus.Invalid, tooLong.Result!.Status);
        Assert.Equal("c-9", tooLong.Result.Key);
        Assert.Contains("c-9", planner.SeenKeys);
        Assert.Equal(UpsertStatus.Invalid, planner.Plan(Names, new object?[] { "c-9", "Ada", "gold" }, null).Result!.Status);
    }

    [Fact]
    public void A_key_used_twice_in_a_run_is_invalid_naming_the_first_row_and_emails_ignore_case()
    {
        var planner = Planner(state: null, key: "Email");
        string[] names = { "email", "name" };

        Assert.NotNull(planner.Plan(names, new object?[] { "Ada@Example.com", "Ada" }, null).Write);
        var again = planner.Plan(names, new object?[] { "ada@example.com", "Ada again" }, null).Result!;

        Assert.Equal(UpsertStatus.Invalid, again.Status);
        Assert.Equal("KustomerSync.DuplicateKey", again.ErrorId);
        Assert.Equal(2, again.Row);
        Assert.Contains("row 1", again.Message);
        Assert.Contains("without regard to case", again.Message);
    }

    [Fact]
    public void A_payload_the_state_confirmed_is_unchanged_and_a_changed_one_carries_the_remembered_id_and_new_hash()
    {
        var state = new FakeState();
        state.Known["c-1"] = ("id-1", HashOf("c-1", "Ada", "gold"));
        state.Known["c-2"] = ("id-2", HashOf("c-2", "Bea", "silver"));
        var planner = Planner(state);

        var same = planner.Plan(Names, new object?[] { "c-1", "Ada", "gold" }, "row");
        var changed = planner.Plan(Names, new object?[] { "c-2", "Bea", "gold" }, null);
        var fresh = planner.Plan(Names, new object?[] { "c-3", "Cy", "gold" }, null);

        Assert.Equal(UpsertStatus.Unchanged, same.Result!.Status);
        Assert.Equal("id-1", same.Result.KustomerId);
        Assert.Equal("row", same.Result.InputObject);
        Assert.Equal("id-2", changed.Write!.KnownId);
        Assert.Equal(HashOf("c-2", "Bea", "gold"), changed.Write.Hash);
        Assert.Null(fresh.Write!.KnownId);
        Assert.False(fresh.Write.Hash.IsEmpty);
    }

    [Fact]
    public void Only_a_key_the_state_has_no_trace_of_counts_as_never_synced()
    {
        var state = new FakeState();
        state.Known["c-1"] = ("id-1", HashOf("c-1", "Ada", "gold"));
        state.FailedBefore.Add("c-2");
        var planner = Planner(state);

        Assert.False(planner.Plan(Names, new object?[] { "c-1", "Ada", "silver" }, null).Write!.NeverSynced);
        Assert.False(planner.Plan(Names, new object?[] { "c-2", "Bea", "gold" }, null).Write!.NeverSynced);
        Assert.True(planner.Plan(Names, new object?[] { "c-3", "Cy", "gold" }, null).Write!.NeverSynced);
        Assert.False(Planner(state: null).Plan(Names, new object?[] { "c-3", "Cy", "gold" }, null).Write!.NeverSynced);
    }

    [Fact]
    public void A_pushed_down_entry_read_with_the_row_decides_instead_of_the_loaded_state()
    {
        var state = new FakeState();
        var planner = Planner(state);
        var entry = new StateEntry("id-7", HashOf("c-7", "Ada", "gold"), null, 0, false, null);

        var same = planner.Plan(Names, new object?[] { "c-7", "Ada", "gold" }, null, entry, "src-hash");
        var changed = planner.Plan(Names, new object?[] { "c-8", "Bea", "gold" }, null, new StateEntry("id-8", HashOf("c-8", "Bea", "silver"), null, 0, false, null), "src-8");

        Assert.Equal(UpsertStatus.Unchanged, same.Result!.Status);
        Assert.Equal("id-7", same.Result.KustomerId);
        Assert.Equal("id-8", changed.Write!.KnownId);
        Assert.Equal("src-8", changed.Write.SourceHash);
        Assert.Empty(state.Asked);
    }

    [Fact]
    public void A_mapping_that_names_a_column_the_first_row_lacks_stops_before_any_plan()
    {
        var planner = Planner(state: null, rules: new[] { new MappingRule("name", "full_name") });

        Assert.Throws<MappingException>(() => planner.Plan(Names, new object?[] { "c-1", "Ada", "gold" }, null));
        Assert.Equal(0, planner.Rows);
    }
}
