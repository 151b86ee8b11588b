using CostModel.Factors;

namespace CostModel.Scoring;

/// <summary>
/// The request-independent terms of one node snapshot (see <see cref="DefaultCostScorer.Prepare"/>),
/// valid with the same options from when they were prepared until the time <c>Prepare</c> reports.
/// Kept small: the router copies them into every candidate's record.
/// </summary>
internal readonly struct NodeTerms
{
    /// <summary>Measured (or assumed) load, 0 to 1.</summary>
    public double Utilisation { get; init; }

    /// <summary>Requests queued on the node, by its own fresh report (0 otherwise).</summary>
    public int Queued { get; init; }

    /// <summary>Requests in service on the node, by its own fresh report (0 otherwise: then all its load counts as contention).</summary>
    public int InFlight { get; init; }

    /// <summary>Requests arriving at the node per second from every router, by its own fresh report (0 otherwise).</summary>
    public double ArrivalsPerSecond { get; init; }

    /// <summary>When the node observed its queue (UTC ticks; 0 when unknown): the queue is extrapolated over the age since.</summary>
    public long PendingObservedUtcTicks { get; init; }

    /// <summary>How much thermal throttling stretches compute: 1 / (1 - throttle ratio).</summary>
    public double ThrottleStretch { get; init; }

    /// <summary>Energy money per second of compute: watts x the node's energy price, in dollars per second.</summary>
    public double EnergyDollarsPerSecond { get; init; }

    /// <summary>True when the node's link is (or is assumed) metered.</summary>
    public bool Metered { get; init; }

    /// <summary>True when the battery is measured at or below its reserve floor and not charging.</summary>
    public bool BelowReserve { get; init; }

    /// <summary>The assumptions that stood in for unknown or stale readings.</summary>
    public CostAssumptions Assumptions { get; init; }
}

/// <summary>The terms of a model as one target serves it, under one set of options (its throughput priors).</summary>
internal readonly struct ModelTerms
{
    public ModelTerms(ServedModel model, ScoringOptions options)
    {
        double prefill = model.PrefillTokensPerSecond ?? 0;
        double decode = model.DecodeTokensPerSecond ?? 0;
        PrefillKnown = prefill > 0;
        DecodeKnown = decode > 0;
        PrefillSecondsPerToken = DefaultCostScorer.SecondsPer(PrefillKnown ? prefill : options.PrefillTokensPerSecondPrior);
        DecodeSecondsPerToken = DefaultCostScorer.SecondsPer(DecodeKnown ? decode : options.DecodeTokensPerSecondPrior);
        SlotsInverse = 1.0 / Math.Max(1, model.ParallelSlots ?? 1);
        ParameterBillionsKnown = model.ParameterBillions is not null;
        QuantizationBitsKnown = model.QuantizationBits is not null;
        ParameterBillionsOrZero = model.ParameterBillions ?? 0;
        QuantizationBitsOrZero = model.QuantizationBits ?? 0;
    }

    /// <summary>True when the target advertises its prefill speed.</summary>
    public bool PrefillKnown { get; }

    /// <summary>True when the target advertises its decode speed.</summary>
    public bool DecodeKnown { get; }

    /// <summary>True when the target advertises its model's size (an unknown size meets no floor).</summary>
    public bool ParameterBillionsKnown { get; }

    /// <summary>True when the target advertises its model's bits per weight (unknown bits meet no floor).</summary>
    public bool QuantizationBitsKnown { get; }

    /// <summary>Seconds per prompt token (advertised, or the prior).</summary>
    public double PrefillSecondsPerToken { get; }

    /// <summary>Seconds per generated token (advertised, or the prior), used until decode speed is observed.</summary>
    public double DecodeSecondsPerToken { get; }

    /// <summary>1 / parallel slots (at least one).</summary>
    public double SlotsInverse { get; }

    /// <summary>Parameters in billions, 0 when unknown (for the priced preference).</summary>
    public double ParameterBillionsOrZero { get; }

    /// <summary>Bits per weight, 0 when unknown.</summary>
    public double QuantizationBitsOrZero { get; }
}

/// <summary>
/// The terms of one target (a mesh node serving a model, reached directly or through relays) under
/// one set of options: its node's and model's terms, and what the pricing would otherwise work out
/// for every request from them. What depends on live values (the bandwidth sample, an observed
/// decode speed) is left in <see cref="UnlessLive"/>.
/// </summary>
internal readonly struct TargetTerms
{
    public TargetTerms(in NodeTerms node, in ModelTerms model, bool isLocal, int relayHops, double? observedRttSeconds, ScoringOptions options)
    {
        Node = node;
        Model = model;
        IsLocal = isLocal;
        HopFactor = 1 + relayHops;
        RttSeconds = observedRttSeconds ?? options.RttPriorSeconds;
        MeteredLink = node.Metered && !isLocal;

        // An assumption made whatever the live values is made here; one that a live value can
        // lift is left to the pricing (the throughput prior for an observed decode speed, the
        // bandwidth prior for a transfer seen).
        CostAssumptions always = node.Assumptions;
        CostAssumptions unlessLive = CostAssumptions.None;
        if (DefaultCostScorer.BandwidthPriorAssumed(isLocal, observedRttSeconds, bandwidthSamples: 1))
        {
            always |= CostAssumptions.BandwidthPrior;
        }
        else if (DefaultCostScorer.BandwidthPriorAssumed(isLocal, observedRttSeconds, bandwidthSamples: 0))
        {
            unlessLive |= CostAssumptions.BandwidthPrior;
        }

        if (DefaultCostScorer.ThroughputPriorAssumed(in model, decodeObserved: true))
        {
            always |= CostAssumptions.ThroughputPrior;
        }
        else if (DefaultCostScorer.ThroughputPriorAssumed(in model, decodeObserved: false))
        {
            unlessLive |= CostAssumptions.ThroughputPrior;
        }

        Assumptions = always;
        UnlessLive = unlessLive;

        // The queue term's parts that depend on the node and model alone (docs/cost-model.md,
        // "Compute"), worked out here, once per snapshot, not per request: the slots the node's
        // reported in-flight requests fill, and the contention of the rest of its load. Clamped by
        // comparisons (Math.Min/Max's NaN handling costs a dozen instructions; readings are
        // finite, counts integers).
        Busy = node.InFlight * model.SlotsInverse;
        double other = node.Utilisation - Busy;
        other = other > 0 ? other : 0;
        other = other < options.MaxUtilization ? other : options.MaxUtilization;
        Contention = 1 / (1 - other);
        ExclusionChecks = Scoring.ExclusionChecks.QualityFloor
            | (node.BelowReserve ? Scoring.ExclusionChecks.BatteryReserve : Scoring.ExclusionChecks.None)
            | (node.Metered ? Scoring.ExclusionChecks.Metered : Scoring.ExclusionChecks.None);
    }

    // Fields, so the pricing reads them from the one record it is given.

    /// <summary>The node's terms.</summary>
    public readonly NodeTerms Node;

    /// <summary>The model's terms.</summary>
    public readonly ModelTerms Model;

    /// <summary>Round trips and transfers a request makes: relay hops + 1.</summary>
    public readonly double HopFactor;

    /// <summary>The round trip per hop: observed, else the prior, in seconds.</summary>
    public readonly double RttSeconds;

    /// <summary>The node's reported in-flight requests per slot (<see cref="NodeTerms.InFlight"/> x <see cref="ModelTerms.SlotsInverse"/>).</summary>
    public readonly double Busy;

    /// <summary>
    /// How the node's other work stretches compute: 1 / (1 - rho), rho the measured utilisation
    /// less <see cref="Busy"/>, between 0 and <see cref="ScoringOptions.MaxUtilization"/> (the
    /// pricing's only division, once per target instead of per candidate and request).
    /// </summary>
    public readonly double Contention;

    /// <summary>The assumptions made whatever the live values.</summary>
    public readonly CostAssumptions Assumptions;

    /// <summary>The assumptions made unless a live value lifts them: <see cref="CostAssumptions.BandwidthPrior"/> unless a transfer was seen, <see cref="CostAssumptions.ThroughputPrior"/> unless a decode speed was observed.</summary>
    public readonly CostAssumptions UnlessLive;

    /// <summary>The exclusions that could apply to this target (the quality floor always could), matched against the request's.</summary>
    public readonly ExclusionChecks ExclusionChecks;

    /// <summary>True for the local node (no network term).</summary>
    public readonly bool IsLocal;

    /// <summary>True when the request's bytes are charged: a metered link to a remote node.</summary>
    public readonly bool MeteredLink;
}

/// <summary>The exclusions a target could meet and a request could ask for; the pricing looks closer only when the two share one.</summary>
[Flags]
internal enum ExclusionChecks
{
    /// <summary>No exclusion.</summary>
    None = 0,

    /// <summary>The request sets a quality floor (every target could fall below one).</summary>
    QualityFloor = 1,

    /// <summary>The battery is below its reserve; the request is not interactive.</summary>
    BatteryReserve = 2,

    /// <summary>The link is metered; the request excludes metered links.</summary>
    Metered = 4,
}

/// <summary>The terms of one request under one set of options: the same for every candidate.</summary>
internal readonly struct RequestTerms
{
    /// <param name="request">The request.</param>
    /// <param name="options">The scoring options in force.</param>
    /// <param name="holdsPromptCache">True to price prefill for a node whose KV cache holds the request's cached prompt tokens.</param>
    /// <param name="requesterLink">The routing node's own link (<see cref="DefaultCostScorer.RequesterLinkOf"/>); default: not metered.</param>
    public RequestTerms(RequestProfile request, ScoringOptions options, bool holdsPromptCache = false, RequesterLink requesterLink = default)
    {
        Request = request;
        ValueOfTime = request.ValueOfTimeDollarsPerSecond ?? options.ValueOfTime(request.Urgency);
        PromptTokens = request.InputTokens;
        InputTokens = holdsPromptCache ? Math.Max(0, request.InputTokens - request.CachedPromptTokens) : request.InputTokens;
        OutputTokens = request.OutputTokens;
        PayloadBits = request.PayloadBytes * DefaultCostScorer.BitsPerByte;
        MeteredDollars = request.PayloadBytes / DefaultCostScorer.BytesPerGigabyte * options.MeteredDollarsPerGigabyte;
        RequesterLinkDollars = requesterLink.Metered ? MeteredDollars : 0;
        RequesterLinkAssumptions = requesterLink.Assumptions;
        MaxMoneyDollars = request.MaxDollarsPerRequest ?? options.MaxDollarsPerRequest ?? double.PositiveInfinity;
        HasQualityFloor = request.MinParameterBillions is not null || request.MinQuantizationBits is not null;
        Interactive = request.Urgency == Urgency.Interactive;
        ExcludeMetered = request.ExcludeMetered;
        DollarsPerBillionParameters = request.DollarsPerBillionParameters;
        DollarsPerQuantizationBit = request.DollarsPerQuantizationBit;
        ExclusionChecks = (HasQualityFloor ? ExclusionChecks.QualityFloor : ExclusionChecks.None)
            | (Interactive ? ExclusionChecks.None : ExclusionChecks.BatteryReserve)
            | (ExcludeMetered ? ExclusionChecks.Metered : ExclusionChecks.None);
    }

    /// <summary>The request.</summary>
    public RequestProfile Request { get; }

    /// <summary>Dollars per second of latency.</summary>
    public double ValueOfTime { get; }

    /// <summary>Prompt tokens to prefill (the whole prompt, or what a KV cache does not hold).</summary>
    public double InputTokens { get; }

    /// <summary>The whole prompt, tokens: what an API bills.</summary>
    public double PromptTokens { get; }

    /// <summary>Generated tokens.</summary>
    public double OutputTokens { get; }

    /// <summary>Bits to move.</summary>
    public double PayloadBits { get; }

    /// <summary>What the payload costs on a metered link, dollars.</summary>
    public double MeteredDollars { get; }

    /// <summary>What the payload costs on the routing node's own link when it leaves for another node or an API, dollars (0 when that link is not metered).</summary>
    public double RequesterLinkDollars { get; }

    /// <summary>The assumptions behind <see cref="RequesterLinkDollars"/> (<see cref="CostAssumptions.MeteredUnknown"/> when the policy priced an unknown link), for every remote candidate.</summary>
    public CostAssumptions RequesterLinkAssumptions { get; }

    /// <summary>The most money the request may cost (the request's, else the mesh's), dollars; infinity for no cap.</summary>
    public double MaxMoneyDollars { get; }

    /// <summary>True when the request sets a quality floor.</summary>
    public bool HasQualityFloor { get; }

    /// <summary>True for interactive requests (they may use a battery below its reserve).</summary>
    public bool Interactive { get; }

    /// <summary>True when metered links are excluded.</summary>
    public bool ExcludeMetered { get; }

    /// <summary>The priced preference for model size, dollars per billion parameters.</summary>
    public double DollarsPerBillionParameters { get; }

    /// <summary>The priced preference for precision, dollars per bit per weight.</summary>
    public double DollarsPerQuantizationBit { get; }

    /// <summary>The exclusions this request could trigger (matched against a target's <see cref="TargetTerms.ExclusionChecks"/>).</summary>
    public ExclusionChecks ExclusionChecks { get; }
}

/// <summary>The routing node's own link as the scorer prices it: metered or not, and what was assumed to say so.</summary>
/// <param name="Metered">True when the link is (or, by the unknown-metered policy, is assumed) metered.</param>
/// <param name="Assumptions">What stood in for an unknown reading (<see cref="CostAssumptions.MeteredUnknown"/>), or none.</param>
internal readonly record struct RequesterLink(bool Metered, CostAssumptions Assumptions);
