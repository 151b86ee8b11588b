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

    public CostBreakdown Score(in CostCandidate candidate, RequestProfile request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ScoringOptions o = _options;
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
            (double bitsPerSecond, int samples) = _bandwidth.Estimate(candidate.TargetId);
            if (candidate.ObservedRttSeconds is null || samples == 0)
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

        NodeCostFactors? f = candidate.Factors;
        if (f is null)
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

        // Queueing: rho = measured utilisation + queued and freshly placed work per slot.
        double utilisation = Utilisation(f, now, o, ref assumptions);
        int queued = f.Pending.QueueDepth.IsFreshAt(now, o.ComputeMaxAge) ? f.Pending.QueueDepth.RawValue : 0;
        int slots = Math.Max(1, candidate.Model.ParallelSlots ?? 1);
        double rho = Math.Min(o.MaxUtilization, utilisation + ((double)(queued + candidate.PlacedRequests) / slots));
        double throttle = 0;
        if (f.Thermal.ThrottleRatio.IsFreshAt(now, o.ThermalMaxAge))
        {
            throttle = Math.Min(o.MaxThrottleRatio, f.Thermal.ThrottleRatio.RawValue);
        }
        else
        {
            assumptions |= CostAssumptions.ThermalUnknown;
        }

        double computeSeconds = serviceSeconds / (1 - rho) / (1 - throttle);

        // Energy: watts x time x the price of this node's energy right now.
        double watts = Watts(f, now, o, ref assumptions);
        double dollarsPerKwh = EnergyPrice(candidate.TargetId, f, request, now, o, ref assumptions, ref exclusion);
        double energyDollars = watts * computeSeconds / JoulesPerKilowattHour * dollarsPerKwh;

        // Metered traffic: the request's bytes over the target's link.
        bool metered = IsMetered(candidate.TargetId, f, now, o, ref assumptions);
        double networkDollars = 0;
        if (metered && !candidate.IsLocal)
        {
            networkDollars = request.PayloadBytes / BytesPerGigabyte * o.MeteredDollarsPerGigabyte;
        }

        if (metered && request.ExcludeMetered && exclusion == CostExclusion.None)
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

    private static double Utilisation(NodeCostFactors f, DateTimeOffset now, ScoringOptions o, ref CostAssumptions assumptions)
    {
        // A node with GPUs runs inference there: the busiest fresh GPU is its load.
        double gpu = -1;
        foreach (GpuDevice device in f.Gpu.Devices)
        {
            if (device.Utilization.IsFreshAt(now, o.GpuMaxAge))
            {
                gpu = Math.Max(gpu, device.Utilization.RawValue);
            }
        }

        if (gpu >= 0)
        {
            return gpu;
        }

        if (f.Compute.CpuUtilization.IsFreshAt(now, o.ComputeMaxAge))
        {
            return f.Compute.CpuUtilization.RawValue;
        }

        assumptions |= CostAssumptions.LoadUnknown;
        return o.UnknownUtilizationPrior;
    }

    private static double Watts(NodeCostFactors f, DateTimeOffset now, ScoringOptions o, ref CostAssumptions assumptions)
    {
        double gpuWatts = 0;
        foreach (GpuDevice device in f.Gpu.Devices)
        {
            if (device.PowerWatts.IsFreshAt(now, o.GpuMaxAge))
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
        if (p.ChargeState.IsFreshAt(now, o.PowerMaxAge) && p.ChargeState.RawValue == ChargeState.Discharging
            && p.BatteryRateWatts.IsFreshAt(now, o.PowerMaxAge) && p.BatteryRateWatts.RawValue > 0)
        {
            return p.BatteryRateWatts.RawValue;
        }

        assumptions |= CostAssumptions.PowerDrawPrior;
        return o.ActiveWattsPrior;
    }

    private static double EnergyPrice(string nodeId, NodeCostFactors f, RequestProfile request, DateTimeOffset now, ScoringOptions o, ref CostAssumptions assumptions, ref CostExclusion exclusion)
    {
        double electricity = o.Nodes.Count > 0 && o.Nodes.TryGetValue(nodeId, out NodeScoringOverride? node) && node.ElectricityDollarsPerKilowattHour is { } local
            ? local
            : o.ElectricityDollarsPerKilowattHour;
        PowerFactors p = f.Power;
        bool sourceKnown = p.Source.IsFreshAt(now, o.PowerMaxAge);

        // A machine with no battery can only be on mains: that is a fact, not a guess.
        if ((sourceKnown && p.Source.RawValue == PowerSource.Mains && !IsCharging(p, now, o))
            || (p.BatteryCount.IsFreshAt(now, o.PowerMaxAge) && p.BatteryCount.RawValue == 0))
        {
            return electricity;
        }

        if (!sourceKnown)
        {
            assumptions |= CostAssumptions.PowerSourceUnknown;
        }

        double floor = o.BatteryReserveFloorPercent;
        double percent;
        if (p.BatteryPercent.IsFreshAt(now, o.PowerMaxAge))
        {
            percent = p.BatteryPercent.RawValue;
        }
        else
        {
            // Unknown charge on a node that has (or may have) a battery: assume the floor.
            assumptions |= CostAssumptions.BatteryAtFloor;
            percent = floor;
        }

        if (IsCharging(p, now, o))
        {
            return electricity + (o.ChargingScarcityShare * Scarcity(percent, floor, 1, o));
        }

        if (percent <= floor && request.Urgency != Urgency.Interactive && (assumptions & CostAssumptions.BatteryAtFloor) == 0 && exclusion == CostExclusion.None)
        {
            exclusion = CostExclusion.BelowBatteryReserve;
        }

        // Draining faster than the reference pace raises scarcity in proportion.
        double drainFactor = 1;
        if (f.Trends.BatteryPercentPerHour.IsFreshAt(now, o.PowerMaxAge) && f.Trends.BatteryPercentPerHour.RawValue < 0 && percent > floor)
        {
            double hoursToFloor = (percent - floor) / -f.Trends.BatteryPercentPerHour.RawValue;
            drainFactor = Math.Max(1, o.ReferenceHoursToFloor / hoursToFloor);
        }

        return Math.Min(o.MaxBatteryDollarsPerKilowattHour, o.BatteryWearDollarsPerKilowattHour + Scarcity(percent, floor, drainFactor, o));
    }

    private static bool IsCharging(PowerFactors p, DateTimeOffset now, ScoringOptions o) =>
        p.ChargeState.IsFreshAt(now, o.PowerMaxAge) && p.ChargeState.RawValue == ChargeState.Charging;

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

    private static bool IsMetered(string nodeId, NodeCostFactors f, DateTimeOffset now, ScoringOptions o, ref CostAssumptions assumptions)
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

        if (f.Network.Metered.IsFreshAt(now, o.NetworkMaxAge))
        {
            return f.Network.Metered.RawValue;
        }

        assumptions |= CostAssumptions.MeteredUnknown;
        return o.UnknownMetered == UnknownMeteredPolicy.AssumeMetered;
    }
}
