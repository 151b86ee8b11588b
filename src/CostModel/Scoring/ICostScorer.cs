using CostModel.Factors;

namespace CostModel.Scoring;

/// <summary>Prices running a request on one candidate, in one currency (dollars).</summary>
/// <remarks>Implementations must be thread-safe and should not allocate: the router calls them for every candidate of every request.</remarks>
public interface ICostScorer
{
    /// <summary>Prices <paramref name="request"/> on <paramref name="candidate"/>.</summary>
    /// <param name="candidate">The target and what is known about it.</param>
    /// <param name="request">What the request needs.</param>
    /// <param name="now">The current time, for staleness of the candidate's factors.</param>
    /// <returns>The cost, term by term.</returns>
    CostBreakdown Score(in CostCandidate candidate, RequestProfile request, DateTimeOffset now);
}

/// <summary>One place a request could run: a mesh node (with its factors) or a paid API endpoint.</summary>
public readonly record struct CostCandidate
{
    /// <summary>The node id or endpoint id.</summary>
    public required string TargetId { get; init; }

    /// <summary>The model as the target serves it (parameters, quantisation, throughput priors).</summary>
    public required ServedModel Model { get; init; }

    /// <summary>The node's latest factors; null for an API endpoint.</summary>
    public NodeCostFactors? Factors { get; init; }

    /// <summary>True when the target is this node (no network between router and target).</summary>
    public bool IsLocal { get; init; }

    /// <summary>Relay hops to the serving node (0 when the target serves the model itself).</summary>
    public int RelayHops { get; init; }

    /// <summary>Requests this router has placed on the target and not yet seen in its factors.</summary>
    public int PlacedRequests { get; init; }

    /// <summary>Round-trip time observed to the target (an EWMA), seconds; null when never measured.</summary>
    public double? ObservedRttSeconds { get; init; }

    /// <summary>Decode speed observed on the target for this model (an EWMA), tokens per second; null when never measured.</summary>
    public double? ObservedDecodeTokensPerSecond { get; init; }

    /// <summary>The token price of a paid endpoint; null for a mesh node, and null for an endpoint whose price is unknown.</summary>
    public TokenPrice? Price { get; init; }

    /// <summary>
    /// The routing node's own latest factors (the local node of the router's view); null when the
    /// view has none. A request sent from it to any other target crosses its link: the built-in
    /// scorer charges the payload there when that link is metered (<see cref="CostBreakdown.RequesterLinkDollars"/>).
    /// </summary>
    public NodeCostFactors? RequesterFactors { get; init; }

    /// <summary>
    /// True when the target is the node that served the request's affinity key last, so its KV cache
    /// holds the request's <see cref="RequestProfile.CachedPromptTokens"/> and it prefills only the
    /// rest. The router sets it; the default scorer ignores it for API endpoints.
    /// </summary>
    public bool HoldsPromptCache { get; init; }
}

/// <summary>What a paid API charges.</summary>
/// <param name="InputDollarsPerMillionTokens">Dollars per million prompt tokens.</param>
/// <param name="OutputDollarsPerMillionTokens">Dollars per million generated tokens.</param>
public readonly record struct TokenPrice(double InputDollarsPerMillionTokens, double OutputDollarsPerMillionTokens);

/// <summary>
/// A cost in one currency: each term is a physical quantity times a price. Latency converts to
/// dollars through the request's value of time.
/// </summary>
public readonly record struct CostBreakdown
{
    /// <summary>Expected time on the network (round trips and transfer), in seconds.</summary>
    public double NetworkLatencySeconds { get; init; }

    /// <summary>Expected compute time (prefill and decode, inflated by load and throttling), in seconds.</summary>
    public double ComputeLatencySeconds { get; init; }

    /// <summary>Energy priced in dollars (electricity on mains, scarcity on battery).</summary>
    public double EnergyDollars { get; init; }

    /// <summary>Metered traffic priced in dollars: over the target's link and the routing node's own (<see cref="RequesterLinkDollars"/>).</summary>
    public double NetworkDollars { get; init; }

    /// <summary>Of <see cref="NetworkDollars"/>, the part paid on the routing node's own metered link for the payload sent to a remote target or an API and the reply received, dollars (0 for the routing node itself).</summary>
    public double RequesterLinkDollars { get; init; }

    /// <summary>Tokens priced by a paid API, in dollars.</summary>
    public double ApiDollars { get; init; }

    /// <summary>The request's priced preference for larger or less quantised models, in dollars (0 when none).</summary>
    public double QualityDollars { get; init; }

    /// <summary>Dollars per second of latency used for this request.</summary>
    public double ValueOfTimeDollarsPerSecond { get; init; }

    /// <summary>Which assumptions stood in for unknown or stale factors.</summary>
    public CostAssumptions Assumptions { get; init; }

    /// <summary>Why the candidate must not take this request at any price; <see cref="CostExclusion.None"/> when it may.</summary>
    public CostExclusion Exclusion { get; init; }

    /// <summary>
    /// Dollars one more request ahead in the target's queue adds to this total (its service time
    /// per slot at the value of time); 0 for a target without a queue (an API endpoint) or when the
    /// scorer does not say. The picker spreads a burst by it.
    /// </summary>
    internal double QueueStepDollars { get; init; }

    /// <summary>Money actually spent (energy, metered traffic, API), dollars: what budgets and price caps compare.</summary>
    public double MoneyDollars => Money(EnergyDollars, NetworkDollars, ApiDollars);

    /// <summary>Total expected latency, in seconds.</summary>
    public double LatencySeconds => Latency(NetworkLatencySeconds, ComputeLatencySeconds);

    /// <summary>The total in dollars: latency times value of time plus every money term.</summary>
    public double TotalDollars => Total(LatencySeconds, ValueOfTimeDollarsPerSecond, EnergyDollars, NetworkDollars, ApiDollars, QualityDollars);

    // The sums behind the properties, for the scorer to take them from its terms before they are
    // stored (the same operations in the same order, so the same bits).
    internal static double Money(double energyDollars, double networkDollars, double apiDollars) => energyDollars + networkDollars + apiDollars;

    internal static double Latency(double networkSeconds, double computeSeconds) => networkSeconds + computeSeconds;

    internal static double Total(double latencySeconds, double valueOfTimeDollarsPerSecond, double energyDollars, double networkDollars, double apiDollars, double qualityDollars) =>
        (latencySeconds * valueOfTimeDollarsPerSecond) + energyDollars + networkDollars + apiDollars + qualityDollars;
}

/// <summary>Why a candidate is refused rather than priced.</summary>
public enum CostExclusion
{
    /// <summary>Eligible.</summary>
    None = 0,

    /// <summary>The battery is at or below its reserve floor and the request is not urgent.</summary>
    BelowBatteryReserve = 1,

    /// <summary>A paid endpoint whose price is unknown (never priced by a made-up number).</summary>
    UnknownPrice = 2,

    /// <summary>The money terms exceed the request's (or the mesh's) maximum per request.</summary>
    OverBudget = 3,

    /// <summary>The request excludes metered links and this link is metered (or unknown, under the AssumeMetered policy).</summary>
    Metered = 4,

    /// <summary>The model is smaller or more quantised than the request's floor, or its size is unknown.</summary>
    QualityFloor = 5,
}

/// <summary>Reason codes: conservative defaults that stood in for a factor the scorer did not know.</summary>
[Flags]
public enum CostAssumptions
{
    /// <summary>Every factor used was known and fresh.</summary>
    None = 0,

    /// <summary>Bandwidth or round-trip time came from the pessimistic prior.</summary>
    BandwidthPrior = 1,

    /// <summary>Throughput came from the configured prior, not from observations.</summary>
    ThroughputPrior = 2,

    /// <summary>Thermal state unknown: no throttling assumed.</summary>
    ThermalUnknown = 4,

    /// <summary>Battery level unknown on a node with a battery: the reserve floor assumed.</summary>
    BatteryAtFloor = 8,

    /// <summary>Power source unknown: battery pricing assumed.</summary>
    PowerSourceUnknown = 16,

    /// <summary>Metered state unknown: the configured policy applied.</summary>
    MeteredUnknown = 32,

    /// <summary>Load unknown: the configured prior utilisation assumed.</summary>
    LoadUnknown = 64,

    /// <summary>The node reports no power figure: the active-watts prior assumed.</summary>
    PowerDrawPrior = 128,
}
