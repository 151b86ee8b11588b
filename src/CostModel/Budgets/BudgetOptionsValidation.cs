using CostModel.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Budgets;

/// <summary>Source-generated validation of <see cref="BudgetOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class BudgetOptionsValidator : IValidateOptions<BudgetOptions>;

/// <summary>Checks what the attributes cannot: every cap present, its window in range.</summary>
internal sealed class BudgetOptionsRangeValidator : IValidateOptions<BudgetOptions>
{
    public ValidateOptionsResult Validate(string? name, BudgetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SpendCaps is null)
        {
            return ValidateOptionsResult.Fail("CostModel:Budgets:SpendCaps must not be null.");
        }

        var failures = new List<string>();
        foreach (SpendCap cap in options.SpendCaps)
        {
            if (cap is null)
            {
                failures.Add("CostModel:Budgets:SpendCaps has an empty entry.");
                continue;
            }

            OptionsChecks.Range(failures, "CostModel:Budgets:SpendCaps:Window", cap.Window, TimeSpan.FromMinutes(1), TimeSpan.FromDays(366));
        }

        return OptionsChecks.Result(failures);
    }
}
