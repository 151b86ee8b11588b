namespace CostModel.Routing;

/// <summary>
/// The routing options as one decision uses them, worked out once per options change: the
/// configured filters split into those before and after scoring, the built-in filters' plan, and
/// the durations in timestamp ticks.
/// </summary>
internal sealed record RouterSettings(RoutingOptions Options, IRouteFilter[] PreScore, IRouteFilter[] PostScore, FilterPlan? Plan, long AffinityTtlTicks, long LeaseTimeoutTicks, double OutcomeDecayTicks, double FailureMemoryTicks, long SweepIntervalTicks, Slowdown Slowdown, double FailureCostSeconds)
{
    /// <summary>Builds the settings of <paramref name="options"/> from the registered filters, on a clock of <paramref name="timestampFrequency"/> ticks per second.</summary>
    public static RouterSettings Build(RoutingOptions options, IRouteFilter[] registered, double timestampFrequency)
    {
        var byName = registered.ToDictionary(f => f.Name, StringComparer.Ordinal);
        IRouteFilter[] chosen = [.. options.Filters.Where(byName.ContainsKey).Select(n => byName[n])];
        return new RouterSettings(
            options,
            [.. chosen.Where(f => !f.NeedsCost)],
            [.. chosen.Where(f => f.NeedsCost)],
            FilterPlan.For(chosen),
            (long)(options.AffinityTtl.TotalSeconds * timestampFrequency),
            (long)(options.LeaseTimeout.TotalSeconds * timestampFrequency),
            options.OutcomeDecay.TotalSeconds * timestampFrequency,
            options.FailureMemory.TotalSeconds * timestampFrequency,
            (long)(Math.Max(1, options.LeaseTimeout.TotalSeconds / 4) * timestampFrequency),
            Slowdown.From(options, timestampFrequency),
            options.FailureCost.TotalSeconds);
    }

    /// <summary>True when the <c>spend-caps</c> filter is configured: a placement the caps have no room for is refused (<see cref="Budgets.SpendReservation.EnforcedBy"/>), worked out once per options change.</summary>
    public bool EnforcesSpendCaps { get; } = Budgets.SpendReservation.EnforcedBy(PostScore);
}
