using System.Globalization;
using System.Management.Automation;

namespace KustomerSync.Cmdlets.Binding;

/// <summary>
/// Refuses a fractional number for a whole-number parameter. PowerShell would round it (-MaxRequestsPerMinute 1.5 binds
/// as 2) without a word; a count or a limit the user did not give is worse than an error that names the value.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class WholeNumberAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        var fraction = value switch
        {
            double d => d % 1 != 0,
            float f => f % 1 != 0,
            decimal m => m % 1 != 0,
            string s => !long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _) &&
                        double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && parsed % 1 != 0,
            _ => false,
        };
        if (fraction) throw new ArgumentTransformationMetadataException($"The value must be a whole number, not {Convert.ToString(value, CultureInfo.InvariantCulture)}.");
        return inputData;
    }
}
