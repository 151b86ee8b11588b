using CostModel.Telemetry;

namespace CostModel.Routing;

/// <summary>
/// What the router learns when a lease ends (the <see cref="LeaseTable"/>'s release callback): the
/// decode speed the outcome showed, its latency against the prediction (<see cref="Slowdown"/>),
/// failures, and ejection after consecutive failures (bounded to a share of the targets). A lease
/// released without an outcome (disposed, expired) teaches nothing; the money is the lease
/// table's (it settles the request's spend reservation).
/// </summary>
internal sealed class OutcomeLearner(TargetTable targets, TimeProvider time, CostModelMetrics metrics, Func<RouterSettings> settings)
{
    /// <summary>
    /// 0.05: decode speed is learned only from the part of the latency not predicted as network
    /// and prefill; at least this share of the latency is attributed to decode.
    /// </summary>
    internal const double MinDecodeShareOfLatency = 0.05;

    /// <summary>
    /// 1.5: decode speed is learned only from an outcome whose predicted compute time was at most
    /// this multiple of its service time (work ahead, contention, throttling). Behind a longer wait
    /// the latency is mostly the wait, and a queue learned as a slow decoder was priced twice (its
    /// wait by the queue term, again through the speed): the price noise that moved conversations
    /// off their KV cache. 1.5 keeps learning on a node up to a third busy with other work. In the
    /// simulator's built-in scenarios (seeds 1 to 3, with the slowdown's noise bound below) the
    /// router flapped 68 times against 97 when every outcome's stretch was divided out and 146 when
    /// none was, with lower totals (docs/routing.md, "Why conversations moved").
    /// </summary>
    internal const double MaxLearningStretch = 1.5;

    /// <summary>Learns from a released lease (called by the lease table, outside its lock).</summary>
    public void OnReleased(TargetState target, LeaseInfo info, RouteOutcome? outcome)
    {
        if (outcome is not { } o)
        {
            return;
        }

        RouterSettings current = settings();
        long stamp = time.GetTimestamp();
        double decode = 0;
        if (o.Succeeded && o.OutputTokens > 0 && o.LatencySeconds > 0)
        {
            // Only an outcome priced to start at once on a mostly free processor speaks of the decoder
            // (behind a queue its latency is mostly the wait), and only one within the slowdown's noise:
            // a larger excess is the slowdown's to price, and learned as decode speed too it would be
            // priced twice. Except on the prior: a target that reports no decode speed has no other
            // evidence of it, and a slow one (a CPU-only box at a tenth of the prior) would otherwise
            // be priced at most MaxSlowdownRatio above the prior for ever. Its compute time over the
            // contention and throttling the price counted (Stretch) is its own service; less its
            // prefill, its decode.
            if (info.Stretch <= MaxLearningStretch && (info.DecodeFromPrior || !current.Slowdown.Beyond(o.LatencySeconds, info.PredictedSeconds)))
            {
                double service = Math.Max(0, o.LatencySeconds - info.NetworkSeconds) / Math.Max(1, info.Stretch);
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

        if (target.Learn(in o, decode, stamp, current.OutcomeDecayTicks, current.FailureMemoryTicks, current.Options.EjectionConsecutiveFailures))
        {
            TryEject(target, stamp, current);
        }
    }

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
