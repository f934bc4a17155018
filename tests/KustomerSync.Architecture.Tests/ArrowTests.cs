using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Architecture.Tests;

/// <summary>
/// DESIGN §2, "arrows point down only": Cmdlets → Runs → Sync → Kustomer/State/Sources. Kustomer (the API and its
/// vocabulary) knows no sync policy, state or source; Sources and Kustomer never use each other; the shared bottom
/// (Diagnostics, Security) uses no other part. Checked over every type of the engine assembly, method bodies included.
/// </summary>
public class ArrowTests
{
    /// <summary>The part of the engine a type belongs to: the namespace segment after KustomerSync.Engine.</summary>
    internal static string? PartOf(Type type)
    {
        var ns = type.Namespace;
        if (ns is null || !(ns == "KustomerSync.Engine" || ns.StartsWith("KustomerSync.Engine.", StringComparison.Ordinal))) return null;
        return ns.Length == "KustomerSync.Engine".Length ? "" : ns.Substring("KustomerSync.Engine.".Length).Split('.')[0];
    }

    public static TheoryData<string, string[]> Rules => new()
    {
        { "Kustomer", new[] { "Sync", "Runs", "Sources", "State" } },
        { "Sources", new[] { "Kustomer", "Sync", "Runs" } },
        { "State", new[] { "Sync", "Runs" } },
        { "Sync", new[] { "Runs" } },
        { "Diagnostics", new[] { "Kustomer", "Sources", "State", "Sync", "Runs", "Security" } },
        { "Security", new[] { "Kustomer", "Sources", "State", "Sync", "Runs" } },
    };

    internal static IEnumerable<string> Violations(IEnumerable<Type> types, string part, IReadOnlyCollection<string> forbidden) =>
        types.Where(t => PartOf(t) == part)
            .SelectMany(t => TypeUses.Of(t).Select(u => (From: Outermost(t), u.Used, u.Where)))
            .Where(u => PartOf(u.Used) is { } to && forbidden.Contains(to))
            .GroupBy(u => $"{u.From.FullName} uses {Outermost(u.Used).FullName}")
            .Select(g => $"{g.Key} ({string.Join(", ", g.Select(u => u.Where).Distinct().Take(3))}{(g.Select(u => u.Where).Distinct().Count() > 3 ? ", ..." : "")})")
            .OrderBy(v => v, StringComparer.Ordinal);

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer) type = outer;
        return type;
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void A_part_of_the_engine_uses_nothing_above_it(string part, string[] forbidden)
    {
        var types = typeof(ErrorIds).Assembly.GetTypes();
        Assert.Contains(types, t => PartOf(t) == part);
        var violations = Violations(types, part, forbidden).ToList();
        Assert.True(violations.Count == 0,
            $"{part}/ must not use {string.Join(", ", forbidden)} (DESIGN §2), but {violations.Count} uses do:{Environment.NewLine}" +
            string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void The_reader_sees_uses_in_signatures_and_in_method_bodies()
    {
        // The guard must be able to fail: a use in a field, in a generic argument and in a method body is each seen.
        var caught = TypeUses.Of(typeof(Offender)).ToList();
        Assert.Contains(caught, u => u.Used == typeof(Engine.Sync.MappingException) && u.Where == "field Field");
        Assert.Contains(caught, u => u.Used == typeof(Engine.Sync.MappingException) && u.Where == "body of Body");
        Assert.Contains(caught, u => u.Used == typeof(Engine.Sync.MappingException) && u.Where == "field Generic");
    }

    private sealed class Offender
    {
        public Engine.Sync.MappingException? Field = null;
        public List<Engine.Sync.MappingException>? Generic = null;
        public static string Body() => new Engine.Sync.MappingException("x").Message;
    }
}
