using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using System.Management.Automation.Language;
using KustomerSync.Engine.Runs.Definitions;

namespace KustomerSync.Cmdlets.Definitions;

/// <summary>
/// Reads a .psd1 sync definition as data, the way Import-PowerShellDataFile does: parsed, never run. Constants,
/// hashtables and arrays are taken as values; scriptblocks are kept as text (DefinitionExpression) for the Mapping;
/// anything else (variables, commands, expandable strings) is a problem naming its setting.
/// </summary>
internal static class DefinitionFile
{
    public static SyncDefinition Load(string path, IDefinitionHost host)
    {
        var problems = new List<DefinitionProblem>();
        if (!File.Exists(path))
            throw new DefinitionException(path, new[] { new DefinitionProblem("", $"The file '{path}' does not exist.") });
        var ast = Parser.ParseFile(path, out _, out var errors);
        if (errors.Length > 0)
            throw new DefinitionException(path, errors.Select(e => new DefinitionProblem("", $"line {e.Extent.StartLineNumber}: {e.Message}")).ToList());
        var statements = ast.EndBlock?.Statements;
        if (ast.ParamBlock is not null || ast.BeginBlock is not null || ast.ProcessBlock is not null || statements is null || statements.Count != 1 ||
            statements[0] is not PipelineAst pipeline || pipeline.GetPureExpression() is not HashtableAst table)
            throw new DefinitionException(path, new[] { new DefinitionProblem("", "A sync definition holds one hashtable, @{ Name = '...'; Source = @{ ... }; ... }, and nothing else.") });

        var data = (IDictionary)Convert(table, "", problems)!;
        try
        {
            var definition = SyncDefinitionParser.Parse(data, path, host);
            if (problems.Count > 0) throw new DefinitionException(path, problems);
            return definition;
        }
        catch (DefinitionException ex) when (problems.Count > 0)
        {
            // A value that could not be read was left out; drop the follow-on "missing" or type reports for the same setting.
            var merged = problems.Concat(ex.Problems.Where(p => !problems.Any(c => c.Setting.Equals(p.Setting, StringComparison.OrdinalIgnoreCase)))).ToList();
            throw new DefinitionException(path, merged);
        }
    }

    private static readonly object Unreadable = new();

    private static object? Convert(Ast ast, string setting, List<DefinitionProblem> problems)
    {
        switch (ast)
        {
            case HashtableAst hashtable:
            {
                var result = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
                foreach (var pair in hashtable.KeyValuePairs)
                {
                    var key = pair.Item1 is ConstantExpressionAst constant ? constant.Value?.ToString() : null;
                    if (key is null)
                    {
                        problems.Add(new DefinitionProblem(setting, $"line {pair.Item1.Extent.StartLineNumber}: the key {pair.Item1.Extent.Text} is not a constant name."));
                        continue;
                    }
                    var child = setting.Length == 0 ? key : setting + "." + key;
                    var valueAst = pair.Item2 is PipelineAst p && p.GetPureExpression() is { } expression ? (Ast)expression : pair.Item2;
                    var value = Convert(valueAst, child, problems);
                    if (!ReferenceEquals(value, Unreadable)) result[key] = value;
                }
                return result;
            }
            case ScriptBlockExpressionAst script:
            {
                var text = script.ScriptBlock.Extent.Text.Trim();
                if (text.StartsWith("{", StringComparison.Ordinal) && text.EndsWith("}", StringComparison.Ordinal)) text = text.Substring(1, text.Length - 2);
                return new DefinitionExpression(text, script.Extent.StartLineNumber);
            }
            case ArrayLiteralAst array:
                return array.Elements.Select(e => Convert(e, setting, problems)).Where(v => !ReferenceEquals(v, Unreadable)).ToArray();
            case ArrayExpressionAst arrayExpression:
            {
                var items = new List<object?>();
                foreach (var statement in arrayExpression.SubExpression.Statements)
                {
                    if (statement is PipelineAst p && p.GetPureExpression() is { } expression)
                    {
                        var value = Convert(expression, setting, problems);
                        if (value is object?[] inner) items.AddRange(inner);
                        else if (!ReferenceEquals(value, Unreadable)) items.Add(value);
                    }
                    else problems.Add(new DefinitionProblem(setting, $"line {statement.Extent.StartLineNumber}: '{statement.Extent.Text}' is not a constant value."));
                }
                return items.ToArray();
            }
            case ParenExpressionAst paren when paren.Pipeline is PipelineAst inner && inner.GetPureExpression() is { } innerExpression:
                return Convert(innerExpression, setting, problems);
            case ExpandableStringExpressionAst expandable:
                if (expandable.NestedExpressions.Count == 1 && expandable.NestedExpressions[0] is VariableExpressionAst variable &&
                    expandable.Value.Trim() == variable.Extent.Text)
                    return expandable.Value.Trim();
                if (expandable.NestedExpressions.Count == 0) return expandable.Value;
                problems.Add(new DefinitionProblem(setting, $"line {expandable.Extent.StartLineNumber}: {expandable.Extent.Text} would expand variables or expressions, which a definition never does. Use single quotes."));
                return Unreadable;
            default:
                try
                {
                    var value = ast.SafeGetValue();
                    return value is PSObject ps ? ps.BaseObject : value;
                }
                catch (InvalidOperationException)
                {
                    var hint = ast.Extent.Text.StartsWith("$env:", StringComparison.OrdinalIgnoreCase)
                        ? " To take a secret from an environment variable, name the variable in a setting such as Source.ConnectionStringEnvironmentVariable or Destination.ApiKeyEnvironmentVariable."
                        : "";
                    problems.Add(new DefinitionProblem(setting, $"line {ast.Extent.StartLineNumber}: '{ast.Extent.Text}' is not a constant value. A definition is data and is never run: write strings, numbers, $true/$false, hashtables (only Mapping values may be scriptblocks).{hint}"));
                    return Unreadable;
                }
        }
    }
}
