using System.Reflection;
using System.Reflection.Emit;

namespace KustomerSync.Architecture.Tests;

/// <summary>
/// The types a type uses: its base type and interfaces, the types of its fields, properties, events and method
/// signatures, generic arguments and constraints, and every type, method and field its method bodies name (read from
/// the IL). Compiler-made nested types (closures, async state machines) count as their outer type.
/// </summary>
internal static class TypeUses
{
    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic |
        BindingFlags.Instance | BindingFlags.Static;

    private static readonly OpCode[] OneByte = new OpCode[0x100];
    private static readonly OpCode[] TwoByte = new OpCode[0x100];

    static TypeUses()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            var value = (ushort)code.Value;
            if (value < 0x100) OneByte[value] = code;
            else if ((value & 0xff00) == 0xfe00) TwoByte[value & 0xff] = code;
        }
    }

    /// <summary>Each use as (the type used, where: "field X", "method M", "body of M").</summary>
    public static IEnumerable<(Type Used, string Where)> Of(Type type)
    {
        var uses = new List<(Type, string)>();
        void Add(Type? used, string where)
        {
            foreach (var t in Expand(used)) uses.Add((t, where));
        }

        Add(type.BaseType, "base type");
        foreach (var i in type.GetInterfaces()) Add(i, "interface");
        if (type.IsGenericTypeDefinition)
            foreach (var p in type.GetGenericArguments()) foreach (var c in p.GetGenericParameterConstraints()) Add(c, "constraint");
        foreach (var f in type.GetFields(Declared)) Add(f.FieldType, $"field {f.Name}");
        foreach (var p in type.GetProperties(Declared)) Add(p.PropertyType, $"property {p.Name}");
        foreach (var e in type.GetEvents(Declared)) Add(e.EventHandlerType, $"event {e.Name}");
        foreach (var m in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType, $"method {m.Name}");
            foreach (var p in m.GetParameters()) Add(p.ParameterType, $"method {m.Name}");
            foreach (var used in BodyUses(m)) Add(used, $"body of {m.Name}");
        }
        return uses;
    }

    /// <summary>A type with its element type, generic arguments and (for a nested type) declaring types.</summary>
    private static IEnumerable<Type> Expand(Type? type)
    {
        if (type is null || type.IsGenericParameter) yield break;
        if (type.HasElementType)
        {
            foreach (var t in Expand(type.GetElementType())) yield return t;
            yield break;
        }
        yield return type;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
            foreach (var a in type.GetGenericArguments()) foreach (var t in Expand(a)) yield return t;
    }

    private static IEnumerable<Type?> BodyUses(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        foreach (var local in method.GetMethodBody()!.LocalVariables) yield return local.LocalType;
        var at = 0;
        while (at < il.Length)
        {
            var code = il[at] == 0xfe ? TwoByte[il[++at]] : OneByte[il[at]];
            at++;
            switch (code.OperandType)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    var member = method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArgs, methodArgs);
                    switch (member)
                    {
                        case Type t:
                            yield return t;
                            break;
                        case FieldInfo f:
                            yield return f.DeclaringType;
                            yield return f.FieldType;
                            break;
                        case MethodBase m:
                            yield return m.DeclaringType;
                            if (m is MethodInfo mi)
                            {
                                yield return mi.ReturnType;
                                if (mi.IsGenericMethod) foreach (var a in mi.GetGenericArguments()) yield return a;
                            }
                            foreach (var p in m.GetParameters()) yield return p.ParameterType;
                            break;
                    }
                    at += 4;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    at += 8;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + 4 * BitConverter.ToInt32(il, at);
                    break;
                default:
                    at += 4;
                    break;
            }
        }
    }
}
