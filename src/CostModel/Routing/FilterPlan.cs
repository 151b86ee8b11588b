using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// The configured built-in filters as the pricing applies them: each filter's verdict for every
/// outcome of its test, asked once from the filter itself (<see cref="Verdict.Eligible"/> for a
/// filter not configured), so the loop over candidates calls the tests directly instead of the
/// filters through their interface. Verdicts combine as "worst wins", so the configured order
/// cannot change the outcome (it changes only which filter an explanation names first).
/// </summary>
internal sealed class FilterPlan
{
    private readonly byte[] _exclusion;

    private FilterPlan(IRouteFilter[] filters)
    {
        bool context = filters.OfType<ContextLengthFilter>().Any();
        Liveness = filters.OfType<LivenessFilter>().FirstOrDefault();
        bool constraints = filters.OfType<CostConstraintFilter>().Any();
        SpendCaps = filters.OfType<SpendCapFilter>().FirstOrDefault();
        bool ejection = filters.OfType<EjectionFilter>().Any();

        ContextExceeded = context ? Verdict.Of(ContextLengthFilter.Result(true)) : Verdict.Eligible;
        LivenessVerdicts = new byte[LivenessFilter.Local + 1];
        foreach (int finding in (int[])[LivenessFilter.Alive, LivenessFilter.Dead, LivenessFilter.Suspect, LivenessFilter.Stale, LivenessFilter.Local])
        {
            LivenessVerdicts[finding] = Liveness is null ? Verdict.Eligible : Verdict.Of(LivenessFilter.Result(finding));
        }

        Ejected = ejection ? Verdict.Of(EjectionFilter.Result(true)) : Verdict.Eligible;
        OverSpendCap = SpendCaps is null ? Verdict.Eligible : Verdict.Of(SpendCapFilter.Result(true));
        CostExclusion[] values = Enum.GetValues<CostExclusion>();
        _exclusion = new byte[(int)values.Max() + 1];
        foreach (CostExclusion value in values)
        {
            _exclusion[(int)value] = constraints ? Verdict.Of(CostConstraintFilter.Result(value)) : Verdict.Eligible;
        }

        ExclusionUnknown = constraints ? Verdict.Of(CostConstraintFilter.Result((CostExclusion)_exclusion.Length)) : Verdict.Eligible;
    }

    /// <summary>The context-length filter's verdict on a request that does not fit.</summary>
    public byte ContextExceeded { get; }

    /// <summary>The liveness filter's verdict by finding (indexed by <see cref="LivenessFilter.Classify"/>).</summary>
    public byte[] LivenessVerdicts { get; }

    /// <summary>The liveness filter, for its maximum snapshot age; null when not configured.</summary>
    public LivenessFilter? Liveness { get; }

    /// <summary>The ejection filter's verdict on an ejected target.</summary>
    public byte Ejected { get; }

    /// <summary>The spend-cap filter; null when not configured.</summary>
    public SpendCapFilter? SpendCaps { get; }

    /// <summary>The spend-cap filter's verdict on a target that would overrun a cap.</summary>
    public byte OverSpendCap { get; }

    private byte ExclusionUnknown { get; }

    /// <summary>The plan of <paramref name="filters"/>; null when any of them is not built in (then every decision takes the full path).</summary>
    public static FilterPlan? For(IRouteFilter[] filters) =>
        filters.All(f => f is ContextLengthFilter or LivenessFilter or CostConstraintFilter or SpendCapFilter or EjectionFilter)
            ? new FilterPlan(filters)
            : null;

    /// <summary>The cost-constraint filter's verdict on a scorer's exclusion.</summary>
    public byte Exclusion(CostExclusion exclusion) =>
        (uint)exclusion < (uint)_exclusion.Length ? _exclusion[(int)exclusion] : ExclusionUnknown;
}
