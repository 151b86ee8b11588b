using System.ComponentModel.DataAnnotations;

namespace CostModel.Scoring;

/// <summary>
/// Prices and priors of the cost model, bound from <c>CostModel:Scoring</c>. Every property
/// starts at its <see cref="ScoringDefaults"/> value (the system default); what the operator
/// configures here is the mesh-wide setting; a request's own fields override both.
/// </summary>
public sealed class ScoringOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from.</summary>
    public const string SectionName = "Scoring";

    /// <summary>Value of time of background requests, dollars per second of latency.</summary>
    [Range(0, 1_000)]
    public double BackgroundValueOfTimeDollarsPerSecond { get; set; } = ScoringDefaults.BackgroundValueOfTimeDollarsPerSecond;

    /// <summary>Value of time of ordinary requests, dollars per second of latency.</summary>
    [Range(0, 1_000)]
    public double NormalValueOfTimeDollarsPerSecond { get; set; } = ScoringDefaults.NormalValueOfTimeDollarsPerSecond;

    /// <summary>Value of time of interactive requests, dollars per second of latency.</summary>
    [Range(0, 1_000)]
    public double InteractiveValueOfTimeDollarsPerSecond { get; set; } = ScoringDefaults.InteractiveValueOfTimeDollarsPerSecond;

    /// <summary>Electricity price on mains power, dollars per kWh.</summary>
    [Range(0, 100)]
    public double ElectricityDollarsPerKilowattHour { get; set; } = ScoringDefaults.ElectricityDollarsPerKilowattHour;

    /// <summary>Marginal power of running a request when the node reports none, watts.</summary>
    [Range(0.1, 100_000)]
    public double ActiveWattsPrior { get; set; } = ScoringDefaults.ActiveWattsPrior;

    /// <summary>Battery wear per kWh drawn from a battery, dollars.</summary>
    [Range(0, 1_000)]
    public double BatteryWearDollarsPerKilowattHour { get; set; } = ScoringDefaults.BatteryWearDollarsPerKilowattHour;

    /// <summary>Battery scarcity at 50 % charge, dollars per kWh; it grows as the charge nears the floor.</summary>
    [Range(0, 100_000)]
    public double BatteryScarcityDollarsPerKilowattHourAtHalf { get; set; } = ScoringDefaults.BatteryScarcityDollarsPerKilowattHourAtHalf;

    /// <summary>Reference time to reach the floor, hours: draining faster raises scarcity in proportion.</summary>
    [Range(0.1, 100)]
    public double ReferenceHoursToFloor { get; set; } = ScoringDefaults.ReferenceHoursToFloor;

    /// <summary>Share (0 to 1) of battery scarcity that remains while charging.</summary>
    [Range(0, 1)]
    public double ChargingScarcityShare { get; set; } = ScoringDefaults.ChargingScarcityShare;

    /// <summary>Battery reserve floor, percent: below it non-urgent work is refused.</summary>
    [Range(0, 99)]
    public double BatteryReserveFloorPercent { get; set; } = ScoringDefaults.BatteryReserveFloorPercent;

    /// <summary>
    /// How far ahead a draining battery is judged against <see cref="BatteryReserveFloorPercent"/>: its
    /// charge is taken where its measured trend puts it this long from now, so non-urgent work is not
    /// started on a battery that crosses the floor while it runs. Zero to one hour; 0 judges the reading as it is.
    /// </summary>
    public TimeSpan BatteryReserveLookAhead { get; set; } = ScoringDefaults.BatteryReserveLookAhead;

    /// <summary>
    /// Battery level, percent, at which a node whose energy saver is on (<c>PowerFactors.EnergySaver</c>)
    /// is priced at most: its battery scarcity is that of this charge when the real one is higher.
    /// </summary>
    [Range(0, 100)]
    public double EnergySaverBatteryPercent { get; set; } = ScoringDefaults.EnergySaverBatteryPercent;

    /// <summary>Cap of the battery energy price, dollars per kWh.</summary>
    [Range(0, 1_000_000)]
    public double MaxBatteryDollarsPerKilowattHour { get; set; } = ScoringDefaults.MaxBatteryDollarsPerKilowattHour;

    /// <summary>Price of traffic on a metered link, dollars per GB (10^9 bytes).</summary>
    [Range(0, 100_000)]
    public double MeteredDollarsPerGigabyte { get; set; } = ScoringDefaults.MeteredDollarsPerGigabyte;

    /// <summary>How a link of unknown metered state is priced. Default <see cref="UnknownMeteredPolicy.AssumeMetered"/> (conservative).</summary>
    public UnknownMeteredPolicy UnknownMetered { get; set; } = UnknownMeteredPolicy.AssumeMetered;

    /// <summary>Bandwidth prior for peers never measured, bits per second.</summary>
    [Range(1_000, 1e12)]
    public double BandwidthPriorBitsPerSecond { get; set; } = ScoringDefaults.BandwidthPriorBitsPerSecond;

    /// <summary>Round-trip prior for peers never measured, seconds.</summary>
    [Range(0, 60)]
    public double RttPriorSeconds { get; set; } = ScoringDefaults.RttPriorSeconds;

    /// <summary>Cap of utilisation in the queueing inflation 1/(1-rho).</summary>
    [Range(0.5, 0.999)]
    public double MaxUtilization { get; set; } = ScoringDefaults.MaxUtilization;

    /// <summary>Utilisation assumed when a node's load is unknown or stale.</summary>
    [Range(0, 1)]
    public double UnknownUtilizationPrior { get; set; } = ScoringDefaults.UnknownUtilizationPrior;

    /// <summary>Cap of the thermal throttle ratio used to stretch service time.</summary>
    [Range(0, 0.99)]
    public double MaxThrottleRatio { get; set; } = ScoringDefaults.MaxThrottleRatio;

    /// <summary>Decode speed assumed for a model with no advertised or observed rate, tokens per second.</summary>
    [Range(0.01, 1_000_000)]
    public double DecodeTokensPerSecondPrior { get; set; } = ScoringDefaults.DecodeTokensPerSecondPrior;

    /// <summary>Prefill speed assumed for a model with no advertised or observed rate, tokens per second.</summary>
    [Range(0.01, 10_000_000)]
    public double PrefillTokensPerSecondPrior { get; set; } = ScoringDefaults.PrefillTokensPerSecondPrior;

    /// <summary>Maximum age of power readings (past it they count as Unknown).</summary>
    public TimeSpan PowerMaxAge { get; set; } = ScoringDefaults.PowerMaxAge;

    /// <summary>Maximum age of thermal readings.</summary>
    public TimeSpan ThermalMaxAge { get; set; } = ScoringDefaults.ThermalMaxAge;

    /// <summary>Maximum age of CPU and memory readings.</summary>
    public TimeSpan ComputeMaxAge { get; set; } = ScoringDefaults.ComputeMaxAge;

    /// <summary>Maximum age of GPU readings.</summary>
    public TimeSpan GpuMaxAge { get; set; } = ScoringDefaults.GpuMaxAge;

    /// <summary>Maximum age of network readings.</summary>
    public TimeSpan NetworkMaxAge { get; set; } = ScoringDefaults.NetworkMaxAge;

    /// <summary>The mesh-wide hard maximum of money per request (energy + metered traffic + API), dollars; null for none. A request's own maximum wins.</summary>
    [Range(0, 1_000_000)]
    public double? MaxDollarsPerRequest { get; set; }

    /// <summary>Per-node operator overrides, keyed by node id; they win over what the node reports.</summary>
    public Dictionary<string, NodeScoringOverride> Nodes { get; set; } = new(StringComparer.Ordinal);

    internal double ValueOfTime(Urgency urgency) => urgency switch
    {
        Urgency.Background => BackgroundValueOfTimeDollarsPerSecond,
        Urgency.Interactive => InteractiveValueOfTimeDollarsPerSecond,
        _ => NormalValueOfTimeDollarsPerSecond,
    };
}

/// <summary>What the operator knows better than a node's own report.</summary>
public sealed class NodeScoringOverride
{
    /// <summary>The node's link is (true) or is not (false) metered; null leaves it to the node.</summary>
    public bool? Metered { get; set; }

    /// <summary>Per-interface metered overrides for this node, applied when that interface is its default.</summary>
    public Dictionary<string, bool> MeteredInterfaces { get; set; } = new(StringComparer.Ordinal);

    /// <summary>This node's electricity price, dollars per kWh (solar, a different tariff); null for the mesh price.</summary>
    [Range(0, 100)]
    public double? ElectricityDollarsPerKilowattHour { get; set; }
}

/// <summary>How to price a link whose metered state is unknown.</summary>
public enum UnknownMeteredPolicy
{
    /// <summary>Price it as metered (conservative: an unknown link never wins a large transfer by accident).</summary>
    AssumeMetered = 0,

    /// <summary>Price it as free (for meshes on wired LANs where nothing reports metering).</summary>
    AssumeNotMetered = 1,
}
