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

    public int InFlight => Volatile.Read(ref _inFlight);

    // Outcome state, guarded by _gate.
    public double DecodeTokensPerSecond { get; private set; }

    /// <summary>The inverse of <see cref="DecodeTokensPerSecond"/> (0 until observed), kept beside it so the fast path does not divide per candidate.</summary>
    public double DecodeSecondsPerToken { get; private set; }

    private double _failureRate;

    /// <summary>
    /// The failure rate decayed to <paramref name="now"/>: without new outcomes it fades with the
    /// decay time, so a node that failed once is retried later instead of being starved forever.
    /// </summary>
    /// <remarks>Lock-free: the router reads it for every candidate; the two fields are written under the lock and a
    /// reader that sees one new and one old value is off by at most one outcome's weight.</remarks>
    public double FailureRateAt(long now, double decayTicks)
    {
        double rate = Volatile.Read(ref _failureRate);
        long last = Volatile.Read(ref _lastOutcome);
        return rate <= 0 || last == long.MinValue ? 0 : rate * Math.Exp(-Math.Max(0, now - last) / decayTicks);
    }

    public int ConsecutiveFailures { get; private set; }

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
    /// True while the failure rate is above zero (from a failed outcome until successes bring it back
    /// to zero). When false, <see cref="FailureRateAt"/> is zero at any instant, so the router's fast
    /// path skips it (and its exponential) for targets that never failed.
    /// </summary>
    public bool HasFailures => Volatile.Read(ref _failureRate) > 0;

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
    public bool Learn(in RouteOutcome outcome, double decodeSample, long now, double decayTicks, int failureThreshold)
    {
        lock (_gate)
        {
            // Time-decayed EWMA (Finagle/linkerd style): weight 1 - exp(-dt / tau).
            double weight = _lastOutcome == long.MinValue ? 1 : 1 - Math.Exp(-(now - _lastOutcome) / decayTicks);
            double rate = FailureRateAt(now, decayTicks);
            Volatile.Write(ref _failureRate, rate + (weight * ((outcome.Succeeded ? 0 : 1) - rate)));
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
