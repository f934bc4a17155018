using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Cmdlets.Session;

/// <summary>
/// The destinations registered in one runspace, with one HTTP client each. Runspaces (jobs, runbooks, parallel
/// loops) do not see each other's keys; the org's rate budget is still shared process-wide by the engine.
/// </summary>
internal sealed class DestinationRegistry
{
    private static readonly ConditionalWeakTable<Runspace, DestinationRegistry> PerRunspace = new();
    private static readonly DestinationRegistry NoRunspace = new();
    private readonly object _sync = new();
    private readonly Dictionary<string, (KustomerDestination Destination, KustomerClient Client)> _entries = new(StringComparer.OrdinalIgnoreCase);

    public static DestinationRegistry Current =>
        Runspace.DefaultRunspace is { } runspace ? PerRunspace.GetValue(runspace, _ => new DestinationRegistry()) : NoRunspace;

    public IReadOnlyList<KustomerDestination> All
    {
        get { lock (_sync) return _entries.Values.Select(e => e.Destination).OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase).ToList(); }
    }

    public void Add(KustomerDestination destination, KustomerClient client)
    {
        lock (_sync)
        {
            if (_entries.TryGetValue(destination.Name, out var old)) old.Client.Dispose();
            var makeDefault = _entries.Count == 0 || old.Destination?.IsDefault == true || destination.IsDefault;
            if (makeDefault) foreach (var entry in _entries.Values) entry.Destination.IsDefault = false;
            destination.IsDefault = makeDefault;
            _entries[destination.Name] = (destination, client);
        }
    }

    public bool Remove(string name)
    {
        lock (_sync)
        {
            if (!_entries.TryGetValue(name, out var entry)) return false;
            _entries.Remove(name);
            entry.Client.Dispose();
            if (entry.Destination.IsDefault && _entries.Count > 0)
                _entries.Values.OrderBy(e => e.Destination.ConnectedAt).First().Destination.IsDefault = true;
            return true;
        }
    }

    /// <summary>The named destination, or the default one when no name is given; null when there is none.</summary>
    public (KustomerDestination Destination, KustomerClient Client)? Find(string? name)
    {
        lock (_sync)
        {
            if (string.IsNullOrEmpty(name)) return _entries.Values.Where(e => e.Destination.IsDefault).Select(e => ((KustomerDestination, KustomerClient)?)e).FirstOrDefault();
            return _entries.TryGetValue(name!, out var entry) ? entry : null;
        }
    }
}
