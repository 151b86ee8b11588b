using CostModel.Telemetry;

namespace CostModel.Routing;

/// <summary>
/// What the router learns when a lease completes with an outcome (the <see cref="LeaseTable"/>'s
/// completion callback): the decode speed the outcome showed, its latency against the prediction
/// (<see cref="Slowdown"/>), failures, and ejection after consecutive failures (bounded to a share of
/// the targets). A lease released without an outcome (disposed, expired) teaches nothing, and the
/// lease table does not call this for it; the money is the lease table's (it settles the request's
/// spend reservation).
/// </summary>
internal sealed class OutcomeLearner(TargetTable targets, TimeProvider time, CostModelMetrics metrics, Func<RouterSettings> settings)
{
    /// <summary>
    /// 0.05: decode speed is learned only from the part of the latency not predicted as network
    /// and prefill; at least this share of the latency is attributed to decode.
    /// </summary>
    internal const double MinDecodeShareOfLatency = 0.05;

    /// <summary>
    /// 1 (plus a millionth for rounding): decode speed is learned only from an outcome priced with no
    /// work ahead (the wait stretch of <see cref="PricedService.Split"/>: a free slot). Its latency is then its own
    /// service, slowed only by the contention and throttling the price counted, which are divided
    /// out. The rule before (any outcome priced within 1.5x of its service time, every stretch divided
    /// out) learned a wait that was priced but did not happen as fast decoding: in near-equal-nodes
    /// (seed 3) a desktop advertising 30 tokens/s was learned at 42 from outcomes priced behind half a
    /// slot of work, then priced 9.9 s for requests that took 12.7 s, and three conversations moved
    /// to it (docs/routing.md, "Why conversations moved").
    /// </summary>
    internal const double MaxLearningWait = 1.000001;

    /// <summary>
    /// 0.3: one outcome moves the learned decode speed by at most this share of the way to its
    /// sample, however long since the last one (the time-decayed weight, 1 - exp(-dt / OutcomeDecay),
    /// is otherwise near 1 after a quiet spell). An outcome's latency also holds waits no router can
    /// see (another router's request reaching the node first), so one sample must not replace what
    /// several showed: three outcomes move it about two thirds of the way (1 - 0.7^3), six about
    /// nine tenths. Measured with 0.3 only, no sweep (simulator, seeds 1 to 6, docs/routing.md).
    /// The first outcome is taken whole (there is nothing to average with).
    /// </summary>
    internal const double MaxDecodeSampleWeight = 0.3;

    /// <summary>
    /// 0.1: decode speed is learned from an outcome whose network time was priced on the bandwidth
    /// prior (<see cref="LeaseInfo.NetworkFromPrior"/>) only when that guess is at most this share of
    /// the predicted latency. The prior is pessimistic by design (10 Mbit/s, 100 ms), so the guess
    /// can exceed the real transfer by nearly all of it, and what it over-counts as network is
    /// learned as fast decoding. With the simulator's default payloads (2 to 20 kB) the guess is
    /// about 0.1 s of requests taking seconds (1 to 2 %), and decode speed is learned as before; in
    /// tethered-laptop (0.5 to 8 MB) a router's first request to the desktop was priced 3.9 s of
    /// network that took 0.4 s, and the 3.5 s left over taught 69 tokens/s for a 30 tokens/s node,
    /// priced 2.9 s for 4.3 s afterwards (seed 3; docs/routing.md, "Leases and outcomes"). The next
    /// outcome, priced with the transfer the host reported, teaches it.
    /// </summary>
    internal const double MaxPriorNetworkShare = 0.1;

    /// <summary>Learns from a lease completed with an outcome (called by the lease table, outside its gate).</summary>
    public void OnCompleted(TargetState target, LeaseInfo info, RouteOutcome o)
    {
        RouterSettings current = settings();
        long stamp = time.GetTimestamp();
        double decode = 0;
        if (o.Succeeded && o.OutputTokens > 0 && o.LatencySeconds > 0)
        {
            // Only an outcome priced with no work ahead speaks of the decoder: behind priced work its
            // latency is mostly a wait that may or may not have happened. And only one within the
            // slowdown's noise: a larger excess is the slowdown's to price, and learned as decode speed
            // too it would be priced twice. Except on the prior: a target that reports no decode speed
            // has no other evidence of it, and a slow one (a CPU-only box at a tenth of the prior) would
            // otherwise be priced at most MaxSlowdownRatio above the prior for ever. And only one whose
            // network time was measured, or guessed as a small part of it: a large transfer priced on
            // the bandwidth prior leaves a remainder that is not the service. Its compute time
            // over the contention and throttling the price counted (the service stretch) is its own service;
            // less its prefill, its decode.
            info.Priced.Split(out double waitStretch, out double serviceStretch);
            if (waitStretch <= MaxLearningWait && NetworkKnown(in info)
                && (info.DecodeFromPrior || !current.Slowdown.Beyond(o.LatencySeconds, info.PredictedSeconds)))
            {
                double service = Math.Max(0, o.LatencySeconds - info.NetworkSeconds) / Math.Max(1, serviceStretch);
                double decodeSeconds = Math.Max(service - (info.OverheadSeconds - info.NetworkSeconds), service * MinDecodeShareOfLatency);
                decode = o.OutputTokens / decodeSeconds;
            }
        }

        // A target that left has nothing more to learn (and is not ejected); its spend was settled by the lease table.
        if (target.IsForgotten)
        {
            return;
        }

        current.Slowdown.Learn(target, in info, in o, stamp);

        if (target.Learn(in o, decode, stamp, current.OutcomeDecayTicks, current.FailureMemoryTicks, current.Options.EjectionConsecutiveFailures, MaxDecodeSampleWeight))
        {
            TryEject(target, stamp, current);
        }
    }

    /// <summary>True when the lease's predicted network time is measured, or a guess too small to matter (<see cref="MaxPriorNetworkShare"/>).</summary>
    private static bool NetworkKnown(in LeaseInfo info) =>
        !info.NetworkFromPrior || info.NetworkSeconds <= MaxPriorNetworkShare * info.PredictedSeconds;

    /// <summary>Ejects <paramref name="target"/> for a time growing with its ejections, unless that would eject more than the allowed share of targets (or all but one).</summary>
    private void TryEject(TargetState target, long stamp, RouterSettings current)
    {
        int total = targets.Count;
        int ejected = targets.CountEjected(stamp);
        int allowed = Math.Max(1, (int)Math.Floor(total * current.Options.MaxEjectedShare));
        if (ejected >= allowed || ejected >= total - 1)
        {
            metrics.EjectionRefused();
            return;
        }

        long duration = (long)(current.Options.EjectionBaseTime.TotalSeconds * (target.TimesEjected + 1) * time.TimestampFrequency);
        target.Eject(stamp + duration);
        metrics.Ejected(target.TargetId);
    }
}
