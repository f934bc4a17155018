using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Runtime.CompilerServices;
using KustomerSync.Engine.Sync;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Cmdlets.Completion;

/// <summary>
/// Completes -Object: Customer, Company, and kobject.&lt;klass&gt; for every klass of the connected org (the destination
/// named by -Destination, or the default one). Typing part of a klass name (ord) finds kobject.order too.
/// </summary>
public sealed class ObjectCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var items = new List<CompletionItem>
            {
                new("Customer", "Customer: Kustomer customers"),
                new("Company", "Company: Kustomer companies"),
            };
            items.AddRange(OrgCatalog.Klasses(CompletionHelpers.BoundText(fakeBoundParameters, "Destination")));
            var word = CompletionHelpers.Unquote(wordToComplete);
            return CompletionHelpers.Complete(items, wordToComplete,
                item => word.Length > 0 && item.Value.StartsWith("kobject.", StringComparison.Ordinal) &&
                        item.Value.Substring("kobject.".Length).StartsWith(word, StringComparison.OrdinalIgnoreCase)).ToList();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}

/// <summary>
/// Completes -SyncKey for the -Object already typed: ExternalId; Email for customers; and for customers and companies
/// the custom attributes of the org (their system names, such as accountIdStr). KObjects are matched by ExternalId only.
/// </summary>
public sealed class SyncKeyCompleter : IArgumentCompleter
{
    // Not inlined: engine types load only once the engine's load context is set up (see OrgCatalog).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool CanBeKey(string systemName) =>
        !CustomAttributeTypes.TryFromSuffix(systemName, out var type) || type is not (FieldType.Bool or FieldType.DateTime or FieldType.Url);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var objectName = CompletionHelpers.BoundText(fakeBoundParameters, "Object")?.Trim() ?? "";
            var isKObject = objectName.StartsWith("kobject.", StringComparison.OrdinalIgnoreCase);
            var isCompany = objectName.Equals("Company", StringComparison.OrdinalIgnoreCase) || objectName.Equals("Companies", StringComparison.OrdinalIgnoreCase);
            var items = new List<CompletionItem> { new("ExternalId", "ExternalId: the record's externalId field") };
            if (!isKObject && !isCompany) items.Add(new CompletionItem("Email", "Email: the customer's default email (customers only)"));
            if (!isKObject && objectName.Length > 0)
            {
                var fields = OrgCatalog.Fields(CompletionHelpers.BoundText(fakeBoundParameters, "Destination"), objectName);
                // A yes/no, a date or a URL cannot tell records apart: only attributes that can hold a key are offered.
                items.AddRange(fields.Where(f => f.IsCustom && CanBeKey(f.Name)).Select(f => new CompletionItem(f.Name, f.Tooltip)));
            }
            var word = CompletionHelpers.Unquote(wordToComplete);
            // custom.tierStr is accepted as well as tierStr: match the typed prefix either way.
            return CompletionHelpers.Complete(items, wordToComplete,
                item => word.StartsWith("custom.", StringComparison.OrdinalIgnoreCase) &&
                        item.Value.StartsWith(word.Substring("custom.".Length), StringComparison.OrdinalIgnoreCase)).ToList();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}

/// <summary>
/// Completes -Mapping with a hashtable started on one field of the -Object: @{ 'custom.tierStr' = '' }, for every
/// standard field and custom attribute of the org. (PowerShell does not call argument completers for the keys inside a
/// hashtable literal, so the field is offered as the start of the hashtable instead.)
/// </summary>
public sealed class MappingCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var objectName = CompletionHelpers.BoundText(fakeBoundParameters, "Object")?.Trim();
            if (string.IsNullOrEmpty(objectName)) objectName = "Customer";
            var fields = OrgCatalog.Fields(CompletionHelpers.BoundText(fakeBoundParameters, "Destination"), objectName!);
            var word = CompletionHelpers.Unquote(wordToComplete).TrimStart('@', '{', ' ', '\'', '"');
            return fields
                .OrderBy(f => f.IsCustom ? 0 : 1)
                .Where(f => f.Path.StartsWith(word, StringComparison.OrdinalIgnoreCase) || f.Name.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .Select(f => new CompletionResult($"@{{ '{f.Path}' = '' }}", f.Path, CompletionResultType.ParameterValue, f.Tooltip))
                .ToList();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}

/// <summary>Completes destination names (-Destination, and -Name of Get- and Disconnect-KustomerDestination) from this session.</summary>
public sealed class DestinationNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            return CompletionHelpers.Complete(OrgCatalog.Destinations(), wordToComplete).ToList();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
