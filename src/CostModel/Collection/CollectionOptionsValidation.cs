using CostModel.DependencyInjection;
using CostModel.Factors;
using Microsoft.Extensions.Options;

namespace CostModel.Collection;

/// <summary>Source-generated validation of <see cref="CollectionOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class CollectionOptionsValidator : IValidateOptions<CollectionOptions>;

/// <summary>Checks what the attributes cannot: time spans in range, interface names.</summary>
internal sealed class CollectionOptionsRangeValidator : IValidateOptions<CollectionOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        OptionsChecks.Range(failures, "CostModel:Collection:SampleInterval", options.SampleInterval, CollectionDefaults.MinSampleInterval, CollectionDefaults.MaxSampleInterval);
        OptionsChecks.Range(failures, "CostModel:Collection:BatteryTrendWindow", options.BatteryTrendWindow, CollectionDefaults.MinBatteryTrendWindow, CollectionDefaults.MaxBatteryTrendWindow);
        OptionsChecks.Range(failures, "CostModel:Collection:LoadTrendWindow", options.LoadTrendWindow, CollectionDefaults.MinLoadTrendWindow, CollectionDefaults.MaxLoadTrendWindow);
        if (options.MeteredInterfaces is null)
        {
            failures.Add("CostModel:Collection:MeteredInterfaces must not be null.");
        }
        else
        {
            foreach (string key in options.MeteredInterfaces.Keys)
            {
                if (string.IsNullOrWhiteSpace(key) || key.Length > NetworkFactors.MaxInterfaceNameLength)
                {
                    failures.Add($"CostModel:Collection:MeteredInterfaces has an invalid interface name '{key}'.");
                }
            }
        }

        return OptionsChecks.Result(failures);
    }
}
