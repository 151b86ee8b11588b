using System.ComponentModel.DataAnnotations;

namespace CostModel.Routing;

/// <summary>How the router filters, picks and learns. Bound from <c>CostModel:Routing</c>.</summary>
public sealed class RoutingOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from.</summary>
    public const string SectionName = "Routing";

    /// <summary>
    /// The filters, by name, in order (<see cref="RouteFilterNames"/>; a host can register more).
    /// An unknown name fails validation at start. Default: every built-in filter.
    /// </summary>
    public List<string> Filters { get; set; } = [.. RouteFilterNames.All];

    /// <summary>Relative band a challenger must beat an affinity key's incumbent by (0.2: 20 % cheaper), from the design review.</summary>
    [Range(0, 10)]
    public double HysteresisBand { get; set; } = RoutingDefaults.HysteresisBand;

    /// <summary>Absolute margin, dollars, added to the band so near-zero costs do not flap.</summary>
    [Range(0, 1_000)]
    public double HysteresisEpsilonDollars { get; set; } = RoutingDefaults.HysteresisEpsilonDollars;

    /// <summary>Stickiness breaks when the incumbent's extra cost exceeds this many seconds of the request's value of time.</summary>
    [Range(0, 3_600)]
    public double AffinityBreakPenaltySeconds { get; set; } = RoutingDefaults.AffinityBreakPenaltySeconds;

    /// <summary>An affinity entry unused this long is forgotten.</summary>
    public TimeSpan AffinityTtl { get; set; } = RoutingDefaults.AffinityTtl;

    /// <summary>The most affinity keys remembered.</summary>
    [Range(1, 10_000_000)]
    public int MaxAffinityKeys { get; set; } = RoutingDefaults.MaxAffinityKeys;

    /// <summary>Candidates within this share of the cheapest count as near-equals and are chosen among at random.</summary>
    [Range(0, 1)]
    public double SpreadTolerance { get; set; } = RoutingDefaults.SpreadTolerance;

    /// <summary>A lease neither completed nor disposed within this time expires and releases its count.</summary>
    public TimeSpan LeaseTimeout { get; set; } = RoutingDefaults.LeaseTimeout;

    /// <summary>Decay time of the latency and throughput averages learned from outcomes.</summary>
    public TimeSpan OutcomeDecay { get; set; } = RoutingDefaults.OutcomeDecay;

    /// <summary>
    /// How long failures and successes are remembered for a target's failure rate: both counts fade
    /// with this time constant, so a node that failed is priced up across the gaps between requests
    /// and forgiven once it has been quiet for a few of these.
    /// </summary>
    public TimeSpan FailureMemory { get; set; } = RoutingDefaults.FailureMemory;

    /// <summary>
    /// What a failed request costs the application beyond its retry, as time at the request's value
    /// of time. A target failing at the rate p is priced at its cost / (1 - p) (each failure retried
    /// at the same cost) plus p / (1 - p) times this. 0 (the default) prices a failure as its retry
    /// alone, right for an application that retries at once; an application that gives a failed
    /// request up, or waits before it retries, sets what that costs it (the simulator sets its request
    /// timeout, its requests not being retried). Without it an idle node that fails fast stays cheap
    /// enough to be tried again every minute or so.
    /// </summary>
    public TimeSpan FailureCost { get; set; } = RoutingDefaults.FailureCost;

    /// <summary>
    /// The weight (0 to 1) of one outcome in a target's slowdown, the average of how much slower than
    /// predicted its requests were: the higher, the fewer slow outcomes it takes to price a slowed node
    /// up (and the fewer normal ones to price it back). 0 turns slowdown detection off.
    /// </summary>
    [Range(0, 1)]
    public double SlowdownWeight { get; set; } = RoutingDefaults.SlowdownWeight;

    /// <summary>
    /// The part of a request's observed / predicted latency taken as prediction noise: a ratio up to
    /// 1 + this counts as on time; above it, the excess counts (a ratio of 4 with 1 counts as 3).
    /// </summary>
    [Range(0, 100)]
    public double SlowdownTolerance { get; set; } = RoutingDefaults.SlowdownTolerance;

    /// <summary>The largest observed / predicted latency ratio one outcome counts for (a request stuck behind a long queue must not price a node away for good).</summary>
    [Range(1, 1_000)]
    public double MaxSlowdownRatio { get; set; } = RoutingDefaults.MaxSlowdownRatio;

    /// <summary>
    /// How long a target's slowdown is remembered without new outcomes: its excess over 1 fades with
    /// this time constant, so a node priced away for being slow is tried again after a few of these.
    /// </summary>
    public TimeSpan SlowdownMemory { get; set; } = RoutingDefaults.SlowdownMemory;

    /// <summary>Consecutive failures that eject a node.</summary>
    [Range(1, 1_000)]
    public int EjectionConsecutiveFailures { get; set; } = RoutingDefaults.EjectionConsecutiveFailures;

    /// <summary>Base ejection time; the n-th ejection lasts n times this.</summary>
    public TimeSpan EjectionBaseTime { get; set; } = RoutingDefaults.EjectionBaseTime;

    /// <summary>The largest share (0 to 1) of candidates ejected at once; at least one may be, never the last.</summary>
    [Range(0, 1)]
    public double MaxEjectedShare { get; set; } = RoutingDefaults.MaxEjectedShare;

    /// <summary>Snapshots older than this (by local receive time) make a node stale: a soft filter.</summary>
    public TimeSpan MaxSnapshotAge { get; set; } = RoutingDefaults.MaxSnapshotAge;

    /// <summary>Paid API endpoints the router may use; priced by the pricing catalog.</summary>
    [Microsoft.Extensions.Options.ValidateEnumeratedItems]
    public List<ApiEndpoint> ApiEndpoints { get; set; } = [];
}

/// <summary>A paid API endpoint serving one model.</summary>
public sealed class ApiEndpoint
{
    /// <summary>The endpoint's id in decisions ("openai:gpt-4o").</summary>
    [Required]
    [StringLength(64, MinimumLength = 1)]
    public string Id { get; set; } = "";

    /// <summary>The model id requests name; also the price lookup key unless <see cref="PriceModel"/> is set.</summary>
    [Required]
    [StringLength(128, MinimumLength = 1)]
    public string Model { get; set; } = "";

    /// <summary>The name to look up in the price catalog when it differs from <see cref="Model"/>.</summary>
    public string? PriceModel { get; set; }

    /// <summary>Round trip to the API, seconds (a prior until observed).</summary>
    [Range(0, 60)]
    public double RttSeconds { get; set; } = RoutingDefaults.ApiRttSeconds;

    /// <summary>Decode speed, tokens per second (a prior until observed).</summary>
    [Range(0.01, 1_000_000)]
    public double DecodeTokensPerSecond { get; set; } = RoutingDefaults.ApiDecodeTokensPerSecond;

    /// <summary>Prefill speed, tokens per second.</summary>
    [Range(0.01, 100_000_000)]
    public double PrefillTokensPerSecond { get; set; } = RoutingDefaults.ApiPrefillTokensPerSecond;

    /// <summary>The longest context, tokens, when known.</summary>
    [Range(1, int.MaxValue)]
    public int? ContextTokens { get; set; }

    /// <summary>Parameters in billions, when published (for quality floors).</summary>
    public double? ParameterBillions { get; set; }

    /// <summary>Bits per weight as served, when published (16 for most hosted models).</summary>
    public double? QuantizationBits { get; set; }
}

/// <summary>The built-in filter names, in their default order.</summary>
public static class RouteFilterNames
{
    /// <summary>Context length: prompt plus answer must fit the target's context. Hard.</summary>
    public const string ContextLength = "context-length";

    /// <summary>Liveness: dead nodes are out (hard); suspect or stale ones are out (soft).</summary>
    public const string Liveness = "liveness";

    /// <summary>The scorer's exclusions: quality floor, unknown price, maximum price, metered when excluded (hard); battery reserve (soft).</summary>
    public const string CostConstraints = "cost-constraints";

    /// <summary>Spend caps of paid endpoints. Hard.</summary>
    public const string SpendCaps = "spend-caps";

    /// <summary>Outlier ejection. Soft.</summary>
    public const string Ejection = "ejection";

    /// <summary>Every built-in filter, in the default order.</summary>
    public static IReadOnlyList<string> All { get; } = [ContextLength, Liveness, CostConstraints, SpendCaps, Ejection];
}

/// <summary>Defaults of <see cref="RoutingOptions"/>, each with its source.</summary>
public static class RoutingDefaults
{
    /// <summary>0.2: switch only when a challenger is 20 % cheaper (the design review's figure).</summary>
    public static readonly double HysteresisBand = 0.2;

    /// <summary>0.0001 $: a hundredth of a cent, so two nearly free candidates do not flap on rounding.</summary>
    public static readonly double HysteresisEpsilonDollars = 0.0001;

    /// <summary>5 s: the Gateway API inference extension breaks prefix-cache stickiness when the penalty exceeds 5 s.</summary>
    public static readonly double AffinityBreakPenaltySeconds = 5;

    /// <summary>30 min: a conversation idle for half an hour has likely lost its KV cache anyway.</summary>
    public static readonly TimeSpan AffinityTtl = TimeSpan.FromMinutes(30);

    /// <summary>100,000 keys: about 10 MB of affinity state at most.</summary>
    public static readonly int MaxAffinityKeys = 100_000;

    /// <summary>0.05: candidates within 5 % of the cheapest are near-equals (cost estimates are not more precise than that).</summary>
    public static readonly double SpreadTolerance = 0.05;

    /// <summary>10 min: longer than any single generation; a lease older than that was lost.</summary>
    public static readonly TimeSpan LeaseTimeout = TimeSpan.FromMinutes(10);

    /// <summary>10 s: Finagle's and linkerd2's EWMA decay for observed latency.</summary>
    public static readonly TimeSpan OutcomeDecay = TimeSpan.FromSeconds(10);

    /// <summary>
    /// 60 s: a quiet mesh sends a router a request every ten seconds or so (6 per minute in the
    /// simulator's workloads), so one minute remembers about six outcomes; a 10 s memory forgot a
    /// fail-fast node between requests (simulator, crash-and-fail-fast; see docs/cost-model.md).
    /// </summary>
    public static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(60);

    /// <summary>0: a failure costs its retry alone (<see cref="RoutingOptions.FailureCost"/>), as for an application that retries at once; what else it costs is the application's to say.</summary>
    public static readonly TimeSpan FailureCost = TimeSpan.FromSeconds(0);

    /// <summary>
    /// 0.5: half per outcome, so three slow outcomes carry 7/8 of the weight: a node that slows 4x is
    /// priced at 2x after one outcome and 2.5x after two (with <see cref="SlowdownTolerance"/> 1),
    /// within the "few requests" Envoy's outlier detection takes for errors (5 consecutive), and one
    /// noisy outcome moves it only half way.
    /// </summary>
    public static readonly double SlowdownWeight = 0.5;

    /// <summary>
    /// 1: a request up to twice its predicted latency is on time. The queue ahead of a request is
    /// known only as of the node's last snapshot plus this router's own placements, so on a busy node
    /// the latency of a request scatters well above its prediction without the node being slow. In
    /// the simulator (seeds 1 to 3) a tolerance of 0.5 counted that scatter on api-budget's two slow,
    /// queueing nodes as slowdown (p95 +33 to +36 s on seeds 1 and 2); 1 costs nothing there and keeps
    /// the gain on a node slowed 4x (docs/routing.md, "Slowdown detection").
    /// </summary>
    public static readonly double SlowdownTolerance = 1;

    /// <summary>
    /// 4: one outcome counts for at most four times its prediction: a request that waited behind a
    /// burst would otherwise count for tens; 4 still prices a node slowed 4x (less the tolerance) at
    /// the 3x its outcomes show. 10 made api-budget's p95 worse by the same scatter as above.
    /// </summary>
    public static readonly double MaxSlowdownRatio = 4;

    /// <summary>
    /// 30 s: three times <see cref="OutcomeDecay"/>, the time the learned decode speed takes to follow
    /// a lasting change (after which predictions are right again and the slowdown returns to 1 by
    /// outcomes).
    /// </summary>
    public static readonly TimeSpan SlowdownMemory = TimeSpan.FromSeconds(30);

    /// <summary>5 consecutive failures: Envoy's outlier detection default.</summary>
    public static readonly int EjectionConsecutiveFailures = 5;

    /// <summary>30 s base ejection time: Envoy's default (multiplied by the times ejected).</summary>
    public static readonly TimeSpan EjectionBaseTime = TimeSpan.FromSeconds(30);

    /// <summary>0.1: Envoy ejects at most 10 % of hosts.</summary>
    public static readonly double MaxEjectedShare = 0.1;

    /// <summary>3 min: gRPC weighted round robin expires weights after 3 minutes without an update (gRFC A58).</summary>
    public static readonly TimeSpan MaxSnapshotAge = TimeSpan.FromMinutes(3);

    /// <summary>0.3 s: a hosted API's time to first byte from a home connection (priors until observed).</summary>
    public static readonly double ApiRttSeconds = 0.3;

    /// <summary>80 tokens/s: hosted frontier models decode at 50 to 150 tokens/s.</summary>
    public static readonly double ApiDecodeTokensPerSecond = 80;

    /// <summary>5,000 tokens/s: hosted prefill is an order of magnitude faster than local.</summary>
    public static readonly double ApiPrefillTokensPerSecond = 5_000;

    /// <summary>The most leases in flight at once; more are still routed but not counted (and counted as a bound exceeded).</summary>
    public static readonly int MaxLeases = 65_536;
}
