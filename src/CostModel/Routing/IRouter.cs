using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>Chooses where a request runs and explains why.</summary>
public interface IRouter
{
    /// <summary>Routes one request. Thread-safe; allocates nothing in steady state.</summary>
    /// <param name="request">What the request needs.</param>
    /// <param name="explanation">
    /// When given, filled with every candidate's cost terms, what was filtered and why, and the
    /// flags (reuse one instance to stay allocation-free); null to skip the detail.
    /// </param>
    /// <returns>The decision; complete or dispose its <see cref="RouteDecision.Lease"/> when the request ends.</returns>
    RouteDecision Route(RequestProfile request, RouteExplanation? explanation = null);

    /// <summary>
    /// Every decision, for observability. Subscribers are called one decision at a time, on a routing
    /// thread (not necessarily the one that made the decision); keep them quick: when 16,384 decisions
    /// wait for a slow subscriber, routing threads wait for it. A subscriber's exception is logged and
    /// counted (<c>costmodel.stream.subscriber_failures</c>), never thrown into <see cref="Route"/>.
    /// </summary>
    IObservable<RouteDecision> Decisions { get; }

    /// <summary>
    /// Leases taken and not yet completed, disposed or expired: the requests this router has in
    /// flight (also the gauge <c>costmodel.router.leases.active</c>).
    /// </summary>
    int ActiveLeases { get; }

    /// <summary>Requests this router has in flight on one target (0 for a target it does not know).</summary>
    /// <param name="targetId">A node or API endpoint id.</param>
    /// <returns>The count.</returns>
    int InFlight(string targetId);
}

/// <summary>The outcome of a routed request, reported through its lease.</summary>
/// <param name="Succeeded">True when the target served the request.</param>
/// <param name="LatencySeconds">Time from sending to the last token, in seconds.</param>
/// <param name="OutputTokens">Tokens generated.</param>
public readonly record struct RouteOutcome(bool Succeeded, double LatencySeconds, int OutputTokens);

/// <summary>What a decision did beyond picking the cheapest.</summary>
[Flags]
public enum RouteNotes
{
    /// <summary>Nothing special.</summary>
    None = 0,

    /// <summary>The affinity key's incumbent was kept although a challenger was cheaper (within the band).</summary>
    StickyKept = 1,

    /// <summary>The affinity key moved to a challenger that beat the incumbent by more than the band.</summary>
    Switched = 2,

    /// <summary>Stickiness broke: the incumbent died, was filtered or ejected, or its penalty passed the bound.</summary>
    StickinessBroken = 4,

    /// <summary>Soft filters left nothing, so every live candidate was considered (panic mode).</summary>
    Panic = 8,

    /// <summary>Several candidates were near-equal; the pick among them was randomised (power of two choices).</summary>
    RandomTieBreak = 16,

    /// <summary>No candidate could take the request; there is no target.</summary>
    NoRoute = 32,

    /// <summary>
    /// The router expected a herd of other routers' requests (a burst, docs/routing.md "Work other
    /// routers placed") and drew the target from the cheapest allocation of that herd; set with <see cref="RandomTieBreak"/>.
    /// </summary>
    HerdDraw = 64,
}

/// <summary>A routing decision: where and at what cost. A struct: routing allocates nothing.</summary>
public readonly record struct RouteDecision
{
    /// <summary>The chosen node or endpoint id; null when <see cref="RouteNotes.NoRoute"/>.</summary>
    public string? TargetId { get; init; }

    /// <summary>True when the target is a paid API endpoint.</summary>
    public bool IsApiEndpoint { get; init; }

    /// <summary>The chosen target's cost.</summary>
    public CostBreakdown Cost { get; init; }

    /// <summary>The placed work; complete it with the outcome (or dispose it).</summary>
    public RouteLease Lease { get; init; }

    /// <summary>What the decision did beyond picking the cheapest.</summary>
    public RouteNotes Flags { get; init; }

    /// <summary>Candidates that serve the model.</summary>
    public int CandidateCount { get; init; }

    /// <summary>Candidates filtered out.</summary>
    public int FilteredCount { get; init; }

    /// <summary>True when there is a target.</summary>
    public bool HasTarget => TargetId is not null;

    /// <summary>One line for logs: target, total, latency and flags.</summary>
    public override string ToString() => HasTarget
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"-> {TargetId} total {Cost.TotalDollars:0.######} $ (latency {Cost.LatencySeconds:0.###} s, energy {Cost.EnergyDollars:0.######} $, network {Cost.NetworkDollars:0.######} $, api {Cost.ApiDollars:0.######} $) of {CandidateCount} candidates, {FilteredCount} filtered; {Flags}")
        : $"no route: {CandidateCount} candidates, {FilteredCount} filtered; {Flags}";
}
