using CostModel.DependencyInjection;
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

    /// <summary>100: a battery's percentages per whole (a rate over the full capacity, as a percentage).</summary>
    private const double PercentPerWhole = 100;

    private readonly BandwidthEstimator _bandwidth;

    // The options are read once per change, not per score (IOptionsMonitor.CurrentValue costs a
    // dictionary lookup, a fifth of the scoring budget).
    private readonly LiveOptions<ScoringOptions> _options;

    public DefaultCostScorer(IOptionsMonitor<ScoringOptions> options, BandwidthEstimator bandwidth)
    {
        _bandwidth = bandwidth;
        _options = new LiveOptions<ScoringOptions>(options);
    }

    public void Dispose() => _options.Dispose();

    /// <summary>The options in force (read once per change); prepared terms are valid only with this instance.</summary>
    internal ScoringOptions Options => _options.Current;

    /// <summary>The bandwidth estimator the network term reads.</summary>
    internal BandwidthEstimator Bandwidth => _bandwidth;

    /// <remarks>
    /// Composed of the parts the router's fast path reuses: the request's terms, the model's terms,
    /// the node's terms (prepared here on every call; the router keeps them per snapshot), the
    /// target's terms (node and model together) and the per-candidate pricing. One formula,
    /// whichever path runs it.
    /// </remarks>
    public CostBreakdown Score(in CostCandidate candidate, RequestProfile request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ScoringOptions o = _options.Current;
        var r = new RequestTerms(request, o, candidate.HoldsPromptCache && candidate.Factors is not null, RequesterLinkOf(candidate.RequesterFactors, now, o));
        var m = new ModelTerms(candidate.Model, o);
        double decodeSecondsPerToken = candidate.ObservedDecodeTokensPerSecond is { } observed ? SecondsPer(observed) : 0;
        (double secondsPerBit, int samples) = candidate.IsLocal ? (0, 0) : _bandwidth.Link(_bandwidth.Find(candidate.TargetId));
        if (candidate.Factors is not { } f)
        {
            return PriceEndpoint(in m, in r, o, candidate.IsLocal, candidate.RelayHops, candidate.ObservedRttSeconds, secondsPerBit, samples, decodeSecondsPerToken, candidate.Price);
        }

        NodeTerms n = Prepare(candidate.TargetId, f, now, o, out _);
        var t = new TargetTerms(in n, in m, candidate.IsLocal, candidate.RelayHops, candidate.ObservedRttSeconds, o);
        PriceNode(out CostBreakdown cost, in t, in r, secondsPerBit, samples, candidate.PlacedRequests, decodeSecondsPerToken, now.UtcTicks);
        return cost;
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
        double arrivals = fresh.Check(f.Pending.ArrivalsPerSecond, o.ComputeMaxAge) ? f.Pending.ArrivalsPerSecond.RawValue : 0;
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
            ArrivalsPerSecond = arrivals,
            PendingObservedUtcTicks = queued > 0 || inFlight > 0 || arrivals > 0 ? f.Pending.QueueDepth.ObservedUtcTicks : 0,
            ThrottleStretch = 1 / (1 - throttle),
            EnergyDollarsPerSecond = watts / JoulesPerKilowattHour * dollarsPerKwh,
            Metered = metered,
            BelowReserve = belowReserve,
            Assumptions = assumptions,
        };
    }

    /// <summary>
    /// Prices a request on a mesh node from its target's terms: the per-candidate part of
    /// <see cref="Score"/>, shared with the router's fast path (a handful of multiply-adds, no
    /// division; what does not depend on the request or on live counts was done by
    /// <see cref="TargetTerms"/>). Writes the breakdown to <paramref name="cost"/> and returns its
    /// <see cref="CostBreakdown.TotalDollars"/>, summed from the terms before they are stored (the
    /// router's loop would otherwise read them back).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double PriceNode(out CostBreakdown cost, in TargetTerms t, in RequestTerms r, double secondsPerBit, int bandwidthSamples, int placedRequests, double observedDecodeSecondsPerToken, long nowUtcTicks)
    {
        bool observed = observedDecodeSecondsPerToken > 0;
        CostAssumptions assumptions = t.Assumptions;
        if (t.UnlessLive != CostAssumptions.None)
        {
            assumptions |= LiveAssumptions(in t, observed, bandwidthSamples);
        }

        if (!t.IsLocal)
        {
            assumptions |= r.RequesterLinkAssumptions;
        }

        // Most requests set no floor and most nodes are neither below their battery reserve nor metered.
        CostExclusion exclusion = (t.ExclusionChecks & r.ExclusionChecks) != ExclusionChecks.None ? Exclusion(in t, in r) : CostExclusion.None;
        double networkSeconds = t.IsLocal ? 0 : NetworkSeconds(t.HopFactor, t.RttSeconds, r.PayloadBits, secondsPerBit);
        double serviceSeconds = ServiceSeconds(in r, t.Model.PrefillSecondsPerToken, observed ? observedDecodeSecondsPerToken : t.Model.DecodeSecondsPerToken);

        // Queueing, two parts (docs/cost-model.md, "Compute"). The work ahead (WorkAhead): the
        // node's requests in service and queued, extrapolated over the report's age, per slot; an
        // arrival waits for (that x slots - slots + 1) completions, one every service / slots:
        // x (occupancy + 1/slots), at least 1. Contention: the utilisation that is not the node's
        // own inference (measured load less the slots its reported in-flight requests fill) shares
        // the processor, 1/(1 - rho), rho capped: the target's (TargetTerms.Contention, worked out
        // once per snapshot, so the loop over the candidates makes no division). Throttling
        // stretches the rest.
        double slotSeconds = serviceSeconds * t.Node.ThrottleStretch;
        double contention = t.Contention;
        double computeSeconds = WorkAhead(in t.Node, t.Model.SlotsInverse, t.Busy, placedRequests, slotSeconds, nowUtcTicks) * contention;

        // Energy: watts x time x the price of this node's energy right now.
        double energyDollars = computeSeconds * t.Node.EnergyDollarsPerSecond;

        // Metered traffic: the request's bytes over the target's link, and over the routing node's own.
        double requesterLinkDollars = RequesterLinkDollars(t.IsLocal, in r);
        double networkDollars = (t.MeteredLink ? r.MeteredDollars : 0) + requesterLinkDollars;

        // A mesh node charges no API money; the sums below are CostBreakdown's own, term for term.
        const double apiDollars = 0;
        double qualityDollars = QualityDollars(in t.Model, in r);
        if (exclusion == CostExclusion.None && CostBreakdown.Money(energyDollars, networkDollars, apiDollars) > r.MaxMoneyDollars)
        {
            exclusion = CostExclusion.OverBudget;
        }

        cost = new CostBreakdown
        {
            NetworkLatencySeconds = networkSeconds,
            ComputeLatencySeconds = computeSeconds,
            EnergyDollars = energyDollars,
            NetworkDollars = networkDollars,
            RequesterLinkDollars = requesterLinkDollars,
            ApiDollars = apiDollars,
            QualityDollars = qualityDollars,
            ValueOfTimeDollarsPerSecond = r.ValueOfTime,
            Assumptions = assumptions,
            Exclusion = exclusion,
            QueueStepDollars = slotSeconds * t.Model.SlotsInverse * contention * r.ValueOfTime,
        };
        return CostBreakdown.Total(CostBreakdown.Latency(networkSeconds, computeSeconds), r.ValueOfTime, energyDollars, networkDollars, apiDollars, qualityDollars);
    }

    /// <summary>
    /// The work ahead of a new request on a node and its own, in seconds of this request's service
    /// on one slot (docs/routing.md, "Work other routers placed"): the node's report (in service and
    /// queued), plus what its queue grew by since it observed it, plus this request's own slot; at
    /// least one service time. The growth is the arrivals at the node's reported rate over the
    /// report's age less what its slots served meanwhile (one service time per service time
    /// elapsed, this request's service time standing for each one's, as in the queue term), or the
    /// requests this router placed since (<paramref name="placedRequests"/>), whichever is more.
    /// The reported work itself is not drained: a request's size says nothing of the sizes ahead of
    /// it, so a short request would see a queue of long ones drain too fast. Kept in seconds, not in
    /// service times, so that the age needs no division by the service time.
    /// </summary>
    /// <param name="n">The node's terms.</param>
    /// <param name="slotsInverse">1 / the node's parallel slots.</param>
    /// <param name="busy">The reported in-flight requests per slot.</param>
    /// <param name="placedRequests">Requests this router placed since the report.</param>
    /// <param name="slotSeconds">This request's service time on one slot (throttling included), seconds.</param>
    /// <param name="nowUtcTicks">Now.</param>
    /// <returns>The occupancy ahead times <paramref name="slotSeconds"/>, at least <paramref name="slotSeconds"/>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double WorkAhead(in NodeTerms n, double slotsInverse, double busy, int placedRequests, double slotSeconds, long nowUtcTicks)
    {
        double perRequest = slotsInverse * slotSeconds;
        double grown = placedRequests * perRequest;
        long observed = n.PendingObservedUtcTicks;
        if (observed != 0 && nowUtcTicks > observed)
        {
            // Arrivals x (service per slot) - the age served: (rate x age / slots - age / service) x service.
            double age = (nowUtcTicks - observed) * SecondsPerTick;
            double net = age * ((n.ArrivalsPerSecond * perRequest) - 1);
            grown = net > grown ? net : grown;
        }

        double work = (slotSeconds * busy) + (n.Queued * perRequest) + grown + perRequest;
        return work > slotSeconds ? work : slotSeconds;
    }

    /// <summary>1e-7: seconds per <see cref="TimeSpan"/> tick (a multiplication where a division by <see cref="TimeSpan.TicksPerSecond"/> would cost a divider per candidate).</summary>
    private const double SecondsPerTick = 1.0 / TimeSpan.TicksPerSecond;

    /// <summary>Prices a request on a paid endpoint: its latency is the network and its service time; its cost the tokens.</summary>
    internal static CostBreakdown PriceEndpoint(in ModelTerms m, in RequestTerms r, ScoringOptions o, bool isLocal, int relayHops, double? observedRttSeconds, double secondsPerBit, int bandwidthSamples, double observedDecodeSecondsPerToken, TokenPrice? price)
    {
        CostAssumptions assumptions = isLocal ? CostAssumptions.None : r.RequesterLinkAssumptions;
        bool observed = observedDecodeSecondsPerToken > 0;
        if (BandwidthPriorAssumed(isLocal, observedRttSeconds, bandwidthSamples))
        {
            assumptions |= CostAssumptions.BandwidthPrior;
        }

        if (ThroughputPriorAssumed(in m, observed))
        {
            assumptions |= CostAssumptions.ThroughputPrior;
        }

        CostExclusion exclusion = r.HasQualityFloor ? QualityExclusion(in m, in r) : CostExclusion.None;
        double networkSeconds = isLocal ? 0 : NetworkSeconds(1 + relayHops, observedRttSeconds ?? o.RttPriorSeconds, r.PayloadBits, secondsPerBit);
        double serviceSeconds = ServiceSeconds(in r, m.PrefillSecondsPerToken, observed ? observedDecodeSecondsPerToken : m.DecodeSecondsPerToken);
        if (price is not { } p)
        {
            return new CostBreakdown { Exclusion = CostExclusion.UnknownPrice, ValueOfTimeDollarsPerSecond = r.ValueOfTime, Assumptions = assumptions };
        }

        double api = ((r.PromptTokens * p.InputDollarsPerMillionTokens) + (r.OutputTokens * p.OutputDollarsPerMillionTokens)) / TokensPerMillion;
        double requesterLinkDollars = RequesterLinkDollars(isLocal, in r);
        return Finish(new CostBreakdown
        {
            NetworkLatencySeconds = networkSeconds,
            ComputeLatencySeconds = serviceSeconds,
            NetworkDollars = requesterLinkDollars,
            RequesterLinkDollars = requesterLinkDollars,
            ApiDollars = api,
            QualityDollars = QualityDollars(in m, in r),
            ValueOfTimeDollarsPerSecond = r.ValueOfTime,
            Assumptions = assumptions,
            Exclusion = exclusion,
        }, in r);
    }

    /// <summary>
    /// The routing node's own link, from its snapshot (<paramref name="requester"/>; null when the
    /// view has none: then nothing is charged): metered by the same rules as any node's link (the
    /// operator's override for its id, its fresh reading, else the unknown-metered policy).
    /// </summary>
    internal static RequesterLink RequesterLinkOf(NodeCostFactors? requester, DateTimeOffset now, ScoringOptions o)
    {
        if (requester is null)
        {
            return default;
        }

        var fresh = new Freshness(now);
        CostAssumptions assumptions = CostAssumptions.None;
        bool metered = IsMetered(requester.NodeId, requester, ref fresh, o, ref assumptions);
        return new RequesterLink(metered, assumptions);
    }

    /// <summary>
    /// The requester's own link (docs/cost-model.md, "The requester's link"): a request sent from a
    /// routing node on a metered link to any other node or to an API pays for its payload there
    /// (the bytes that leave and the reply's bytes that come back), on top of what the target's link
    /// charges; run on the routing node itself, it pays nothing for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double RequesterLinkDollars(bool isLocal, in RequestTerms r) => isLocal ? 0 : r.RequesterLinkDollars;

    /// <summary>True when the network term rests on the bandwidth prior: a remote target without an observed round trip or without a transfer seen.</summary>
    internal static bool BandwidthPriorAssumed(bool isLocal, double? observedRttSeconds, int bandwidthSamples) =>
        !isLocal && (observedRttSeconds is null || bandwidthSamples == 0);

    /// <summary>True when the service time rests on a throughput prior: prefill speed not advertised, or decode speed neither observed nor advertised.</summary>
    internal static bool ThroughputPriorAssumed(in ModelTerms m, bool decodeObserved) =>
        !m.PrefillKnown || !(decodeObserved || m.DecodeKnown);

    /// <summary>The assumptions a target's terms left to live values (<see cref="TargetTerms.UnlessLive"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CostAssumptions LiveAssumptions(in TargetTerms t, bool decodeObserved, int bandwidthSamples)
    {
        CostAssumptions assumptions = CostAssumptions.None;
        if ((t.UnlessLive & CostAssumptions.BandwidthPrior) != 0 && bandwidthSamples == 0)
        {
            assumptions |= CostAssumptions.BandwidthPrior;
        }

        if ((t.UnlessLive & CostAssumptions.ThroughputPrior) != 0 && !decodeObserved)
        {
            assumptions |= CostAssumptions.ThroughputPrior;
        }

        return assumptions;
    }

    /// <summary>Why a mesh node must not take the request before its money is known: the quality floor, the battery reserve, an excluded metered link (in that order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CostExclusion Exclusion(in TargetTerms t, in RequestTerms r)
    {
        CostExclusion exclusion = r.HasQualityFloor ? QualityExclusion(in t.Model, in r) : CostExclusion.None;

        // Non-urgent work is refused below the battery reserve.
        if (t.Node.BelowReserve && !r.Interactive && exclusion == CostExclusion.None)
        {
            exclusion = CostExclusion.BelowBatteryReserve;
        }

        if (t.Node.Metered && r.ExcludeMetered && exclusion == CostExclusion.None)
        {
            exclusion = CostExclusion.Metered;
        }

        return exclusion;
    }

    /// <summary>Network: each hop (<paramref name="hops"/>: relays + 1) pays a round trip and the transfer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double NetworkSeconds(double hops, double rttSeconds, double payloadBits, double secondsPerBit) =>
        hops * (rttSeconds + (payloadBits * secondsPerBit));

    /// <summary>Compute before queueing: prefill + decode at the observed or advertised speed (priors when unknown).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ServiceSeconds(in RequestTerms r, double prefillSecondsPerToken, double decodeSecondsPerToken) =>
        (r.InputTokens * prefillSecondsPerToken) + (r.OutputTokens * decodeSecondsPerToken);

    /// <summary>The request's priced preference for larger, less quantised models (negative: a discount).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double QualityDollars(in ModelTerms m, in RequestTerms r) =>
        -((r.DollarsPerBillionParameters * m.ParameterBillionsOrZero) + (r.DollarsPerQuantizationBit * m.QuantizationBitsOrZero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CostBreakdown Finish(CostBreakdown cost, in RequestTerms r) =>
        cost.Exclusion == CostExclusion.None && cost.MoneyDollars > r.MaxMoneyDollars
            ? cost with { Exclusion = CostExclusion.OverBudget }
            : cost;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CostExclusion QualityExclusion(in ModelTerms m, in RequestTerms r)
    {
        // An unknown size never meets a floor.
        if (r.Request.MinParameterBillions is { } minParameters && !(m.ParameterBillionsKnown && m.ParameterBillionsOrZero >= minParameters))
        {
            return CostExclusion.QualityFloor;
        }

        if (r.Request.MinQuantizationBits is { } minBits && !(m.QuantizationBitsKnown && m.QuantizationBitsOrZero >= minBits))
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

        // The energy saver on (the user or the OS asked this machine to save battery): its charge is
        // priced as if no higher than the level at which the saver would have come on by itself.
        double pricedPercent = fresh.Check(p.EnergySaver, o.PowerMaxAge) && p.EnergySaver.RawValue
            ? Math.Min(percent, o.EnergySaverBatteryPercent)
            : percent;

        if (IsCharging(p, ref fresh, o))
        {
            return electricity + (o.ChargingScarcityShare * Scarcity(pricedPercent, floor, 1, o));
        }

        // How fast the charge falls, percent per hour (0: not falling, or not known to).
        bool trendKnown = fresh.Check(f.Trends.BatteryPercentPerHour, o.PowerMaxAge);
        double drain = trendKnown ? Math.Max(0, -f.Trends.BatteryPercentPerHour.RawValue) : 0;

        // Only a measured charge refuses work: an assumed one prices it. A falling one is judged where
        // it will be a look-ahead from now: work started now runs on after this reading. Until the
        // trend is known (its window fills a minute or more after an unplug) the charge is judged
        // along the discharge rate, read at once, over a shorter look-ahead: the reading's age and
        // the gauge's jitter, not the work's run (ScoringDefaults.BatteryReserveRateLookAhead). The
        // price's drain factor below waits for the trend (the rate taken for the price too priced a
        // laptop's last points at the cap from the unplug on: benchmarks/README.md, "The reserve
        // before the trend").
        belowReserve = percentKnown && (percent <= floor || (trendKnown
            ? drain > 0 && ReachesFloor(p.BatteryPercent, drain, floor, o.BatteryReserveLookAhead, ref fresh)
            : DischargePercentPerHour(p, ref fresh, o) is > 0 and double rateDrain
                && ReachesFloor(p.BatteryPercent, rateDrain, floor, Min(o.BatteryReserveLookAhead, ScoringDefaults.BatteryReserveRateLookAhead), ref fresh)));

        // Draining faster than the reference pace raises scarcity in proportion.
        double drainFactor = 1;
        if (drain > 0 && percent > floor)
        {
            double hoursToFloor = (percent - floor) / drain;
            drainFactor = Math.Max(1, o.ReferenceHoursToFloor / hoursToFloor);
        }

        return Math.Min(o.MaxBatteryDollarsPerKilowattHour, o.BatteryWearDollarsPerKilowattHour + Scarcity(pricedPercent, floor, drainFactor, o));
    }

    /// <summary>
    /// Whether <paramref name="charge"/>, above the floor when observed and falling since at
    /// <paramref name="drainPercentPerHour"/> (the charge's trend, <see cref="TrendFactors.BatteryPercentPerHour"/>,
    /// or until its window has filled the discharge rate over the full capacity), is at or below
    /// <paramref name="floor"/> <paramref name="lookAhead"/> from now. When it is not yet, the terms
    /// hold only until the instant it will be (<see cref="Freshness.Until"/>).
    /// </summary>
    private static bool ReachesFloor(in Reading<double> charge, double drainPercentPerHour, double floor, TimeSpan lookAhead, ref Freshness fresh)
    {
        long observed = charge.ObservedUtcTicks;
        if (observed == 0 || lookAhead <= TimeSpan.Zero)
        {
            return false;
        }

        // Refused from this long after the observation (ticks; kept apart from the instant, whose
        // magnitude a double would round to 128 ticks).
        double refusedAfter = ((charge.RawValue - floor) / drainPercentPerHour * TimeSpan.TicksPerHour) - lookAhead.Ticks;
        if (fresh.NowUtcTicks - observed >= refusedAfter)
        {
            return true;
        }

        fresh.Until(refusedAfter >= long.MaxValue - observed ? long.MaxValue : observed + (long)Math.Ceiling(refusedAfter) - 1);
        return false;
    }

    /// <summary>
    /// How fast a discharging battery's charge falls by its rate, percent of the full capacity per
    /// hour (<see cref="PowerFactors.BatteryRateWatts"/> over <see cref="PowerFactors.FullWattHours"/>,
    /// or over <see cref="ScoringDefaults.BatteryFullWattHoursPrior"/> where the capacity is not known,
    /// as in a peer's gossiped state), at most <see cref="TrendFactors.MaxPercentPerHour"/> (what a
    /// trend can read: a broken gauge's tiny capacity under a large rate refuses work at most 5 points
    /// above the floor, 1 % a second for the 5 s); 0 when the battery is not known to discharge or its
    /// rate is not known.
    /// </summary>
    private static double DischargePercentPerHour(PowerFactors p, ref Freshness fresh, ScoringOptions o)
    {
        bool discharging = (fresh.Check(p.ChargeState, o.PowerMaxAge) && p.ChargeState.RawValue == ChargeState.Discharging)
            || (fresh.Check(p.Source, o.PowerMaxAge) && p.Source.RawValue == PowerSource.Battery);
        if (!discharging || !fresh.Check(p.BatteryRateWatts, o.PowerMaxAge))
        {
            return 0;
        }

        double full = fresh.Check(p.FullWattHours, o.PowerMaxAge) && p.FullWattHours.RawValue > 0
            ? p.FullWattHours.RawValue
            : ScoringDefaults.BatteryFullWattHoursPrior;
        return Math.Min(TrendFactors.MaxPercentPerHour, p.BatteryRateWatts.RawValue / full * PercentPerWhole);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

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

        public readonly long NowUtcTicks => now.UtcTicks;

        /// <summary>Ends the terms' span at <paramref name="utcTicks"/> at the latest: something they decided changes then.</summary>
        public void Until(long utcTicks) => UntilUtcTicks = Math.Min(UntilUtcTicks, utcTicks);

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
                Until(observed > long.MaxValue - maxAge.Ticks ? long.MaxValue : observed + maxAge.Ticks);
            }

            return true;
        }
    }
}
