using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>What this router knows about one target beyond its factors: work it placed there and what came back.</summary>
internal sealed class TargetState(string targetId)
{
    private readonly Lock _gate = new();
    private long _lastOutcome = long.MinValue;
    private long _ejectedUntil = long.MinValue;
    private int _inFlight;
    private int _placedSinceVersion;
    private long _lastVersion = -1;
    private long _lastGeneration = -1;

    public string TargetId { get; } = targetId;

    /// <summary>
    /// True once the router forgot this target (it left the view or the configuration): its leases
    /// still complete and release here, but nothing more is learned, and a target of the same id
    /// that comes back gets a new state.
    /// </summary>
    public bool IsForgotten => Volatile.Read(ref _forgotten);

    /// <summary>The id of the router's view cache that last listed this target (read and written under the router's cache lock).</summary>
    public long ListedInView { get; set; } = -1;

    private bool _forgotten;

    /// <summary>Marks the state forgotten; the router calls it when it removes the state from its table.</summary>
    public void Forget() => Volatile.Write(ref _forgotten, true);

    public int InFlight => Volatile.Read(ref _inFlight);

    // Outcome state, guarded by _gate.
    public double DecodeTokensPerSecond { get; private set; }

    /// <summary>The inverse of <see cref="DecodeTokensPerSecond"/> (0 until observed), kept beside it so the fast path does not divide per candidate.</summary>
    public double DecodeSecondsPerToken { get; private set; }

    // One success assumed before any outcome, so a single failure reads as 0.5, not as certain failure.
    private const double PriorSuccesses = 1;

    // Failures and successes, each faded to the time of the last outcome.
    private double _failures;
    private double _successes;

    /// <summary>
    /// The share of recent outcomes that failed, at <paramref name="now"/>: failures / (failures +
    /// successes + one assumed success), both counts fading with <paramref name="memoryTicks"/>; or,
    /// when more, the current run of consecutive failures c as c / (c + one assumed success), faded
    /// alike. The run is what a node that turned bad shows first: its earlier successes held one
    /// failure down to a fifth or so of the rate, so a node failing every request in 5 ms while
    /// gossiping as idle stayed the cheapest for a minute (crash-and-fail-fast: 7 to 10 requests a
    /// seed sent to it; docs/routing.md, "Failures after a silent crash"). With the run, one failure
    /// prices it at twice its cost, two at three times. Without new outcomes both fade, so a node
    /// that failed is retried later instead of being starved forever; while requests keep failing
    /// it climbs towards 1.
    /// </summary>
    public double FailureRateAt(long now, double memoryTicks)
    {
        double failures = Volatile.Read(ref _failures);
        if (failures <= 0)
        {
            return 0;
        }

        double successes = Volatile.Read(ref _successes);
        double fade = Math.Exp(-Math.Max(0, now - Volatile.Read(ref _lastOutcome)) / memoryTicks);
        double rate = failures * fade / (((failures + successes) * fade) + PriorSuccesses);
        double run = Volatile.Read(ref _consecutiveFailures) * fade;
        double streak = run / (run + PriorSuccesses);
        return streak > rate ? streak : rate;
    }

    // The failures since the last success or ejection (written under _gate, read lock-free by FailureRateAt).
    private int _consecutiveFailures;

    public int ConsecutiveFailures
    {
        get => Volatile.Read(ref _consecutiveFailures);
        private set => Volatile.Write(ref _consecutiveFailures, value);
    }

    // The slowdown: an average, weighted per outcome, of how much slower than predicted the target's
    // successful requests were (observed / predicted latency, less the tolerance, at least 1), and
    // when it was last learned; its excess over 1 fades with time (under _gate for writes).
    private double _slowdown = 1;
    private long _lastSlowdown = long.MinValue;

    /// <summary>
    /// True once an outcome was slower than predicted past the tolerance: the router's fast path
    /// looks at <see cref="SlowdownAt"/> only for these targets (most never are).
    /// </summary>
    public bool IsSlowed => Volatile.Read(ref _slowdown) > 1;

    /// <summary>
    /// How many times slower than predicted this target's requests are expected to be at
    /// <paramref name="now"/>: 1 for a target that keeps its predictions; above 1 after outcomes
    /// slower than predicted, the excess fading with <paramref name="memoryTicks"/> without new
    /// outcomes, so a node priced away is tried again later instead of being starved forever.
    /// </summary>
    /// <remarks>Lock-free, as <see cref="FailureRateAt"/>: a reader that sees one new and one old value is off by one outcome's weight.</remarks>
    public double SlowdownAt(long now, double memoryTicks)
    {
        double slowdown = Volatile.Read(ref _slowdown);
        if (slowdown <= 1)
        {
            return 1;
        }

        return 1 + ((slowdown - 1) * Math.Exp(-Math.Max(0, now - Volatile.Read(ref _lastSlowdown)) / memoryTicks));
    }

    /// <summary>
    /// Learns how a successful request's latency compared with its prediction: the ratio, less
    /// <paramref name="tolerance"/> (prediction noise) and at most <paramref name="maxRatio"/>, joins
    /// the faded average with <paramref name="weight"/>. Outcomes as fast as predicted (or faster)
    /// pull it back to 1 at the same pace, so a node that recovers is priced as before within a few
    /// requests.
    /// </summary>
    /// <param name="observedSeconds">The request's latency.</param>
    /// <param name="predictedSeconds">The latency predicted when it was placed (0 or less: nothing is learned).</param>
    /// <param name="now">The outcome's time, in timestamp ticks.</param>
    /// <param name="memoryTicks">Fading time of the excess, in timestamp ticks.</param>
    /// <param name="weight">The weight of one outcome, 0 to 1.</param>
    /// <param name="tolerance">The part of the ratio above 1 taken as prediction noise.</param>
    /// <param name="maxRatio">The largest ratio one outcome counts for.</param>
    public void LearnLatency(double observedSeconds, double predictedSeconds, long now, double memoryTicks, double weight, double tolerance, double maxRatio)
    {
        if (!(predictedSeconds > 0) || !(observedSeconds >= 0) || !double.IsFinite(observedSeconds))
        {
            return;
        }

        double sample = Math.Clamp((observedSeconds / predictedSeconds) - tolerance, 1, Math.Max(1, maxRatio));
        lock (_gate)
        {
            // Nothing to learn from a target that keeps its predictions: the common case stays lock-light.
            if (_slowdown <= 1 && sample <= 1)
            {
                return;
            }

            double current = SlowdownAt(now, memoryTicks);
            double next = current + (weight * (sample - current));

            // Within a thousandth of 1 is 1: the router's fast path then skips this target again.
            Volatile.Write(ref _slowdown, next < 1.001 ? 1 : next);
            Volatile.Write(ref _lastSlowdown, now);
            Volatile.Write(ref _raisedByOutcomes, _failures > 0 || _slowdown > 1);
        }
    }

    public int TimesEjected { get; private set; }

    public bool IsEjected(long now) => Volatile.Read(ref _ejectedUntil) > now;

    /// <summary>
    /// Requests placed since the node's snapshot of this (generation, version) was seen and still
    /// open; resets when a newer snapshot arrives. Placements that completed are no longer load, so
    /// the count is at most the in-flight count (a conversation's previous turn, finished, must not
    /// make its own node look busy until the next snapshot).
    /// </summary>
    public int PlacedSince(long generation, long version)
    {
        See(generation, version);
        return PlacedSinceSeen;
    }

    /// <summary>
    /// Records that the node's snapshot of this (generation, version) was seen: the count of work
    /// placed since then starts again at zero when it differs from the last one seen. The router's
    /// fast path calls it for every node when it prepares a view, and then reads
    /// <see cref="PlacedSinceSeen"/> per decision.
    /// </summary>
    public void See(long generation, long version)
    {
        if (Volatile.Read(ref _lastVersion) != version || Volatile.Read(ref _lastGeneration) != generation)
        {
            lock (_gate)
            {
                if (_lastVersion != version || _lastGeneration != generation)
                {
                    _lastVersion = version;
                    _lastGeneration = generation;
                    Volatile.Write(ref _placedSinceVersion, 0);
                }
            }
        }
    }

    /// <summary>The requests placed since the last snapshot <see cref="See"/> recorded and still open.</summary>
    public int PlacedSinceSeen => Math.Min(Volatile.Read(ref _placedSinceVersion), Volatile.Read(ref _inFlight));

    /// <summary>
    /// True once an outcome has failed: the faded failure count never returns to exactly zero. When
    /// false, <see cref="FailureRateAt"/> is zero at any instant, so the router's fast path skips it
    /// (and its exponential) for targets that never failed.
    /// </summary>
    public bool HasFailures => Volatile.Read(ref _failures) > 0;

    // HasFailures || IsSlowed, written under _gate with either of them: the fast path reads this one
    // field per candidate instead of those two (the slowdown lies on another cache line than the
    // rest the loop reads; benchmarks/README.md, "Router, sixth round").
    private bool _raisedByOutcomes;

    /// <summary>
    /// True when <see cref="HasFailures"/> or <see cref="IsSlowed"/>: outcomes raised this target's
    /// price (the expected cost of retries, the slowdown), and the router's fast path finishes its
    /// pricing after the loop. Most targets are neither.
    /// </summary>
    public bool RaisedByOutcomes => Volatile.Read(ref _raisedByOutcomes);

    public void Placed()
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _placedSinceVersion);
    }

    public void Released()
    {
        // Never below zero, whatever the interleaving.
        int current;
        do
        {
            current = Volatile.Read(ref _inFlight);
            if (current <= 0)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _inFlight, current - 1, current) != current);
    }

    /// <summary>Learns from an outcome. Returns true when the failure crossed the ejection threshold.</summary>
    /// <param name="outcome">The outcome.</param>
    /// <param name="decodeSample">Decode speed it showed, tokens per second; 0 for none.</param>
    /// <param name="now">Its time, in timestamp ticks.</param>
    /// <param name="decayTicks">Decay time of the decode-speed average, in timestamp ticks.</param>
    /// <param name="memoryTicks">Fading time of the failure and success counts, in timestamp ticks.</param>
    /// <param name="failureThreshold">Consecutive failures that call for ejection.</param>
    /// <param name="maxSampleWeight">The most weight one decode sample gets in the average (the first is taken whole).</param>
    public bool Learn(in RouteOutcome outcome, double decodeSample, long now, double decayTicks, double memoryTicks, int failureThreshold, double maxSampleWeight = 1)
    {
        lock (_gate)
        {
            // Decode speed: a time-decayed EWMA (Finagle/linkerd style), weight 1 - exp(-dt / tau), at
            // most maxSampleWeight: after a quiet spell one sample would otherwise replace the average.
            bool first = _lastOutcome == long.MinValue;
            double weight = first ? 1 : Math.Min(maxSampleWeight, 1 - Math.Exp(-(now - _lastOutcome) / decayTicks));

            // Failure rate: both counts fade to now, then this outcome adds one.
            double fade = first ? 0 : Math.Exp(-Math.Max(0, now - _lastOutcome) / memoryTicks);
            Volatile.Write(ref _failures, (_failures * fade) + (outcome.Succeeded ? 0 : 1));
            Volatile.Write(ref _raisedByOutcomes, _failures > 0 || _slowdown > 1);
            Volatile.Write(ref _successes, (_successes * fade) + (outcome.Succeeded ? 1 : 0));
            Volatile.Write(ref _lastOutcome, now);
            if (outcome.Succeeded)
            {
                ConsecutiveFailures = 0;
                if (decodeSample > 0)
                {
                    DecodeTokensPerSecond = DecodeTokensPerSecond <= 0 ? decodeSample : DecodeTokensPerSecond + (weight * (decodeSample - DecodeTokensPerSecond));
                    DecodeSecondsPerToken = DefaultCostScorer.SecondsPer(DecodeTokensPerSecond);
                }

                return false;
            }

            ConsecutiveFailures++;
            return ConsecutiveFailures >= failureThreshold;
        }
    }

    // The node terms last prepared for this target, from what and for when; read and written only under the router's cache lock.
    private NodeCostFactors? _preparedFactors;
    private ScoringOptions? _preparedOptions;
    private NodeTerms _preparedTerms;
    private long _preparedAtUtcTicks;
    private long _preparedUntilUtcTicks;

    /// <summary>
    /// The node's terms for <paramref name="factors"/> at <paramref name="now"/>: the ones prepared
    /// before when the snapshot and options are the same and they still hold, otherwise prepared again;
    /// with the span they hold for. Call under the router's cache lock.
    /// </summary>
    public NodeTerms Prepare(NodeCostFactors factors, ScoringOptions options, DateTimeOffset now, out long fromUtcTicks, out long untilUtcTicks)
    {
        long ticks = now.UtcTicks;
        if (!ReferenceEquals(_preparedFactors, factors) || !ReferenceEquals(_preparedOptions, options)
            || ticks < _preparedAtUtcTicks || ticks > _preparedUntilUtcTicks)
        {
            _preparedTerms = DefaultCostScorer.Prepare(TargetId, factors, now, options, out _preparedUntilUtcTicks);
            _preparedAtUtcTicks = ticks;
            _preparedFactors = factors;
            _preparedOptions = options;
        }

        fromUtcTicks = _preparedAtUtcTicks;
        untilUtcTicks = _preparedUntilUtcTicks;
        return _preparedTerms;
    }

    public void Eject(long until)
    {
        lock (_gate)
        {
            TimesEjected++;
            ConsecutiveFailures = 0;
            Volatile.Write(ref _ejectedUntil, until);
        }
    }
}
