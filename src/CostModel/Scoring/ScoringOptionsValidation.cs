using CostModel.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Scoring;

/// <summary>Source-generated validation of <see cref="ScoringOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class ScoringOptionsValidator : IValidateOptions<ScoringOptions>;

/// <summary>Checks the time spans and per-node overrides the attributes cannot express without reflection.</summary>
internal sealed class ScoringOptionsRangeValidator : IValidateOptions<ScoringOptions>
{
    private static readonly TimeSpan MinAge = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    /// <summary>1 h: a look-ahead past a laptop's whole battery life would refuse every battery.</summary>
    private static readonly TimeSpan MaxReserveLookAhead = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, ScoringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        OptionsChecks.Range(failures, "CostModel:Scoring:PowerMaxAge", options.PowerMaxAge, MinAge, MaxAge);
        OptionsChecks.Range(failures, "CostModel:Scoring:ThermalMaxAge", options.ThermalMaxAge, MinAge, MaxAge);
        OptionsChecks.Range(failures, "CostModel:Scoring:ComputeMaxAge", options.ComputeMaxAge, MinAge, MaxAge);
        OptionsChecks.Range(failures, "CostModel:Scoring:GpuMaxAge", options.GpuMaxAge, MinAge, MaxAge);
        OptionsChecks.Range(failures, "CostModel:Scoring:NetworkMaxAge", options.NetworkMaxAge, MinAge, MaxAge);
        OptionsChecks.Range(failures, "CostModel:Scoring:BatteryReserveLookAhead", options.BatteryReserveLookAhead, TimeSpan.Zero, MaxReserveLookAhead);
        if (options.Nodes is null)
        {
            failures.Add("CostModel:Scoring:Nodes must not be null.");
        }
        else
        {
            foreach ((string node, NodeScoringOverride value) in options.Nodes)
            {
                if (value is null)
                {
                    failures.Add($"CostModel:Scoring:Nodes:{node} must not be empty.");
                }
                else if (value.ElectricityDollarsPerKilowattHour is { } price && (price < 0 || price > 100 || !double.IsFinite(price)))
                {
                    failures.Add($"CostModel:Scoring:Nodes:{node}:ElectricityDollarsPerKilowattHour must be between 0 and 100.");
                }
            }
        }

        return OptionsChecks.Result(failures);
    }
}
