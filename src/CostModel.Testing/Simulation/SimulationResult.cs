using System.Text.Json;
using System.Text.Json.Serialization;

namespace CostModel.Testing.Simulation;

/// <summary>What one run of one policy on one scenario measured: the metrics and the time series behind them.</summary>
public sealed record SimulationResult
{
    /// <summary>The scenario's name.</summary>
    public required string Scenario { get; init; }

    /// <summary>The policy id (<see cref="RoutingPolicies.Ids"/>).</summary>
    public required string Policy { get; init; }

    /// <summary>The seed.</summary>
    public required int Seed { get; init; }

    /// <summary>The metrics.</summary>
    public required SimulationMetrics Metrics { get; init; }

    /// <summary>Every request, in arrival order.</summary>
    public required IReadOnlyList<RequestRecord> Requests { get; init; }

    /// <summary>Battery charge of each battery node, sampled every <see cref="MeshSimulator.SampleIntervalSeconds"/>.</summary>
    public required IReadOnlyList<BatterySample> Battery { get; init; }

    /// <summary>Decisions per target in buckets of <see cref="MeshSimulator.DecisionBucketSeconds"/>.</summary>
    public required IReadOnlyList<DecisionBucket> Decisions { get; init; }

    /// <summary>The result as JSON (camelCase; field names carry their units).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, SimulationJsonContext.Default.SimulationResult);
}

/// <summary>The metrics of one run. Latencies are of completed requests, from arrival at the router to the last byte back.</summary>
public sealed record SimulationMetrics
{
    /// <summary>Median latency, seconds (0 when nothing completed).</summary>
    public double P50LatencySeconds { get; init; }

    /// <summary>95th percentile latency, seconds.</summary>
    public double P95LatencySeconds { get; init; }

    /// <summary>99th percentile latency, seconds.</summary>
    public double P99LatencySeconds { get; init; }

    /// <summary>Mean latency, seconds.</summary>
    public double MeanLatencySeconds { get; init; }

    /// <summary>Requests that arrived.</summary>
    public int Requests { get; init; }

    /// <summary>Requests that completed.</summary>
    public int CompletedRequests { get; init; }

    /// <summary>Requests that failed: no route, timed out on a crashed node, refused by a fail-fast node, or unfinished at the end.</summary>
    public int FailedRequests { get; init; }

    /// <summary>Energy drawn from batteries by every node (idle draw included), watt-hours.</summary>
    public double BatteryWattHoursDrained { get; init; }

    /// <summary>Non-interactive requests started on a node on battery at or below its reserve floor while another target qualified.</summary>
    public int BatteryFloorViolations { get; init; }

    /// <summary>The first of the <see cref="BatteryFloorViolations"/> as the truth and the router saw it; null without any.</summary>
    public FloorViolation? FirstFloorViolation { get; init; }

    /// <summary>Money paid to API endpoints, dollars.</summary>
    public double ApiDollars { get; init; }

    /// <summary>The most one router paid to API endpoints, dollars (each router enforces its own daily cap).</summary>
    public double MaxRouterApiDollars { get; init; }

    /// <summary>Bytes moved over metered links, gigabytes (10^9 bytes).</summary>
    public double MeteredGigabytes { get; init; }

    /// <summary>
    /// Requests of a conversation sent elsewhere than the node whose KV cache held the conversation's
    /// history (the node that served its last successful turn) while that node still qualified. A
    /// turn after one answered by an API, or after the history outgrew the cache, moves nothing.
    /// </summary>
    public int RouteFlaps { get; init; }

    /// <summary>
    /// The route flaps the truth justified: at the decision the holder was not the cheapest target by
    /// the simulator's truth (the oracle policy, asked at that instant with the same state, would have
    /// left it too). The rest moved a conversation off the truly cheapest node.
    /// </summary>
    public int JustifiedRouteFlaps { get; init; }

    /// <summary>Requests that carried an affinity key after the first of their conversation (the flaps' denominator).</summary>
    public int AffinityFollowUps { get; init; }

    /// <summary>The largest share of a burst one mesh node received, as a multiple of the fair share (burst requests on mesh nodes / live mesh nodes); null without bursts.</summary>
    public double? MaxBurstShare { get; init; }

    /// <summary>Seconds from an unplug until the unplugged node's share of non-interactive work fell below half its share before; null when it never did (or there was no unplug).</summary>
    public double? UnplugReactionSeconds { get; init; }

    /// <summary>Requests sent to paid API endpoints.</summary>
    public int ApiRequests { get; init; }

    /// <summary>
    /// Every request's latency priced at its value of time, dollars: seconds to the last byte back
    /// times the scenario's value of time for its urgency; a failed request is charged at least the
    /// scenario's request timeout (its sender waited, and must send it again).
    /// </summary>
    public double LatencyDollars { get; init; }

    /// <summary>Electricity of the work on mains (energy above idle) at the scenario's electricity price, dollars.</summary>
    public double EnergyDollars { get; init; }

    /// <summary>Battery energy spent on the work (above idle) at the scenario's battery wear price, dollars.</summary>
    public double BatteryDollars { get; init; }

    /// <summary>Metered traffic at the scenario's price per gigabyte, dollars.</summary>
    public double MeteredDollars { get; init; }

    /// <summary>The one-currency total: latency + energy + battery + metered + API dollars.</summary>
    public double TotalDollars { get; init; }

    /// <summary>For <c>costmodel</c>: the share of its decisions that carried each assumption; null for the other policies.</summary>
    public AssumptionShares? Assumptions { get; init; }

    /// <summary>For <c>costmodel</c>: how its predicted latencies compare with the outcomes; null for the other policies (they predict nothing).</summary>
    public LatencyPredictions? Predictions { get; init; }

    /// <summary>
    /// For <c>costmodel</c>: its decisions against the truth's cheapest target at the instant of each, and why
    /// they differed; null for the other policies, and for meshes beyond <see cref="DecisionsAgainstTruth.MaxTargets"/>.
    /// </summary>
    public DecisionsAgainstTruth? AgainstTruth { get; init; }

    /// <summary>
    /// How the mesh's gossip kept up over the run (warm-up included), summed over every node's
    /// adapter: whether the scenario's mesh is larger than its gossip's budget carries
    /// (docs/gossip-wire-format.md, "How large a mesh the budget carries").
    /// </summary>
    public GossipSummary? Gossip { get; init; }
}

/// <summary>How the mesh's gossip kept up over a run (<see cref="SimulationMetrics.Gossip"/>), from every node's <see cref="CostModel.Gossip.GossipStatistics"/>.</summary>
public sealed record GossipSummary
{
    /// <summary>Records merged into the nodes' views: node states and the rarer capabilities (<see cref="CostModel.Gossip.GossipStatistics.Merged"/>).</summary>
    public long Merged { get; init; }

    /// <summary>Node states among them that were older than the heartbeat when merged (<see cref="CostModel.Gossip.GossipStatistics.MergedLate"/>).</summary>
    public long Late { get; init; }

    /// <summary><see cref="Late"/> / <see cref="Merged"/>, 0 to 1, to six places (0 when nothing was merged). A few in a hundred at most where the gossip keeps up.</summary>
    public double LateShare => Merged == 0 ? 0 : Math.Round((double)Late / Merged, 6);

    /// <summary>The heartbeat the ages were judged against (<see cref="CostModel.Gossip.GossipOptions.MaxSilence"/>), seconds.</summary>
    public double HeartbeatSeconds { get; init; }
}

/// <summary>
/// The library router's decisions against the truth at the instant of each (the report's "why" for a
/// goal missed): at every decision the simulator prices every target as the oracle does (the true
/// latency with every queue as it stands, the true energy and money, the battery floor) and compares
/// the router's pick with the truth's cheapest. A pick truly dearer than that is counted with what it
/// cost more at that instant, under one cause: sent to a target the truth says fails; one the truth
/// refuses (a request's constraint broken at the true price, counted even when not dearer); drawn at
/// random (the near-equals' two choices or a burst's herd draw); kept on a conversation's node; the
/// truth's cheapest set aside by one of the router's filters; or priced the cheapest by the router
/// (its picture of the mesh was not the truth: stale reports, other routers' work, sizes it could not
/// know). The sums are per decision: what one pick does to the requests after it (a queue it
/// lengthened) is not in them, and the oracle, itself greedy, may end dearer or cheaper than they suggest.
/// </summary>
public sealed record DecisionsAgainstTruth
{
    /// <summary>
    /// 128 targets: the most a mesh may have for its decisions to be compared. Each comparison prices
    /// every target by the truth (a walk of each queue); at 500 nodes and 3,000 burst requests that is
    /// millions of walks a run, so the scale scenarios go without it.
    /// </summary>
    public const int MaxTargets = 128;

    /// <summary>
    /// 1e-6 dollars: a pick dearer than the truth's cheapest by less is a tie (equal nodes priced by the
    /// truth differ by rounding).
    /// </summary>
    public const double TieDollars = 1e-6;

    /// <summary>Decisions compared (every one that found a target while the truth had one).</summary>
    public int Decisions { get; init; }

    /// <summary>Decisions that went to a target truly dearer than the truth's cheapest at that instant, or that the truth refuses (<see cref="Refused"/>).</summary>
    public int Elsewhere { get; init; }

    /// <summary>What those picks cost more than the truth's cheapest, summed at the instant of each, dollars.</summary>
    public double ExtraDollars { get; init; }

    /// <summary>Picks of a target the truth says fails now (down, refusing, unreachable): each charged the scenario's request timeout at its value of time.</summary>
    public DecisionCause Failing { get; init; }

    /// <summary>
    /// Picks the truth refuses although the target serves: a request's constraint broken at the true price
    /// (its maximum price at an API whose price the router held stale, its quality floor, its metered
    /// exclusion) or an API past the router's spend cap by the truth's count. Every such pick is counted,
    /// with what it cost more than the truth's cheapest (nothing when it cost less).
    /// </summary>
    public DecisionCause Refused { get; init; }

    /// <summary>Picks drawn at random: the near-equals' two choices or a burst's herd draw (<c>RouteNotes.RandomTieBreak</c>).</summary>
    public DecisionCause Drawn { get; init; }

    /// <summary>A conversation kept on the node holding its cache (<c>RouteNotes.StickyKept</c>).</summary>
    public DecisionCause Kept { get; init; }

    /// <summary>The truth's cheapest set aside at the router: by one of its filters (the battery reserve, liveness, a constraint) or not in its view.</summary>
    public DecisionCause SetAside { get; init; }

    /// <summary>The rest: the router priced its pick the cheapest, so its picture of the mesh was not the truth.</summary>
    public DecisionCause Priced { get; init; }

    /// <summary>The pick that cost the most more, null when none did.</summary>
    public DecisionAgainstTruth? Largest { get; init; }
}

/// <summary>The decisions of one cause that went elsewhere than the truth's cheapest, and what they cost more, dollars.</summary>
/// <param name="Decisions">How many.</param>
/// <param name="ExtraDollars">What they cost more than the truth's cheapest, summed, dollars.</param>
public readonly record struct DecisionCause(int Decisions, double ExtraDollars);

/// <summary>One decision against the truth (<see cref="DecisionsAgainstTruth.Largest"/>).</summary>
public sealed record DecisionAgainstTruth
{
    /// <summary>When, seconds after the start.</summary>
    public double TimeSeconds { get; init; }

    /// <summary>The router that decided.</summary>
    public required string Router { get; init; }

    /// <summary>The request's urgency: background, normal, interactive.</summary>
    public required string Urgency { get; init; }

    /// <summary>The cause (<c>failing</c>, <c>refused</c>, <c>drawn</c>, <c>kept</c>, <c>set-aside</c> or <c>priced</c>).</summary>
    public required string Cause { get; init; }

    /// <summary>Where the router sent it.</summary>
    public required string Target { get; init; }

    /// <summary>The truth's cheapest target then.</summary>
    public required string TruthTarget { get; init; }

    /// <summary>What the pick cost more than the truth's cheapest, dollars.</summary>
    public double ExtraDollars { get; init; }

    /// <summary>The latency the router predicted for its pick, seconds; null without one.</summary>
    public double? PredictedSeconds { get; init; }

    /// <summary>The pick's true latency then, seconds; null when the truth says it fails.</summary>
    public double? TrueSeconds { get; init; }

    /// <summary>The latency the router predicted for the truth's cheapest, seconds; null when it priced none (see <see cref="TruthFilteredBy"/>).</summary>
    public double? TruthPredictedSeconds { get; init; }

    /// <summary>The truth's cheapest target's true latency then, seconds.</summary>
    public double TruthTrueSeconds { get; init; }

    /// <summary>The filter that set the truth's cheapest aside at the router and its reason ("cost-constraints: price unknown"), or "not in the view"; null when the router priced it.</summary>
    public string? TruthFilteredBy { get; init; }
}

/// <summary>
/// The library router's latency predictions against the outcomes: for each completed request, the
/// latency its router predicted for the target it chose (the explanation's) over the latency it
/// took. A median near 1 says the router's picture of the mesh (speeds, queues, network) fits the
/// simulated one; the spread says how far one prediction can be off (queues fed by other routers,
/// sizes not yet seen).
/// </summary>
public sealed record LatencyPredictions
{
    /// <summary>Completed requests with a prediction (and a latency above zero).</summary>
    public int Requests { get; init; }

    /// <summary>The median of predicted / actual latency.</summary>
    public double Median { get; init; }

    /// <summary>The 10th percentile of predicted / actual latency (predictions this far under the outcome or further: the tenth most optimistic).</summary>
    public double P10 { get; init; }

    /// <summary>The 90th percentile of predicted / actual latency (the tenth most pessimistic).</summary>
    public double P90 { get; init; }
}

/// <summary>
/// A battery-floor violation as the truth and the router saw it (<see cref="SimulationMetrics.FirstFloorViolation"/>):
/// the node's true charge when the request was sent, and the router's reading of the node's charge and power
/// source with its age, which say why it sent the request there (a reading just above the floor, or one that
/// had not yet seen the unplug).
/// </summary>
public sealed record FloorViolation
{
    /// <summary>When, seconds after the start.</summary>
    public double TimeSeconds { get; init; }

    /// <summary>The router that sent the request.</summary>
    public required string Router { get; init; }

    /// <summary>The node on battery at or below its floor.</summary>
    public required string Node { get; init; }

    /// <summary>The request's urgency: background or normal.</summary>
    public required string Urgency { get; init; }

    /// <summary>The node's true charge then, percent.</summary>
    public double TruePercent { get; init; }

    /// <summary>The router's reading of the node's charge, percent; null when it had none (or no view of the node).</summary>
    public double? SeenPercent { get; init; }

    /// <summary>How old that reading was, seconds; null without one.</summary>
    public double? SeenAgeSeconds { get; init; }

    /// <summary>The router's reading of the node's power source (<c>Battery</c>, <c>Ac</c>, ...) or its quality when it had no value; null without a view of the node.</summary>
    public string? SeenSource { get; init; }
}

/// <summary>The share (0 to 1) of the library router's decisions that carried each assumption, read from its explanations: an assumption in the cost of any candidate it compared, or a reason it set one aside.</summary>
public sealed record AssumptionShares
{
    /// <summary>Decisions counted.</summary>
    public int Decisions { get; init; }

    /// <summary>Decisions in which a candidate was set aside because its gossip was stale: suspect (missed heartbeats) or its snapshot older than the maximum age.</summary>
    public double Stale { get; init; }

    /// <summary>Decisions comparing a candidate whose load was unknown or past its maximum age (the scorer assumed its utilisation prior).</summary>
    public double UnknownLoad { get; init; }

    /// <summary>Decisions comparing a candidate whose bandwidth or round trip came from the pessimistic prior.</summary>
    public double BandwidthPrior { get; init; }

    /// <summary>Decisions in which an API endpoint was excluded because its price is unknown.</summary>
    public double PriceUnknown { get; init; }

    /// <summary>Decisions comparing a candidate whose cost carried any other assumption (any of the six below).</summary>
    public double Other { get; init; }

    /// <summary>Decisions comparing a candidate whose throughput came from the configured prior (its model's speed neither advertised nor observed: <see cref="CostModel.Scoring.CostAssumptions.ThroughputPrior"/>).</summary>
    public double ThroughputPrior { get; init; }

    /// <summary>Decisions comparing a candidate whose thermal state was unknown or too old (no throttling assumed: <see cref="CostModel.Scoring.CostAssumptions.ThermalUnknown"/>).</summary>
    public double ThermalUnknown { get; init; }

    /// <summary>Decisions comparing a battery node whose charge was unknown (its reserve floor assumed: <see cref="CostModel.Scoring.CostAssumptions.BatteryAtFloor"/>).</summary>
    public double BatteryAtFloor { get; init; }

    /// <summary>Decisions comparing a candidate whose power source was unknown (battery pricing assumed: <see cref="CostModel.Scoring.CostAssumptions.PowerSourceUnknown"/>).</summary>
    public double PowerSourceUnknown { get; init; }

    /// <summary>Decisions comparing a candidate whose metered state was unknown (the configured policy applied: <see cref="CostModel.Scoring.CostAssumptions.MeteredUnknown"/>).</summary>
    public double MeteredUnknown { get; init; }

    /// <summary>
    /// Decisions comparing a node that reported no power figure (no GPU watts, not discharging a
    /// battery): the active-watts prior priced its energy (<see cref="CostModel.Scoring.CostAssumptions.PowerDrawPrior"/>).
    /// The simulated nodes report none on mains, as most desktops without a GPU power reading do.
    /// </summary>
    public double PowerDrawPrior { get; init; }
}

/// <summary>One request.</summary>
public sealed record RequestRecord
{
    /// <summary>When the workload drew it, seconds after the start (the same under every policy).</summary>
    public double ArrivalSeconds { get; init; }

    /// <summary>When it reached its router: its arrival, or later for a conversation's turn that waited for the previous answer.</summary>
    public double SentSeconds { get; init; }

    /// <summary>The router that received it.</summary>
    public required string Router { get; init; }

    /// <summary>Where it was sent; null when no target was found.</summary>
    public string? Target { get; init; }

    /// <summary>The conversation it belongs to (its affinity key); null outside one.</summary>
    public string? AffinityKey { get; init; }

    /// <summary>Urgency: background, normal, interactive.</summary>
    public required string Urgency { get; init; }

    /// <summary>The model it asked for.</summary>
    public string Model { get; init; } = "";

    /// <summary>The new turn's prompt tokens (the same under every policy).</summary>
    public int InputTokens { get; init; }

    /// <summary>Earlier turns of its conversation the prompt carried, tokens (the whole prompt is this plus <see cref="InputTokens"/>).</summary>
    public int HistoryTokens { get; init; }

    /// <summary>Generated tokens.</summary>
    public int OutputTokens { get; init; }

    /// <summary>True when it completed.</summary>
    public bool Succeeded { get; init; }

    /// <summary>Sent to the last byte back (or to the failure), seconds.</summary>
    public double LatencySeconds { get; init; }

    /// <summary>The burst it belongs to (its place in the scenario's <c>workload.bursts</c>, from 0); null for the steady workload.</summary>
    public int? Burst { get; init; }
}

/// <summary>A battery node's charge at a time.</summary>
/// <param name="TimeSeconds">Seconds after the start.</param>
/// <param name="Node">The node.</param>
/// <param name="BatteryPercent">Charge, percent.</param>
/// <param name="PluggedIn">True on mains.</param>
public sealed record BatterySample(double TimeSeconds, string Node, double BatteryPercent, bool PluggedIn);

/// <summary>Decisions for one target in one time bucket.</summary>
/// <param name="BucketStartSeconds">Start of the bucket, seconds after the start.</param>
/// <param name="Target">The node or API endpoint.</param>
/// <param name="Count">Requests sent there in the bucket.</param>
public sealed record DecisionBucket(double BucketStartSeconds, string Target, int Count);

/// <summary>Source-generated JSON for results (AOT-safe), camelCase.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SimulationResult))]
[JsonSerializable(typeof(SimulationMetrics))]
[JsonSerializable(typeof(AssumptionShares))]
internal sealed partial class SimulationJsonContext : JsonSerializerContext;
