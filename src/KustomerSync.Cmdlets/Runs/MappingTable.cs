using System.Collections;
using System.Management.Automation;
using KustomerSync.Engine.Sync;

namespace KustomerSync.Cmdlets.Runs;

/// <summary>A PowerShell mapping (hashtable of Kustomer field = property name or scriptblock) as the engine's rules.</summary>
internal static class MappingTable
{
    /// <exception cref="ArgumentException">A value is neither a property name nor a scriptblock.</exception>
    public static IReadOnlyList<MappingRule> Rules(IDictionary? mapping)
    {
        var rules = new List<MappingRule>();
        if (mapping is null) return rules;
        foreach (DictionaryEntry entry in mapping)
        {
            var target = entry.Key?.ToString() ?? "";
            rules.Add((entry.Value is PSObject ps ? ps.BaseObject : entry.Value) switch
            {
                string column => new MappingRule(target, column),
                ScriptBlock script => new MappingRule(target, Computed(script), "{ " + script.ToString().Trim() + " }"),
                var other => throw new ArgumentException($"-Mapping '{target}' must be a property name (string) or a scriptblock, not {other?.GetType().Name ?? "null"}."),
            });
        }
        return rules;
    }

    /// <summary>A computed mapping value: the scriptblock runs with the row's object as $_ and its last output is the value.</summary>
    public static Func<InputRecord, object?> Computed(ScriptBlock script) => record =>
    {
        var input = record.Source as PSObject ?? new PSObject(record.Source);
        var output = script.InvokeWithContext(null, new List<PSVariable> { new("_", input), new("PSItem", input) });
        return output.Count == 0 ? null : output[output.Count - 1]?.BaseObject;
    };
}
