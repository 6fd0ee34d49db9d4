using System.Globalization;
using System.Management.Automation;

namespace ExoBackup;

/// <summary>
/// Lets a TimeSpan parameter take a number of days: PowerShell would convert 7 to seven ticks.
/// A number (or a numeric string) is days; a TimeSpan, or a string such as 1.12:00:00, is taken as it is.
/// </summary>
public sealed class DaysAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        return value switch
        {
            int or long or short or byte or double or float or decimal => TimeSpan.FromDays(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var days) => TimeSpan.FromDays(days),
            string s when TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var span) => span,
            _ => value,
        };
    }
}
