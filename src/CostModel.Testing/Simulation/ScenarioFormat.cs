using System.Text.Json.Serialization;
using CostModel.Scoring;

namespace CostModel.Testing.Simulation;

/// <summary>
/// How a node's gossip travels, apart from how its requests travel: a slow or lossy gossip path
/// makes the mesh's picture of the node stale while the node itself serves requests normally.
/// </summary>
public sealed class SimulatedGossip
{
    /// <summary>
    /// One-way delay of every gossip message to or from this node, milliseconds; null for the
    /// scenario's <see cref="Scenario.GossipDelayMilliseconds"/>. A message between two nodes takes
    /// the larger of their delays. At most 600,000 (ten minutes).
    /// </summary>
    public double? DelayMilliseconds { get; set; }

    /// <summary>Chance, 0 to 1, that a gossip message to or from this node is lost (default 0); two lossy ends both apply.</summary>
    public double LossShare { get; set; }
}

/// <summary>One standard deviation of the noise each simulated probe adds to the truth.</summary>
public sealed class SimulatedNoise
{
    /// <summary>CPU (and GPU) utilisation, 0 to 1 (default 0.03: a one-second utilisation sample wobbles by a few points).</summary>
    public double CpuUtilization { get; set; } = SimulationDefaults.CpuNoise;

    /// <summary>Battery charge, percent points (default 0.1: a battery gauge reads to about a tenth of a percent).</summary>
    public double BatteryPercent { get; set; } = SimulationDefaults.BatteryNoisePercent;

    /// <summary>Throttle ratio, 0 to 1 (default 0.02: a frequency-based throttle ratio to a couple of points).</summary>
    public double ThrottleRatio { get; set; } = SimulationDefaults.ThrottleNoise;
}

/// <summary>A node that runs inference on a GPU: its load is reported as the GPU's utilisation (the scorer prefers it to the CPU's).</summary>
public sealed class SimulatedGpu
{
    /// <summary>GPU load of other work, 0 to 1 (default 0); it takes its share of the GPU.</summary>
    public double BaseLoad { get; set; }
}

/// <summary>How an API endpoint's price reaches the routers' price catalog.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<ApiPriceStatus>))]
public enum ApiPriceStatus
{
    /// <summary>The catalog's table lists the true price, dated the scenario's start.</summary>
    Known = 0,

    /// <summary>
    /// The catalog's table is out of date: it lists <see cref="SimulatedApi.ListedInputDollarsPerMillionTokens"/>
    /// and <see cref="SimulatedApi.ListedOutputDollarsPerMillionTokens"/> and is dated
    /// <see cref="SimulationDefaults.StalePriceTableAgeDays"/> days before the start (the library logs it as stale);
    /// the endpoint charges its true price.
    /// </summary>
    Stale = 1,

    /// <summary>No table lists it: the library excludes the endpoint, unless the scenario's <c>costModel.pricing.unknownPriceFallback</c> states a price.</summary>
    Unknown = 2,
}

/// <summary>
/// One class of requests in the workload's mix: the model it asks for and the constraints it
/// carries (the <c>costmodel</c> policy sets them on its <see cref="RequestProfile"/>; every
/// baseline sends only to targets serving the model and meeting the hard constraints it can see).
/// </summary>
public sealed class RequestClass
{
    /// <summary>The model the requests ask for (required).</summary>
    public string Model { get; set; } = "";

    /// <summary>Relative weight of this class in the mix (default 1); a request picks a class in proportion.</summary>
    public double Share { get; set; } = 1;

    /// <summary>Smallest acceptable model size, billions of parameters; null for none.</summary>
    public double? MinParameterBillions { get; set; }

    /// <summary>Smallest acceptable bits per weight; null for none.</summary>
    public double? MinQuantizationBits { get; set; }

    /// <summary>The most one request may cost, dollars; null for the mesh's setting.</summary>
    public double? MaxDollarsPerRequest { get; set; }

    /// <summary>True to refuse targets whose link is metered.</summary>
    public bool ExcludeMetered { get; set; }

    /// <summary>The urgency of every request of the class; null to draw it by the workload's shares.</summary>
    [JsonConverter(typeof(CamelCaseEnumConverter<Urgency>))]
    public Urgency? Urgency { get; set; }

    /// <summary>Share of the class's requests that continue a conversation (carry an affinity key); null for the workload's.</summary>
    public double? ConversationShare { get; set; }
}
