using System.Globalization;
using CostModel.Factors;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Gossip;

/// <summary>Why <see cref="SignificanceGate"/> says this node should publish its factors now.</summary>
internal enum PublishReason
{
    /// <summary>Do not publish.</summary>
    None = 0,

    /// <summary>Nothing was published yet (or the node id or generation changed).</summary>
    First = 1,

    /// <summary>The cost of the reference request moved by more than the threshold, or the node's eligibility for it changed.</summary>
    Significant = 2,

    /// <summary>Power source, charge state, metered link or thermal level changed (in value, or between known and unknown).</summary>
    Categorical = 3,

    /// <summary>Nothing significant, but the node has been silent for the maximum silence.</summary>
    Heartbeat = 4,
}

/// <summary>When this node publishes its factors. Immutable; every value is range-checked when it is set.</summary>
/// <remarks><see cref="MinInterval"/> at most <see cref="MaxSilence"/> is checked by <see cref="SignificanceGate"/>'s constructor.</remarks>
internal sealed record PublishSettings
{
    /// <summary>
    /// 0.10: publish when the reference request's cost moved by more than 10 %. Half the
    /// router's hysteresis band (<see cref="RoutingDefaults.HysteresisBand"/>, 20 %), so a move
    /// too small to publish cannot by itself make a router switch, while two nodes moving 10 %
    /// apart can; and twice <see cref="RoutingDefaults.SpreadTolerance"/> (5 %), the precision of
    /// a cost estimate, so measurement noise does not publish.
    /// </summary>
    public const double DefaultThreshold = 0.10;

    /// <summary>
    /// 0.0001 $ (a hundredth of a cent): the floor of the denominator of the relative change, the
    /// router's <see cref="RoutingDefaults.HysteresisEpsilonDollars"/>, so a nearly free reference
    /// cost (value of time and electricity configured to 0) does not publish on rounding.
    /// </summary>
    public static readonly double DefaultCostFloorDollars = RoutingDefaults.HysteresisEpsilonDollars;

    /// <summary>
    /// 1 s between publications. memberlist gossips every 200 ms, but its messages are small
    /// membership deltas; ours are whole factor snapshots, and the collector samples only once a
    /// second (<see cref="Collection.CollectionDefaults.SampleInterval"/>), so a faster rate would
    /// publish snapshots that did not exist. A held change waits at most 1 s, far inside the
    /// scorer's 15 s maximum age of load and the 5 s heartbeat.
    /// </summary>
    public static readonly TimeSpan DefaultMinInterval = TimeSpan.FromSeconds(1);

    /// <summary>5 s: the longest this node stays silent; a heartbeat goes out when nothing else did (the default; the liveness detectors of other nodes expect it, see <see cref="LivenessSettings.DefaultMaxSilence"/>).</summary>
    public static readonly TimeSpan DefaultMaxSilence = TimeSpan.FromSeconds(5);

    /// <summary>The largest threshold accepted: 10 (1,000 %); beyond it only categorical changes and heartbeats would publish.</summary>
    internal const double MaxThreshold = 10;

    /// <summary>Relative change of the reference cost, above which the node publishes (greater than 0, at most 10).</summary>
    public double Threshold
    {
        get;
        init => field = double.IsFinite(value) && value > 0 && value <= MaxThreshold
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Threshold), value,
                string.Create(CultureInfo.InvariantCulture, $"The threshold must be a fraction greater than 0 and at most {MaxThreshold}."));
    } = DefaultThreshold;

    /// <summary>The smallest denominator of the relative change, dollars (greater than 0, finite).</summary>
    public double CostFloorDollars
    {
        get;
        init => field = double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(CostFloorDollars), value, "The cost floor must be a finite amount greater than 0.");
    } = DefaultCostFloorDollars;

    /// <summary>The shortest time between two publications (0 or more, at most a day and at most <see cref="MaxSilence"/>).</summary>
    public TimeSpan MinInterval { get; init => field = GossipSettingsGuard.NonNegative(value, nameof(MinInterval)); } = DefaultMinInterval;

    /// <summary>The longest time without a publication: the heartbeat interval (greater than 0, at most a day).</summary>
    public TimeSpan MaxSilence { get; init => field = GossipSettingsGuard.Positive(value, nameof(MaxSilence)); } = DefaultMaxSilence;
}

/// <summary>
/// Decides when this node publishes its factors: on a significant change of what a peer would
/// pay to send it a reference request, on a categorical change, and as a heartbeat after the
/// maximum silence, never more often than the minimum interval.
/// </summary>
/// <remarks>
/// <para>
/// <b>Combined, not per factor.</b> A change is significant when the total cost
/// (<see cref="CostBreakdown.TotalDollars"/>) of <see cref="ReferenceRequest"/> on this node, as
/// a peer prices it (<see cref="CostCandidate.IsLocal"/> false, the real scorer), moved by more
/// than <see cref="PublishSettings.Threshold"/> relative to the last published snapshot, or the
/// node's exclusion for it changed (below the battery reserve, over budget). Small moves of
/// several factors in the same direction thus add up, and moves that cancel out do not publish.
/// </para>
/// <para>
/// <b>Against the last published snapshot</b>, not the last one seen, so slow drift accumulates
/// until it publishes. Each snapshot is priced at its own <see cref="NodeCostFactors.CapturedAt"/>,
/// as a peer receiving it at once would: the result depends on the snapshot alone, so
/// re-evaluating an unchanged snapshot later does not turn its aging into a change.
/// </para>
/// <para>
/// <b>Recording.</b> <see cref="Evaluate"/> records a publication itself whenever it returns a
/// reason other than <see cref="PublishReason.None"/>: the caller must then publish the snapshot
/// it passed. There is no separate "mark published" step to forget.
/// </para>
/// <para>
/// <b>Nothing lost to the rate limit.</b> A change inside <see cref="PublishSettings.MinInterval"/>
/// returns None and moves <see cref="NextDueAt"/> to the end of the interval; the caller keeps
/// its newest snapshot and evaluates it again then (or earlier, with a newer one). If the change
/// has meanwhile reverted (unplugged and plugged in again), nothing is published, because
/// nothing differs from what peers already have.
/// </para>
/// <para>
/// <b>Time</b> is the caller's <see cref="TimeProvider.GetUtcNow"/>. A clock stepped back before
/// the last publication counts as the maximum silence: the node publishes and starts afresh.
/// </para>
/// <para>Thread-safe (one lock); evaluation allocates nothing.</para>
/// </remarks>
internal sealed class SignificanceGate
{
    /// <summary>
    /// 500 prompt tokens: a chat turn with a short history or a RAG question with one retrieved
    /// passage; small enough that prefill does not dominate on a CPU node.
    /// </summary>
    public const int ReferenceInputTokens = 500;

    /// <summary>200 generated tokens: a paragraph answer, so decode time (where load and throttling act) is most of the compute time.</summary>
    public const int ReferenceOutputTokens = 200;

    /// <summary>4 KiB moved: the prompt and answer as JSON (about 4 bytes a token for 700 tokens, plus framing), so metered links price in.</summary>
    public const long ReferencePayloadBytes = 4 * 1024;

    /// <summary>The model id of the reference; the scorer prices throughput and size, not the name.</summary>
    public const string ReferenceModelId = "cost-reference";

    /// <summary>
    /// The yardstick request: <see cref="ReferenceInputTokens"/> in, <see cref="ReferenceOutputTokens"/>
    /// out, <see cref="ReferencePayloadBytes"/> moved, at <see cref="Urgency.Normal"/> urgency (the
    /// ordinary request, which is refused below the battery reserve, so crossing the reserve is
    /// significant; interactive requests would ignore it, background ones would weigh time too little).
    /// </summary>
    public static RequestProfile ReferenceRequest { get; } = new(ReferenceModelId)
    {
        InputTokens = ReferenceInputTokens,
        OutputTokens = ReferenceOutputTokens,
        PayloadBytes = ReferencePayloadBytes,
        Urgency = Urgency.Normal,
    };

    /// <summary>
    /// The yardstick model: an 8 B model at 4.5 bits (q4_K_M), one slot, at the scorer's
    /// throughput priors (<see cref="ScoringDefaults.PrefillTokensPerSecondPrior"/>,
    /// <see cref="ScoringDefaults.DecodeTokensPerSecondPrior"/>): fixed numbers, so the reference
    /// cost moves only with the node's factors, never with configuration or observed speeds.
    /// </summary>
    public static ServedModel ReferenceModel { get; } = new(ReferenceModelId)
    {
        ParameterBillions = 8,
        QuantizationBits = 4.5,
        PrefillTokensPerSecond = ScoringDefaults.PrefillTokensPerSecondPrior,
        DecodeTokensPerSecond = ScoringDefaults.DecodeTokensPerSecondPrior,
        ParallelSlots = 1,
    };

    private readonly Lock _gate = new();
    private readonly ICostScorer _scorer;

    private NodeCostFactors? _published;
    private CostBreakdown _publishedCost;
    private DateTimeOffset _publishedAt;

    // The last snapshot priced, so re-evaluating the same snapshot does not price it again.
    private NodeCostFactors? _scored;
    private CostBreakdown _scoredCost;

    /// <summary>Creates the gate; nothing is published yet, so the first evaluation publishes.</summary>
    /// <param name="scorer">The cost model peers use (the real <see cref="ICostScorer"/>).</param>
    /// <param name="settings">Threshold, rate limit and heartbeat.</param>
    /// <exception cref="ArgumentException"><see cref="PublishSettings.MinInterval"/> is longer than <see cref="PublishSettings.MaxSilence"/>.</exception>
    public SignificanceGate(ICostScorer scorer, PublishSettings settings)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MinInterval > settings.MaxSilence)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"MinInterval ({settings.MinInterval.TotalSeconds} s) must not be longer than MaxSilence ({settings.MaxSilence.TotalSeconds} s): the heartbeat would be rate-limited."),
                nameof(settings));
        }

        _scorer = scorer;
        Settings = settings;
    }

    /// <summary>The settings.</summary>
    public PublishSettings Settings { get; }

    /// <summary>
    /// When the caller should evaluate again even without a new snapshot: the end of the minimum
    /// interval while a change is held back, otherwise the heartbeat deadline.
    /// <see cref="DateTimeOffset.MinValue"/> (due at once) before the first publication.
    /// </summary>
    public DateTimeOffset NextDueAt
    {
        get
        {
            lock (_gate)
            {
                return field;
            }
        }

        private set;
    } = DateTimeOffset.MinValue;

    /// <summary>True while a change waits for the end of the minimum interval.</summary>
    public bool HasPendingChange
    {
        get
        {
            lock (_gate)
            {
                return field;
            }
        }

        private set;
    }

    /// <summary>The last snapshot published, or null before the first.</summary>
    public NodeCostFactors? Published
    {
        get
        {
            lock (_gate)
            {
                return _published;
            }
        }
    }

    /// <summary>When the last snapshot was published; <see cref="DateTimeOffset.MinValue"/> before the first.</summary>
    public DateTimeOffset PublishedAt
    {
        get
        {
            lock (_gate)
            {
                return _publishedAt;
            }
        }
    }

    /// <summary>Decides whether <paramref name="current"/> must be published now, and records it as published when it must.</summary>
    /// <param name="current">This node's newest snapshot.</param>
    /// <param name="now">Now, from the injected <see cref="TimeProvider"/>.</param>
    /// <returns>
    /// <see cref="PublishReason.None"/>, or why to publish: First, Categorical, Significant
    /// (in that order when several apply) or Heartbeat. When it is not None, <paramref name="current"/>
    /// is now the published snapshot and the caller must send it.
    /// </returns>
    public PublishReason Evaluate(NodeCostFactors current, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(current);
        lock (_gate)
        {
            CostBreakdown cost = Price(current);
            if (_published is not { } published
                || !string.Equals(published.NodeId, current.NodeId, StringComparison.Ordinal)
                || published.Generation != current.Generation)
            {
                return Record(current, cost, now, PublishReason.First);
            }

            PublishReason change = Categorical(published, current) ? PublishReason.Categorical
                : Significant(_publishedCost, cost) || ArrivalsMoved(published.Pending.ArrivalsPerSecond, current.Pending.ArrivalsPerSecond) ? PublishReason.Significant
                : PublishReason.None;

            TimeSpan elapsed = now - _publishedAt;
            bool clockStepped = elapsed < TimeSpan.Zero;
            if (change != PublishReason.None && (clockStepped || elapsed >= Settings.MinInterval))
            {
                return Record(current, cost, now, change);
            }

            if (clockStepped || elapsed >= Settings.MaxSilence)
            {
                return Record(current, cost, now, PublishReason.Heartbeat);
            }

            HasPendingChange = change != PublishReason.None;
            NextDueAt = _publishedAt + (HasPendingChange ? Settings.MinInterval : Settings.MaxSilence);
            return PublishReason.None;
        }
    }

    /// <summary>What a peer would pay to send <see cref="ReferenceRequest"/> to the node of <paramref name="factors"/>, priced at the snapshot's capture time.</summary>
    /// <param name="factors">A snapshot of this node.</param>
    /// <returns>The cost, term by term.</returns>
    public CostBreakdown ReferenceCost(NodeCostFactors factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        var candidate = new CostCandidate
        {
            TargetId = factors.NodeId,
            Model = ReferenceModel,
            Factors = factors,
            IsLocal = false,
        };
        return _scorer.Score(candidate, ReferenceRequest, factors.CapturedAt);
    }

    private CostBreakdown Price(NodeCostFactors current)
    {
        if (!ReferenceEquals(current, _scored))
        {
            _scoredCost = ReferenceCost(current);
            _scored = current;
        }

        return _scoredCost;
    }

    private PublishReason Record(NodeCostFactors current, CostBreakdown cost, DateTimeOffset now, PublishReason reason)
    {
        _published = current;
        _publishedCost = cost;
        _publishedAt = now;
        HasPendingChange = false;
        NextDueAt = now + Settings.MaxSilence;
        return reason;
    }

    private bool Significant(CostBreakdown published, CostBreakdown current)
    {
        if (published.Exclusion != current.Exclusion)
        {
            return true;
        }

        double before = published.TotalDollars;
        double change = Math.Abs(current.TotalDollars - before) / Math.Max(Math.Abs(before), Settings.CostFloorDollars);

        // A NaN total (never expected from the scorer) is treated as a change, not silently ignored.
        return !(change <= Settings.Threshold);
    }

    /// <summary>
    /// True when the node's arrival rate moved enough to move its price as peers see it: they
    /// extrapolate the queue with it over a snapshot's age (up to <see cref="PublishSettings.MaxSilence"/>),
    /// which the reference cost, priced at the snapshot's capture, does not show. Significant when it
    /// moved by more than the threshold relative to the published rate and by at least one request
    /// over the maximum silence (so a trickle's noise does not publish), or turned known or unknown.
    /// </summary>
    private bool ArrivalsMoved(Reading<double> published, Reading<double> current)
    {
        bool had = published.TryGetValue(out double before);
        bool has = current.TryGetValue(out double after);
        if (had != has)
        {
            return true;
        }

        if (!has)
        {
            return false;
        }

        double change = Math.Abs(after - before);
        return change * Settings.MaxSilence.TotalSeconds >= 1 && change > Settings.Threshold * before;
    }

    private static bool Categorical(NodeCostFactors published, NodeCostFactors current) =>
        Differs(published.Power.Source, current.Power.Source)
        || Differs(published.Power.ChargeState, current.Power.ChargeState)
        || Differs(published.Network.Metered, current.Network.Metered)
        || Differs(published.Thermal.Level, current.Thermal.Level);

    // Known versus unknown counts as a change; two readings without a value do not differ.
    private static bool Differs<T>(Reading<T> before, Reading<T> after)
        where T : struct
    {
        bool hadValue = before.TryGetValue(out T a);
        bool hasValue = after.TryGetValue(out T b);
        return hadValue != hasValue || (hasValue && !EqualityComparer<T>.Default.Equals(a, b));
    }
}
