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
            double decodeSeconds = Math.Max(o.LatencySeconds - info.OverheadSeconds, o.LatencySeconds * MinDecodeShareOfLatency);
            decode = o.OutputTokens / decodeSeconds;
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
