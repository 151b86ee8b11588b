using Microsoft.Extensions.Options;

namespace CostModel.DependencyInjection;

/// <summary>Range checks the options validators share: time spans and nulls the attributes cannot express without reflection.</summary>
internal static class OptionsChecks
{
    /// <summary>Adds a failure naming the configuration key when <paramref name="value"/> is outside [min, max].</summary>
    public static void Range(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} is {value}; it must be between {min} and {max}.");
        }
    }

    /// <summary>Success, or every failure at once.</summary>
    public static ValidateOptionsResult Result(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
