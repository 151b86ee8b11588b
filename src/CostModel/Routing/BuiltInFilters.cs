using System.Runtime.CompilerServices;
using CostModel.Budgets;
using CostModel.DependencyInjection;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Scoring;
using Microsoft.Extensions.Options;

namespace CostModel.Routing;

/// <summary>Prompt plus answer must fit the target's context, when the target states one. Hard.</summary>
/// <remarks>
/// Each built-in filter splits into the test (here <see cref="Exceeds"/>) and its verdict
/// (<see cref="Result"/>); <see cref="Evaluate"/> is the two together. The router's fast path calls
/// the test directly and maps it through the same verdicts.
/// </remarks>
internal sealed class ContextLengthFilter : IRouteFilter
{
    public string Name => RouteFilterNames.ContextLength;

    public bool NeedsCost => false;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Result(Exceeds(candidate.Model.ContextTokens, Tokens(request)));

    /// <summary>The tokens a request needs in context: prompt plus answer.</summary>
    internal static long Tokens(RequestProfile request) => (long)request.InputTokens + request.OutputTokens;

    /// <summary>True when <paramref name="tokens"/> (from <see cref="Tokens"/>) do not fit a context of <paramref name="contextTokens"/> (unknown: they fit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Exceeds(int? contextTokens, long tokens) => ExceedsLimit(Limit(contextTokens), tokens);

    /// <summary>The most tokens a context of <paramref name="contextTokens"/> holds; <see cref="long.MaxValue"/> when unknown (everything fits).</summary>
    internal static long Limit(int? contextTokens) => contextTokens ?? long.MaxValue;

    /// <summary>The test on a limit from <see cref="Limit"/> (what the router's fast path keeps per candidate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool ExceedsLimit(long limit, long tokens) => tokens > limit;

    internal static RouteFilterResult Result(bool exceeds) =>
        exceeds ? RouteFilterResult.Hard("prompt and answer exceed the context length") : RouteFilterResult.Pass;
}

/// <summary>Dead nodes are out (hard); suspect nodes and stale snapshots are out (soft). API endpoints pass.</summary>
internal sealed class LivenessFilter : IRouteFilter, IDisposable
{
    // Read once per change, not per candidate (the filter is built while the options are being validated).
    private readonly LiveOptions<RoutingOptions> _options;

    public LivenessFilter(IOptionsMonitor<RoutingOptions> options) => _options = new LiveOptions<RoutingOptions>(options);

    public string Name => RouteFilterNames.Liveness;

    public bool NeedsCost => false;

    /// <summary>The maximum snapshot age in force.</summary>
    internal TimeSpan MaxSnapshotAge => _options.Current.MaxSnapshotAge;

    public void Dispose() => _options.Dispose();

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) =>
        candidate.Node is { } node
            ? Result(Classify(Standing(node.IsLocal, node.Liveness), node.Factors.CapturedAt.UtcTicks, now.UtcTicks, MaxSnapshotAge.Ticks))
            : RouteFilterResult.Pass;

    /// <summary>
    /// What the filter finds on a mesh node before its snapshot's age is considered: <see cref="Dead"/>,
    /// <see cref="Suspect"/>, <see cref="Alive"/> (a remote node whose snapshot may turn stale) or
    /// <see cref="Local"/> (the local node always passes). It depends on the node alone, so the router's
    /// fast path keeps it per snapshot.
    /// </summary>
    internal static int Standing(bool isLocal, NodeLiveness liveness) =>
        isLocal ? Local
        : liveness == NodeLiveness.Dead ? Dead
        : liveness == NodeLiveness.Suspect ? Suspect
        : Alive;

    /// <summary>
    /// What the filter finds on a mesh node (<see cref="Alive"/>, <see cref="Dead"/>, <see cref="Suspect"/>,
    /// <see cref="Stale"/>; <see cref="Local"/> passes like <see cref="Alive"/>) from its <see cref="Standing"/>: a
    /// remote node found alive turns stale once its snapshot, measured from its capture time, is older than the maximum age.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Classify(int standing, long capturedAtUtcTicks, long nowUtcTicks, long maxSnapshotAgeTicks) =>
        standing == Alive && nowUtcTicks - capturedAtUtcTicks > maxSnapshotAgeTicks ? Stale : standing;

    /// <summary>
    /// The last instant at which <see cref="Classify"/> does not find the node <see cref="Stale"/>:
    /// <c>Classify</c> finds it stale exactly when the clock is past this (<see cref="long.MaxValue"/>
    /// for a node whose age does not matter, or whose snapshot stays fresh past the end of time).
    /// The router's fast path keeps it per view, so that only the comparison is left per decision.
    /// </summary>
    internal static long StaleAfter(int standing, long capturedAtUtcTicks, long maxSnapshotAgeTicks) =>
        standing != Alive || maxSnapshotAgeTicks > long.MaxValue - capturedAtUtcTicks ? long.MaxValue : capturedAtUtcTicks + maxSnapshotAgeTicks;

    internal static RouteFilterResult Result(int finding) => finding switch
    {
        Dead => RouteFilterResult.Hard("node is dead"),
        Suspect => RouteFilterResult.SoftReject("node is suspect (missed heartbeats)"),
        Stale => RouteFilterResult.SoftReject("snapshot older than the maximum age"),
        _ => RouteFilterResult.Pass,
    };

    internal const int Alive = 0;
    internal const int Dead = 1;
    internal const int Suspect = 2;
    internal const int Stale = 3;
    internal const int Local = 4;
}

/// <summary>The scorer's exclusions. The battery reserve is soft; the request's own constraints are hard.</summary>
internal sealed class CostConstraintFilter : IRouteFilter
{
    public string Name => RouteFilterNames.CostConstraints;

    public bool NeedsCost => true;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Result(candidate.Cost.Exclusion);

    /// <summary>The verdict on an exclusion (the router's fast path asks it once for every value).</summary>
    internal static RouteFilterResult Result(CostExclusion exclusion) => exclusion switch
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

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Result(Exceeds(candidate.Cost));

    /// <summary>False when no spend cap is configured: then nothing exceeds one.</summary>
    internal bool Active => spend.HasCaps;

    /// <summary>True when paying <paramref name="cost"/> would overrun a cap.</summary>
    internal bool Exceeds(in CostBreakdown cost) => cost.MoneyDollars > 0 && !spend.CanSpend(cost);

    internal static RouteFilterResult Result(bool exceeds) =>
        exceeds ? RouteFilterResult.Hard("a spend cap would be exceeded") : RouteFilterResult.Pass;
}

/// <summary>Targets ejected for consecutive failures are out until their ejection ends. Soft.</summary>
internal sealed class EjectionFilter : IRouteFilter
{
    public string Name => RouteFilterNames.Ejection;

    public bool NeedsCost => false;

    public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => Result(candidate.Ejected);

    internal static RouteFilterResult Result(bool ejected) =>
        ejected ? RouteFilterResult.SoftReject("ejected after consecutive failures") : RouteFilterResult.Pass;
}
