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

    /// <summary>The model as the target serves it.</summary>
    public required ServedModel Model { get; init; }

    /// <summary>The node's latest factors; null for an API endpoint.</summary>
    public NodeCostFactors? Factors { get; init; }

    /// <summary>Relay hops to the serving node (0 when the target serves the model itself).</summary>
    public int RelayHops { get; init; }

    /// <summary>Requests this router has placed on the target and not yet seen in its factors.</summary>
    public int PlacedRequests { get; init; }

    /// <summary>Price per million input tokens in dollars, for a paid endpoint; null for a local node.</summary>
    public double? InputDollarsPerMillionTokens { get; init; }

    /// <summary>Price per million output tokens in dollars, for a paid endpoint; null for a local node.</summary>
    public double? OutputDollarsPerMillionTokens { get; init; }
}

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

    /// <summary>Metered traffic priced in dollars.</summary>
    public double NetworkDollars { get; init; }

    /// <summary>Tokens priced by a paid API, in dollars.</summary>
    public double ApiDollars { get; init; }

    /// <summary>The request's priced preference for larger or less quantised models, in dollars (0 when none).</summary>
    public double QualityDollars { get; init; }

    /// <summary>Dollars per second of latency used for this request.</summary>
    public double ValueOfTimeDollarsPerSecond { get; init; }

    /// <summary>Which assumptions stood in for unknown or stale factors.</summary>
    public CostAssumptions Assumptions { get; init; }

    /// <summary>Total expected latency, in seconds.</summary>
    public double LatencySeconds => NetworkLatencySeconds + ComputeLatencySeconds;

    /// <summary>The total in dollars: latency times value of time plus every money term.</summary>
    public double TotalDollars => (LatencySeconds * ValueOfTimeDollarsPerSecond) + EnergyDollars + NetworkDollars + ApiDollars + QualityDollars;
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
}
