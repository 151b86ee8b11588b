using System.Runtime.CompilerServices;
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
    internal const double JoulesPerKilowattHour = 3.6e6;
    internal const double BytesPerGigabyte = 1e9;
    internal const double BitsPerByte = 8;
    internal const double TokensPerMillion = 1e6;
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

    /// <remarks>
    /// Composed of the parts the router's fast path reuses: the request's terms, the model's terms,
    /// the node's terms (prepared here on every call; the router keeps them per snapshot) and the
    /// per-candidate pricing. One formula, whichever path runs it.
    /// </remarks>
    public CostBreakdown Score(in CostCandidate candidate, RequestProfile request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ScoringOptions o = _options;
        var r = new RequestTerms(request, o, candidate.HoldsPromptCache && candidate.Factors is not null);
        var m = new ModelTerms(candidate.Model, o);
        double decodeSecondsPerToken = candidate.ObservedDecodeTokensPerSecond is { } observed ? SecondsPer(observed) : 0;
        (double secondsPerBit, int samples) = candidate.IsLocal ? (0, 0) : _bandwidth.Link(_bandwidth.Find(candidate.TargetId));
        if (candidate.Factors is not { } f)
        {
            return PriceEndpoint(in m, in r, o, candidate.IsLocal, candidate.RelayHops, candidate.ObservedRttSeconds, secondsPerBit, samples, decodeSecondsPerToken, candidate.Price);
        }

        NodeTerms n = Prepare(candidate.TargetId, f, now, o, out _);
        return PriceNode(in n, in m, in r, o, candidate.IsLocal, candidate.RelayHops, candidate.ObservedRttSeconds, secondsPerBit, samples, candidate.PlacedRequests, decodeSecondsPerToken);
    }

    /// <summary>The time one unit takes at <paramref name="perSecond"/> units per second (tokens, bits): every rate enters the formula through this.</summary>
    internal static double SecondsPer(double perSecond) => 1 / perSecond;

    /// <summary>
    /// The request-independent terms of one node snapshot at <paramref name="now"/>: load, queue,
    /// throttling, power draw, energy price, metered state and the assumptions behind them, with the
    /// time until which they hold: <paramref name="validUntilUtcTicks"/>, the last instant at which
    /// every fresh reading they used is still fresh (from <paramref name="now"/> on; a clock set back
    /// before <paramref name="now"/> invalidates them too). <see cref="Score"/> prepares them for every
    /// call; the router prepares them once per snapshot and keeps them until they expire.
    /// </summary>
    internal static NodeTerms Prepare(string targetId, NodeCostFactors f, DateTimeOffset now, ScoringOptions o, out long validUntilUtcTicks)
    {
        var fresh = new Freshness(now);
        CostAssumptions assumptions = CostAssumptions.None;
        double utilisation = Utilisation(f, ref fresh, o, ref assumptions);
        int queued = fresh.Check(f.Pending.QueueDepth, o.ComputeMaxAge) ? f.Pending.QueueDepth.RawValue : 0;
        int inFlight = fresh.Check(f.Pending.InFlight, o.ComputeMaxAge) ? f.Pending.InFlight.RawValue : 0;
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
        validUntilUtcTicks = fresh.UntilUtcTicks;
        return new NodeTerms
        {
            Utilisation = utilisation,
            Queued = queued,
            InFlight = inFlight,
            ThrottleStretch = 1 / (1 - throttle),
            EnergyDollarsPerSecond = watts / JoulesPerKilowattHour * dollarsPerKwh,
            Metered = metered,
            BelowReserve = belowReserve,
            Assumptions = assumptions,
        };
    }

    /// <summary>
    /// Prices a request on a mesh node from its prepared terms: the per-candidate part of
    /// <see cref="Score"/>, shared with the router's fast path (a handful of multiply-adds and one division).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static CostBreakdown PriceNode(in NodeTerms n, in ModelTerms m, in RequestTerms r, ScoringOptions o, bool isLocal, int relayHops, double? observedRttSeconds, double secondsPerBit, int bandwidthSamples, int placedRequests, double observedDecodeSecondsPerToken)
    {
        CostAssumptions assumptions = n.Assumptions;
        CostExclusion exclusion = r.HasQualityFloor ? QualityExclusion(in m, in r) : CostExclusion.None;
        double networkSeconds = NetworkSeconds(in r, o, isLocal, relayHops, observedRttSeconds, secondsPerBit, bandwidthSamples, ref assumptions);
        double serviceSeconds = ServiceSeconds(in m, in r, observedDecodeSecondsPerToken, ref assumptions);

        // Queueing, two parts (docs/cost-model.md, "Compute"). The work ahead: the node's requests in
        // service and queued plus those placed since its snapshot, per slot; an arrival waits for
        // (that x slots - slots + 1) completions, one every service / slots: x (occupancy + 1/slots),
        // at least 1. Contention: the utilisation that is not the node's own inference (measured
        // load less the slots its reported in-flight requests fill) shares the processor, 1/(1 - rho),
        // rho capped. Throttling stretches the rest. Clamped by comparisons (Math.Min/Max's NaN
        // handling costs a dozen instructions per candidate; readings are finite, counts integers).
        double busy = n.InFlight * m.SlotsInverse;
        double other = n.Utilisation - busy;
        other = other > 0 ? other : 0;
        other = other < o.MaxUtilization ? other : o.MaxUtilization;
        double ahead = busy + ((n.Queued + placedRequests + 1) * m.SlotsInverse);
        ahead = ahead > 1 ? ahead : 1;
        double computeSeconds = serviceSeconds * n.ThrottleStretch * ahead / (1 - other);

        // Energy: watts x time x the price of this node's energy right now. Non-urgent work is
        // refused below the battery reserve.
        double energyDollars = computeSeconds * n.EnergyDollarsPerSecond;
        if (n.BelowReserve && !r.Interactive && exclusion == CostExclusion.None)
        {
            exclusion = CostExclusion.BelowBatteryReserve;
        }

        // Metered traffic: the request's bytes over the target's link.
        double networkDollars = n.Metered && !isLocal ? r.MeteredDollars : 0;
        if (n.Metered && r.ExcludeMetered && exclusion == CostExclusion.None)
        {
            exclusion = CostExclusion.Metered;
        }

        return Finish(new CostBreakdown
        {
            NetworkLatencySeconds = networkSeconds,
            ComputeLatencySeconds = computeSeconds,
            EnergyDollars = energyDollars,
            NetworkDollars = networkDollars,
            QualityDollars = QualityDollars(in m, in r),
            ValueOfTimeDollarsPerSecond = r.ValueOfTime,
            Assumptions = assumptions,
            Exclusion = exclusion,
        }, in r);
    }

    /// <summary>Prices a request on a paid endpoint: its latency is the network and its service time; its cost the tokens.</summary>
    internal static CostBreakdown PriceEndpoint(in ModelTerms m, in RequestTerms r, ScoringOptions o, bool isLocal, int relayHops, double? observedRttSeconds, double secondsPerBit, int bandwidthSamples, double observedDecodeSecondsPerToken, TokenPrice? price)
    {
        CostAssumptions assumptions = CostAssumptions.None;
        CostExclusion exclusion = r.HasQualityFloor ? QualityExclusion(in m, in r) : CostExclusion.None;
        double networkSeconds = NetworkSeconds(in r, o, isLocal, relayHops, observedRttSeconds, secondsPerBit, bandwidthSamples, ref assumptions);
        double serviceSeconds = ServiceSeconds(in m, in r, observedDecodeSecondsPerToken, ref assumptions);
        if (price is not { } p)
        {
            return new CostBreakdown { Exclusion = CostExclusion.UnknownPrice, ValueOfTimeDollarsPerSecond = r.ValueOfTime, Assumptions = assumptions };
        }

        double api = ((r.PromptTokens * p.InputDollarsPerMillionTokens) + (r.OutputTokens * p.OutputDollarsPerMillionTokens)) / TokensPerMillion;
        return Finish(new CostBreakdown
        {
            NetworkLatencySeconds = networkSeconds,
            ComputeLatencySeconds = serviceSeconds,
            ApiDollars = api,
            QualityDollars = QualityDollars(in m, in r),
            ValueOfTimeDollarsPerSecond = r.ValueOfTime,
            Assumptions = assumptions,
            Exclusion = exclusion,
        }, in r);
    }

    /// <summary>Network: each hop pays a round trip and the transfer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double NetworkSeconds(in RequestTerms r, ScoringOptions o, bool isLocal, int relayHops, double? observedRttSeconds, double secondsPerBit, int bandwidthSamples, ref CostAssumptions assumptions)
    {
        if (isLocal)
        {
            return 0;
        }

        if (observedRttSeconds is null || bandwidthSamples == 0)
        {
            assumptions |= CostAssumptions.BandwidthPrior;
        }

        return (1 + relayHops) * ((observedRttSeconds ?? o.RttPriorSeconds) + (r.PayloadBits * secondsPerBit));
    }

    /// <summary>Compute before queueing: prefill + decode at the observed or advertised speed (priors when unknown).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ServiceSeconds(in ModelTerms m, in RequestTerms r, double observedDecodeSecondsPerToken, ref CostAssumptions assumptions)
    {
        bool observed = observedDecodeSecondsPerToken > 0;
        if (!m.PrefillKnown || !(observed || m.DecodeKnown))
        {
            assumptions |= CostAssumptions.ThroughputPrior;
        }

        return (r.InputTokens * m.PrefillSecondsPerToken) + (r.OutputTokens * (observed ? observedDecodeSecondsPerToken : m.DecodeSecondsPerToken));
    }

    /// <summary>The request's priced preference for larger, less quantised models (negative: a discount).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double QualityDollars(in ModelTerms m, in RequestTerms r) =>
        -((r.DollarsPerBillionParameters * m.ParameterBillionsOrZero) + (r.DollarsPerQuantizationBit * m.QuantizationBitsOrZero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CostBreakdown Finish(CostBreakdown cost, in RequestTerms r) =>
        cost.Exclusion == CostExclusion.None && cost.MoneyDollars > r.MaxMoneyDollars
            ? cost with { Exclusion = CostExclusion.OverBudget }
            : cost;

    private static CostExclusion QualityExclusion(in ModelTerms m, in RequestTerms r)
    {
        // An unknown size (NaN) never meets a floor.
        if (r.Request.MinParameterBillions is { } minParameters && !(m.ParameterBillions >= minParameters))
        {
            return CostExclusion.QualityFloor;
        }

        if (r.Request.MinQuantizationBits is { } minBits && !(m.QuantizationBits >= minBits))
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
    /// moves forward; a clock set back is caught by comparing with the time of preparation).
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
