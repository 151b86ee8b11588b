using CostModel.Budgets;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Scoring;
using Microsoft.Extensions.Options;

namespace CostModel.Routing;

/// <summary>Prompt plus answer must fit the target's context, when the target states one. Hard.</summary>
internal sealed class ContextLengthFilter : IRouteFilter
{
    public string Name => RouteFilterNames.ContextLength;

    public bool NeedsCost => false;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Check(candidate.Model, request);

    /// <summary>The verdict (the router's fast path calls it directly).</summary>
    internal static RouteFilterResult Check(ServedModel model, RequestProfile request) =>
        model.ContextTokens is { } context && (long)request.InputTokens + request.OutputTokens > context
            ? RouteFilterResult.Hard("prompt and answer exceed the context length")
            : RouteFilterResult.Pass;
}

/// <summary>Dead nodes are out (hard); suspect nodes and stale snapshots are out (soft). API endpoints pass.</summary>
internal sealed class LivenessFilter : IRouteFilter
{
    private readonly IOptionsMonitor<CostModelOptions> _monitor;

    // Read once per change, not per candidate; first read lazily (the filter is built while the
    // options are being validated, when they cannot be read yet).
    private volatile RoutingOptions? _options;

    public LivenessFilter(IOptionsMonitor<CostModelOptions> options)
    {
        _monitor = options;
        options.OnChange(o => _options = o.Routing);
    }

    public string Name => RouteFilterNames.Liveness;

    public bool NeedsCost => false;

    /// <summary>The maximum snapshot age in force.</summary>
    internal TimeSpan MaxSnapshotAge => (_options ??= _monitor.CurrentValue.Routing).MaxSnapshotAge;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) =>
        Check(candidate.Node, now, MaxSnapshotAge);

    /// <summary>The verdict (the router's fast path calls it directly, reading the maximum age once per request).</summary>
    internal static RouteFilterResult Check(MeshNode? node, DateTimeOffset now, TimeSpan maxSnapshotAge)
    {
        if (node is null || node.IsLocal)
        {
            return RouteFilterResult.Pass;
        }

        if (node.Liveness == NodeLiveness.Dead)
        {
            return RouteFilterResult.Hard("node is dead");
        }

        if (node.Liveness == NodeLiveness.Suspect)
        {
            return RouteFilterResult.SoftReject("node is suspect (missed heartbeats)");
        }

        return now - node.Factors.CapturedAt > maxSnapshotAge
            ? RouteFilterResult.SoftReject("snapshot older than the maximum age")
            : RouteFilterResult.Pass;
    }
}

/// <summary>The scorer's exclusions. The battery reserve is soft; the request's own constraints are hard.</summary>
internal sealed class CostConstraintFilter : IRouteFilter
{
    public string Name => RouteFilterNames.CostConstraints;

    public bool NeedsCost => true;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Check(candidate.Cost.Exclusion);

    /// <summary>The verdict (the router's fast path calls it directly).</summary>
    internal static RouteFilterResult Check(CostExclusion exclusion) => exclusion switch
    {
        CostExclusion.None => RouteFilterResult.Pass,
        CostExclusion.BelowBatteryReserve => RouteFilterResult.SoftReject("battery at or below its reserve floor"),
        CostExclusion.UnknownPrice => RouteFilterResult.Hard("price unknown"),
        CostExclusion.OverBudget => RouteFilterResult.Hard("over the maximum price per request"),
        CostExclusion.Metered => RouteFilterResult.Hard("metered link excluded by the request"),
        CostExclusion.QualityFloor => RouteFilterResult.Hard("below the request's quality floor"),
        _ => RouteFilterResult.Hard("excluded by the scorer"),
    };
}

/// <summary>Paid targets must fit every spend cap. Hard.</summary>
internal sealed class SpendCapFilter(SpendTracker spend) : IRouteFilter
{
    public string Name => RouteFilterNames.SpendCaps;

    public bool NeedsCost => true;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Check(candidate.Cost);

    /// <summary>The verdict (the router's fast path calls it directly).</summary>
    internal RouteFilterResult Check(in CostBreakdown cost) =>
        cost.MoneyDollars > 0 && !spend.CanSpend(cost)
            ? RouteFilterResult.Hard("a spend cap would be exceeded")
            : RouteFilterResult.Pass;
}

/// <summary>Targets ejected for consecutive failures are out until their ejection ends. Soft.</summary>
internal sealed class EjectionFilter : IRouteFilter
{
    public string Name => RouteFilterNames.Ejection;

    public bool NeedsCost => false;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Check(candidate.Ejected);

    /// <summary>The verdict (the router's fast path calls it directly).</summary>
    internal static RouteFilterResult Check(bool ejected) =>
        ejected ? RouteFilterResult.SoftReject("ejected after consecutive failures") : RouteFilterResult.Pass;
}
