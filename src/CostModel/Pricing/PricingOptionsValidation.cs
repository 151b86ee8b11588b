using CostModel.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Pricing;

/// <summary>Source-generated validation of <see cref="PricingOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class PricingOptionsValidator : IValidateOptions<PricingOptions>;

/// <summary>Checks what the attributes cannot: time spans in range, file paths.</summary>
internal sealed class PricingOptionsRangeValidator : IValidateOptions<PricingOptions>
{
    public ValidateOptionsResult Validate(string? name, PricingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Files is null)
        {
            return ValidateOptionsResult.Fail("CostModel:Pricing:Files must not be null.");
        }

        var failures = new List<string>();
        OptionsChecks.Range(failures, "CostModel:Pricing:MaxTableAge", options.MaxTableAge, TimeSpan.FromDays(1), TimeSpan.FromDays(3650));
        OptionsChecks.Range(failures, "CostModel:Pricing:RefreshInterval", options.RefreshInterval, TimeSpan.FromMinutes(1), TimeSpan.FromDays(365));
        foreach (string file in options.Files)
        {
            if (string.IsNullOrWhiteSpace(file))
            {
                failures.Add("CostModel:Pricing:Files has an empty path.");
            }
        }

        return OptionsChecks.Result(failures);
    }
}
