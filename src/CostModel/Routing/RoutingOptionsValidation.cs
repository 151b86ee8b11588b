using CostModel.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Routing;

/// <summary>Source-generated validation of <see cref="RoutingOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class RoutingOptionsValidator : IValidateOptions<RoutingOptions>;

/// <summary>Checks what the attributes cannot: time spans in range, lists present, endpoint ids unique.</summary>
internal sealed class RoutingOptionsRangeValidator : IValidateOptions<RoutingOptions>
{
    /// <summary>1 hour: the most a failed request may be priced at (<see cref="RoutingOptions.FailureCost"/>); a longer wait than any lease (10 minutes by default) is most likely a unit mistake.</summary>
    private static readonly TimeSpan MaxFailureCost = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Filters is null || options.ApiEndpoints is null)
        {
            return ValidateOptionsResult.Fail("CostModel:Routing:Filters and CostModel:Routing:ApiEndpoints must not be null.");
        }

        var failures = new List<string>();
        OptionsChecks.Range(failures, "CostModel:Routing:AffinityTtl", options.AffinityTtl, TimeSpan.FromSeconds(1), TimeSpan.FromDays(30));
        OptionsChecks.Range(failures, "CostModel:Routing:LeaseTimeout", options.LeaseTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        OptionsChecks.Range(failures, "CostModel:Routing:OutcomeDecay", options.OutcomeDecay, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        OptionsChecks.Range(failures, "CostModel:Routing:FailureMemory", options.FailureMemory, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        OptionsChecks.Range(failures, "CostModel:Routing:FailureCost", options.FailureCost, TimeSpan.Zero, MaxFailureCost);
        OptionsChecks.Range(failures, "CostModel:Routing:SlowdownMemory", options.SlowdownMemory, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        OptionsChecks.Range(failures, "CostModel:Routing:EjectionBaseTime", options.EjectionBaseTime, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        OptionsChecks.Range(failures, "CostModel:Routing:MaxSnapshotAge", options.MaxSnapshotAge, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (ApiEndpoint endpoint in options.ApiEndpoints)
        {
            if (endpoint is not null && !ids.Add(endpoint.Id))
            {
                failures.Add($"CostModel:Routing:ApiEndpoints has the id '{endpoint.Id}' twice.");
            }
        }

        return OptionsChecks.Result(failures);
    }
}

/// <summary>Rejects filter names no registered <see cref="IRouteFilter"/> carries, at start rather than at the first request.</summary>
/// <remarks>
/// Filters are resolved when validation runs, not when the validator is built: filters may depend
/// on the options themselves, and constructor injection would make a dependency cycle.
/// </remarks>
internal sealed class RouteFilterNameValidator(IServiceProvider services) : IValidateOptions<RoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Filters is not { } configured)
        {
            return ValidateOptionsResult.Skip;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (IRouteFilter filter in (IEnumerable<IRouteFilter>?)services.GetService(typeof(IEnumerable<IRouteFilter>)) ?? [])
        {
            names.Add(filter.Name);
        }

        string[] unknown = [.. configured.Where(f => !names.Contains(f))];
        return unknown.Length == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"CostModel:Routing:Filters names unknown filters: {string.Join(", ", unknown)}; registered: {string.Join(", ", names.Order(StringComparer.Ordinal))}.");
    }
}
