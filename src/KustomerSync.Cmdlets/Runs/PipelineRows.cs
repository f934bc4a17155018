using System.Collections;
using System.Data;
using System.Management.Automation;

namespace KustomerSync.Cmdlets.Runs;

/// <summary>The property names and values of any pipeline object: PSObjects, hashtables and DataRows.</summary>
internal static class PipelineRows
{
    public static (string[] Names, object?[] Values) Flatten(PSObject input)
    {
        switch (input.BaseObject)
        {
            case IDictionary dictionary:
            {
                var names = new string[dictionary.Count];
                var values = new object?[dictionary.Count];
                var i = 0;
                foreach (DictionaryEntry entry in dictionary)
                {
                    names[i] = entry.Key?.ToString() ?? "";
                    values[i++] = Unwrap(entry.Value);
                }
                return (names, values);
            }
            case DataRow row:
            {
                var columns = row.Table.Columns;
                var names = new string[columns.Count];
                var values = new object?[columns.Count];
                for (var i = 0; i < columns.Count; i++)
                {
                    names[i] = columns[i].ColumnName;
                    values[i] = Unwrap(row[i]);
                }
                return (names, values);
            }
            default:
            {
                var names = new List<string>();
                var values = new List<object?>();
                foreach (var property in input.Properties)
                {
                    if (!property.IsGettable) continue;
                    names.Add(property.Name);
                    values.Add(Unwrap(property.Value));
                }
                return (names.ToArray(), values.ToArray());
            }
        }
    }

    private static object? Unwrap(object? value) => value switch
    {
        null or DBNull => null,
        PSObject ps => ps.BaseObject is PSCustomObject ? ps : ps.BaseObject,
        _ => value,
    };
}
