using CostModel.Factors;
using Microsoft.Extensions.Options;

namespace CostModel.Scoring;

/// <summary>
/// The default cost model: latency (network and queueing-inflated, throttle-stretched compute)
/// converted to dollars by the value of time, plus energy, metered traffic and API money. Every
/// factor past its maximum age counts as Unknown and is replaced by a documented conservative
/// assumption, flagged in <see cref="CostBreakdown.Assumptions"/>. Allocation-free and thread-safe.
/// See <c>docs/cost-model.md</c>.
/// </summary>
internal sealed class DefaultCostScorer : ICostScorer, IDisposable
{
    private const double JoulesPerKilowattHour = 3.6e6;
    private const double BytesPerGigabyte = 1e9;
    private const double BitsPerByte = 8;
    private const double TokensPerMillion = 1e6;
    private const double HalfChargePercent = 50;

    private readonly BandwidthEstimator _bandwidth;
    private readonly IDisposable? _subscription;

    // The options are read once per change, not per score (IOptionsMonitor.CurrentValue costs a
    // dictionary lookup, a fifth of the scoring budget).
    private volatile ScoringOptions _options;

    public DefaultCostScorer(IOptionsMonitor<CostModelOptions> options, BandwidthEstimator bandwidth)
    {
        _bandwidth = bandwidth;
        _options = options.CurrentValue.Scoring;
        _subscription = options.OnChange(o => _options = o.Scoring);
    }

    public void Dispose() => _subscription?.Dispose();

    /// <summary>The options in force (read once per change); prepared terms are valid only with this instance.</summary>
    internal ScoringOptions Options => _options;

    /// <summary>The bandwidth estimator the network term reads.</summary>
    internal BandwidthEstimator Bandwidth => _bandwidth;

    public CostBreakdown Score(in CostCandidate candidate, RequestProfile request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ScoringOptions o = _options;
        NodeTerms terms = candidate.Factors is { } f ? Prepare(candidate.TargetId, f, now, o) : default;
        (double bitsPerSecond, int samples) = candidate.IsLocal ? (0, 0) : _bandwidth.Estimate(candidate.TargetId);
        return Price(in candidate, in terms, bitsPerSecond, samples, request, o);
    }

    /// <summary>
    /// The request-independent terms of one node snapshot at <paramref name="now"/>: load, queue,
    /// throttling, power draw, energy price, metered state and the assumptions behind them, with the
    /// time span in which they hold (no reading they used turns stale before <see cref="NodeTerms.ValidUntilUtcTicks"/>).
    /// <see cref="Score"/> prepares them for every call; the router prepares them once per snapshot and keeps them until they expire.
    /// </summary>
    internal static NodeTerms Prepare(string targetId, NodeCostFactors f, DateTimeOffset now, ScoringOptions o)
    {
        var fresh = new Freshness(now);
        CostAssumptions assumptions = CostAssumptions.None;
        double utilisation = Utilisation(f, ref fresh, o, ref assumptions);
        int queued = fresh.Check(f.Pending.QueueDepth, o.ComputeMaxAge) ? f.Pending.QueueDepth.RawValue : 0;
        double throttle = 0;
        if (fresh.Check(f.Thermal.ThrottleRatio, o.ThermalMaxAge))
        {
            throttle = Math.Min(o.MaxThrottleRatio, f.Thermal.ThrottleRatio.RawValue);
        }
        else
        {
            assumptions |= CostAssumptions.ThermalUnknown;
        }

        double watts = Watts(f, ref fresh, o, ref assumptions);
        double dollarsPerKwh = EnergyPrice(targetId, f, ref fresh, o, ref assumptions, out bool belowReserve);
        bool metered = IsMetered(targetId, f, ref fresh, o, ref assumptions);
        return new NodeTerms(utilisation, queued, throttle, watts, dollarsPerKwh, metered, belowReserve, assumptions, now.UtcTicks, fresh.UntilUtcTicks);
    }

    /// <summary>
    /// Prices <paramref name="request"/> on a candidate whose node terms are prepared (default terms
    /// for an API endpoint): the request-dependent part of <see cref="Score"/>, shared with the router's fast path.
    /// </summary>
    internal static CostBreakdown Price(in CostCandidate candidate, in NodeTerms terms, double bitsPerSecond, int bandwidthSamples, RequestProfile request, ScoringOptions o)
    {
        double valueOfTime = request.ValueOfTimeDollarsPerSecond ?? o.ValueOfTime(request.Urgency);
        CostAssumptions assumptions = CostAssumptions.None;
        CostExclusion exclusion = QualityExclusion(candidate.Model, request);
        double qualityDollars = -((request.DollarsPerBillionParameters * (candidate.Model.ParameterBillions ?? 0))
            + (request.DollarsPerQuantizationBit * (candidate.Model.QuantizationBits ?? 0)));

        // Network: each hop pays a round trip and the transfer.
        double networkSeconds = 0;
        if (!candidate.IsLocal)
        {
            double rtt = candidate.ObservedRttSeconds ?? o.RttPriorSeconds;
            if (candidate.ObservedRttSeconds is null || bandwidthSamples == 0)
            {
                assumptions |= CostAssumptions.BandwidthPrior;
            }

            networkSeconds = (1 + candidate.RelayHops) * (rtt + (request.PayloadBytes * BitsPerByte / bitsPerSecond));
        }

        // Compute: prefill + decode at the observed or advertised speed.
        double decode = candidate.ObservedDecodeTokensPerSecond ?? candidate.Model.DecodeTokensPerSecond ?? 0;
        double prefill = candidate.Model.PrefillTokensPerSecond ?? 0;
        if (decode <= 0 || prefill <= 0)
        {
            assumptions |= CostAssumptions.ThroughputPrior;
            decode = decode > 0 ? decode : o.DecodeTokensPerSecondPrior;
            prefill = prefill > 0 ? prefill : o.PrefillTokensPerSecondPrior;
        }

        double serviceSeconds = (request.InputTokens / prefill) + (request.OutputTokens / decode);

        if (candidate.Factors is null)
        {
            // A paid endpoint: its latency is the network and its service time; its cost the tokens.
            if (candidate.Price is not { } price)
            {
                return Excluded(CostExclusion.UnknownPrice, valueOfTime, assumptions);
            }

            double api = ((request.InputTokens * price.InputDollarsPerMillionTokens) + (request.OutputTokens * price.OutputDollarsPerMillionTokens)) / TokensPerMillion;
            return Finish(new CostBreakdown
            {
                NetworkLatencySeconds = networkSeconds,
                ComputeLatencySeconds = serviceSeconds,
                ApiDollars = api,
                QualityDollars = qualityDollars,
                ValueOfTimeDollarsPerSecond = valueOfTime,
                Assumptions = assumptions,
                Exclusion = exclusion,
            }, request, o);
        }

        assumptions |= terms.Assumptions;

        // Queueing: rho = measured utilisation + queued and freshly placed work per slot.
        int slots = Math.Max(1, candidate.Model.ParallelSlots ?? 1);
        double rho = Math.Min(o.MaxUtilization, terms.Utilisation + ((double)(terms.Queued + candidate.PlacedRequests) / slots));
        double computeSeconds = serviceSeconds / (1 - rho) / (1 - terms.Throttle);

        // Energy: watts x time x the price of this node's energy right now. Non-urgent work is
        // refused below the battery reserve.
        double energyDollars = terms.Watts * computeSeconds / JoulesPerKilowattHour * terms.DollarsPerKwh;
        if (terms.BelowReserve && request.Urgency != Urgency.Interactive && exclusion == CostExclusion.None)
        {
            exclusion = CostExclusion.BelowBatteryReserve;
        }

        // Metered traffic: the request's bytes over the target's link.
        double networkDollars = 0;
        if (terms.Metered && !candidate.IsLocal)
        {
            networkDollars = request.PayloadBytes / BytesPerGigabyte * o.MeteredDollarsPerGigabyte;
        }

        if (terms.Metered && request.ExcludeMetered && exclusion == CostExclusion.None)
        {
            exclusion = CostExclusion.Metered;
        }

        return Finish(new CostBreakdown
        {
            NetworkLatencySeconds = networkSeconds,
            ComputeLatencySeconds = computeSeconds,
            EnergyDollars = energyDollars,
            NetworkDollars = networkDollars,
            QualityDollars = qualityDollars,
            ValueOfTimeDollarsPerSecond = valueOfTime,
            Assumptions = assumptions,
            Exclusion = exclusion,
        }, request, o);
    }

    private static CostBreakdown Finish(CostBreakdown cost, RequestProfile request, ScoringOptions o)
    {
        double? max = request.MaxDollarsPerRequest ?? o.MaxDollarsPerRequest;
        return cost.Exclusion == CostExclusion.None && max is { } cap && cost.MoneyDollars > cap
            ? cost with { Exclusion = CostExclusion.OverBudget }
            : cost;
    }

    private static CostBreakdown Excluded(CostExclusion why, double valueOfTime, CostAssumptions assumptions) =>
        new() { Exclusion = why, ValueOfTimeDollarsPerSecond = valueOfTime, Assumptions = assumptions };

    private static CostExclusion QualityExclusion(ServedModel model, RequestProfile request)
    {
        if (request.MinParameterBillions is { } minParameters && !(model.ParameterBillions >= minParameters))
        {
            return CostExclusion.QualityFloor;
        }

        if (request.MinQuantizationBits is { } minBits && !(model.QuantizationBits >= minBits))
        {
            return CostExclusion.QualityFloor;
        }

        return CostExclusion.None;
    }

    private static double Utilisation(NodeCostFactors f, ref Freshness fresh, ScoringOptions o, ref CostAssumptions assumptions)
    {
        // A node with GPUs runs inference there: the busiest fresh GPU is its load.
        double gpu = -1;
        foreach (GpuDevice device in f.Gpu.Devices)
        {
            if (fresh.Check(device.Utilization, o.GpuMaxAge))
            {
                gpu = Math.Max(gpu, device.Utilization.RawValue);
            }
        }

        if (gpu >= 0)
        {
            return gpu;
        }

        if (fresh.Check(f.Compute.CpuUtilization, o.ComputeMaxAge))
        {
            return f.Compute.CpuUtilization.RawValue;
        }

        assumptions |= CostAssumptions.LoadUnknown;
        return o.UnknownUtilizationPrior;
    }

    private static double Watts(NodeCostFactors f, ref Freshness fresh, ScoringOptions o, ref CostAssumptions assumptions)
    {
        double gpuWatts = 0;
        foreach (GpuDevice device in f.Gpu.Devices)
        {
            if (fresh.Check(device.PowerWatts, o.GpuMaxAge))
            {
                gpuWatts += device.PowerWatts.RawValue;
            }
        }

        if (gpuWatts > 0)
        {
            return gpuWatts;
        }

        // On battery, the discharge rate is the whole system's draw: an honest upper bound.
        PowerFactors p = f.Power;
        if (fresh.Check(p.ChargeState, o.PowerMaxAge) && p.ChargeState.RawValue == ChargeState.Discharging
            && fresh.Check(p.BatteryRateWatts, o.PowerMaxAge) && p.BatteryRateWatts.RawValue > 0)
        {
            return p.BatteryRateWatts.RawValue;
        }

        assumptions |= CostAssumptions.PowerDrawPrior;
        return o.ActiveWattsPrior;
    }

    /// <summary>
    /// The price of this node's energy, dollars per kWh. <paramref name="belowReserve"/>: the battery is
    /// known to be at or below its reserve floor and discharging (non-urgent work is then refused).
    /// </summary>
    private static double EnergyPrice(string nodeId, NodeCostFactors f, ref Freshness fresh, ScoringOptions o, ref CostAssumptions assumptions, out bool belowReserve)
    {
        belowReserve = false;
        double electricity = o.Nodes.Count > 0 && o.Nodes.TryGetValue(nodeId, out NodeScoringOverride? node) && node.ElectricityDollarsPerKilowattHour is { } local
            ? local
            : o.ElectricityDollarsPerKilowattHour;
        PowerFactors p = f.Power;
        bool sourceKnown = fresh.Check(p.Source, o.PowerMaxAge);

        // A machine with no battery can only be on mains: that is a fact, not a guess.
        if ((sourceKnown && p.Source.RawValue == PowerSource.Mains && !IsCharging(p, ref fresh, o))
            || (fresh.Check(p.BatteryCount, o.PowerMaxAge) && p.BatteryCount.RawValue == 0))
        {
            return electricity;
        }

        if (!sourceKnown)
        {
            assumptions |= CostAssumptions.PowerSourceUnknown;
        }

        double floor = o.BatteryReserveFloorPercent;
        double percent;
        bool percentKnown = fresh.Check(p.BatteryPercent, o.PowerMaxAge);
        if (percentKnown)
        {
            percent = p.BatteryPercent.RawValue;
        }
        else
        {
            // Unknown charge on a node that has (or may have) a battery: assume the floor.
            assumptions |= CostAssumptions.BatteryAtFloor;
            percent = floor;
        }

        if (IsCharging(p, ref fresh, o))
        {
            return electricity + (o.ChargingScarcityShare * Scarcity(percent, floor, 1, o));
        }

        // Only a measured charge refuses work: an assumed one prices it.
        belowReserve = percentKnown && percent <= floor;

        // Draining faster than the reference pace raises scarcity in proportion.
        double drainFactor = 1;
        if (fresh.Check(f.Trends.BatteryPercentPerHour, o.PowerMaxAge) && f.Trends.BatteryPercentPerHour.RawValue < 0 && percent > floor)
        {
            double hoursToFloor = (percent - floor) / -f.Trends.BatteryPercentPerHour.RawValue;
            drainFactor = Math.Max(1, o.ReferenceHoursToFloor / hoursToFloor);
        }

        return Math.Min(o.MaxBatteryDollarsPerKilowattHour, o.BatteryWearDollarsPerKilowattHour + Scarcity(percent, floor, drainFactor, o));
    }

    private static bool IsCharging(PowerFactors p, ref Freshness fresh, ScoringOptions o) =>
        fresh.Check(p.ChargeState, o.PowerMaxAge) && p.ChargeState.RawValue == ChargeState.Charging;

    /// <summary>Scarcity in $/kWh: the price at half charge scaled by (50 - floor) / (charge - floor), capped.</summary>
    private static double Scarcity(double percent, double floor, double drainFactor, ScoringOptions o)
    {
        double headroom = percent - floor;
        if (headroom <= 0)
        {
            return o.MaxBatteryDollarsPerKilowattHour;
        }

        double scarcity = o.BatteryScarcityDollarsPerKilowattHourAtHalf * (HalfChargePercent - floor) / headroom * drainFactor;
        return Math.Min(o.MaxBatteryDollarsPerKilowattHour, Math.Max(0, scarcity));
    }

    private static bool IsMetered(string nodeId, NodeCostFactors f, ref Freshness fresh, ScoringOptions o, ref CostAssumptions assumptions)
    {
        if (o.Nodes.Count > 0 && o.Nodes.TryGetValue(nodeId, out NodeScoringOverride? node))
        {
            if (node.Metered is { } forced)
            {
                return forced;
            }

            if (f.Network.DefaultInterface is { } iface && node.MeteredInterfaces.TryGetValue(iface, out bool perInterface))
            {
                return perInterface;
            }
        }

        if (fresh.Check(f.Network.Metered, o.NetworkMaxAge))
        {
            return f.Network.Metered.RawValue;
        }

        assumptions |= CostAssumptions.MeteredUnknown;
        return o.UnknownMetered == UnknownMeteredPolicy.AssumeMetered;
    }

    /// <summary>
    /// Freshness checks at one instant that also record until when their answers hold: a fresh
    /// reading turns stale once it is older than its maximum age; a stale one stays stale (time only
    /// moves forward; a clock set back is caught by <see cref="NodeTerms.PreparedAtUtcTicks"/>).
    /// </summary>
    private struct Freshness(DateTimeOffset now)
    {
        public long UntilUtcTicks = long.MaxValue;

        public bool Check<T>(in Reading<T> reading, TimeSpan maxAge)
            where T : struct
        {
            if (!reading.IsFreshAt(now, maxAge))
            {
                return false;
            }

            // A reading without an observation time never turns stale.
            long observed = reading.ObservedUtcTicks;
            if (observed != 0)
            {
                long until = observed > long.MaxValue - maxAge.Ticks ? long.MaxValue : observed + maxAge.Ticks;
                UntilUtcTicks = Math.Min(UntilUtcTicks, until);
            }

            return true;
        }
    }
}

/// <summary>
/// The request-independent terms of one node snapshot (see <see cref="DefaultCostScorer.Prepare"/>), valid while
/// <see cref="PreparedAtUtcTicks"/> &lt;= now &lt;= <see cref="ValidUntilUtcTicks"/> with the same options.
/// </summary>
/// <param name="Utilisation">Measured (or assumed) load, 0 to 1.</param>
/// <param name="Queued">Requests queued on the node, by its own fresh report (0 otherwise).</param>
/// <param name="Throttle">Thermal throttle ratio, capped.</param>
/// <param name="Watts">Power drawn while running a request, watts.</param>
/// <param name="DollarsPerKwh">The price of the node's energy, dollars per kWh.</param>
/// <param name="Metered">True when the node's link is (or is assumed) metered.</param>
/// <param name="BelowReserve">True when the battery is measured at or below its reserve floor and not charging.</param>
/// <param name="Assumptions">The assumptions that stood in for unknown or stale readings.</param>
/// <param name="PreparedAtUtcTicks">When the terms were prepared (UTC ticks).</param>
/// <param name="ValidUntilUtcTicks">The last instant (UTC ticks) at which every fresh reading used is still fresh.</param>
internal readonly record struct NodeTerms(
    double Utilisation,
    int Queued,
    double Throttle,
    double Watts,
    double DollarsPerKwh,
    bool Metered,
    bool BelowReserve,
    CostAssumptions Assumptions,
    long PreparedAtUtcTicks,
    long ValidUntilUtcTicks)
{
    /// <summary>True when the terms hold at <paramref name="nowUtcTicks"/>.</summary>
    public bool HoldAt(long nowUtcTicks) => nowUtcTicks >= PreparedAtUtcTicks && nowUtcTicks <= ValidUntilUtcTicks;
}
