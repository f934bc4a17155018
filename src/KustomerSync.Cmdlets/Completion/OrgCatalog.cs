using System.Runtime.CompilerServices;
using KustomerSync.Cmdlets.Session;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Cmdlets.Completion;

/// <summary>
/// What completers learn from the connected org, through the engine: the klasses (GET /v1/klasses) and the writable
/// fields of an object (standard fields plus the custom attributes of GET /v1/metadata/&lt;object&gt;). Results are
/// cached per destination for a minute. Nothing here throws: a missing destination, a refused key, a slow network or
/// an engine that cannot load all end as an empty list, and the completer offers what it knows without the org.
/// </summary>
/// <remarks>
/// Every use of an engine type is in a *Core method that is never inlined. The engine is resolved into its load
/// context when a method that names its types is compiled; kept out of the public methods, a failure to load it
/// (a damaged install, a missing dependencies/ folder) is thrown inside their try, not into PowerShell's completion.
/// The engine hands back its own records (KlassCatalog, SchemaCatalog), so no JSON type of the engine's is touched
/// here (src/KustomerSync.Cmdlets/Loading/README.md).
/// </remarks>
internal static class OrgCatalog
{
    /// <summary>The klasses of the destination's org, of every status (the tooltip names any but enabled), as kobject.&lt;name&gt;.</summary>
    public static IReadOnlyList<CompletionItem> Klasses(string? destinationName)
    {
        try
        {
            return KlassesCore(destinationName);
        }
        catch (Exception)
        {
            return Array.Empty<CompletionItem>();
        }
    }

    /// <summary>The writable fields of an object (Customer, Company, kobject.&lt;klass&gt;): standard ones, then custom.&lt;name&gt;.</summary>
    public static IReadOnlyList<FieldItem> Fields(string? destinationName, string objectName)
    {
        try
        {
            return FieldsCore(destinationName, objectName);
        }
        catch (Exception)
        {
            return Array.Empty<FieldItem>();
        }
    }

    /// <summary>The names of the destinations connected in this runspace.</summary>
    public static IReadOnlyList<CompletionItem> Destinations()
    {
        try
        {
            return DestinationRegistry.Current.All
                .Select(d => new CompletionItem(d.Name, $"{d.Name}{(d.IsDefault ? " (default)" : "")}: {d.BaseUri}"))
                .ToList();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionItem>();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IReadOnlyList<CompletionItem> KlassesCore(string? destinationName)
    {
        if (DestinationRegistry.Current.Find(destinationName) is not { } found) return Array.Empty<CompletionItem>();
        var (destination, client) = found;
        return CompletionHelpers.Cached(CacheKey(destination, "klasses"), () =>
        {
            using var timeout = new CancellationTokenSource(CompletionHelpers.RequestBudget);
            return KlassCatalog.ListAsync(client, destination.Name, timeout.Token).GetAwaiter().GetResult()
                .Select(k => new CompletionItem("kobject." + k.Name,
                    $"{k.DisplayName ?? k.Name} (klass {k.Name}{(k.Status is null or "enabled" ? "" : ", " + k.Status)})"))
                .ToList();
        });
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IReadOnlyList<FieldItem> FieldsCore(string? destinationName, string objectName)
    {
        var target = KustomerObject.Parse(objectName);
        var standard = StandardFields.For(target).Select(f => new FieldItem(f.Path, false, f.Type.ToString(), f.DisplayName)).ToList();
        if (DestinationRegistry.Current.Find(destinationName) is not { } found) return standard;
        var (destination, client) = found;
        var custom = CompletionHelpers.Cached(CacheKey(destination, "metadata/" + target.MetadataResource), () =>
        {
            using var timeout = new CancellationTokenSource(CompletionHelpers.RequestBudget);
            var schema = SchemaCatalog.LoadAsync(client, target, timeout.Token).GetAwaiter().GetResult();
            return schema.Fields.Where(f => f.IsCustom)
                .OrderBy(f => f.Path, StringComparer.Ordinal)
                .Select(f => new CompletionItem(f.Path, $"{f.DisplayName ?? f.Name} ({f.Type} custom attribute)"))
                .ToList();
        });
        return standard.Concat(custom.Select(c => new FieldItem(c.Value, true, null, c.Tooltip))).ToList();
    }

    private static string CacheKey(KustomerDestination destination, string resource) =>
        $"{destination.Name}|{destination.BaseUri}|{destination.ConnectedAt.Ticks}|{resource}";
}

/// <summary>A writable field of an object: a standard one (name, externalId) or a custom attribute (custom.tierStr).</summary>
internal sealed record FieldItem(string Path, bool IsCustom, string? Type, string? Description)
{
    /// <summary>The custom attribute's system name (tierStr), or the standard field's name.</summary>
    public string Name => IsCustom ? Path.Substring("custom.".Length) : Path;

    public string Tooltip => IsCustom ? Description ?? Path : $"{Path} ({Type}{(Description is null ? "" : ", " + Description)})";
}
