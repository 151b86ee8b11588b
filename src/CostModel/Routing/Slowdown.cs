using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// Fast slowdown detection (docs/routing.md, "Slowdown detection"): a target whose requests take
/// longer than predicted is priced for the latency it shows, within a few outcomes, as outlier
/// detection does for errors; the excess fades when it keeps its predictions again or gets no
/// requests. The router's options in the units <see cref="TargetState"/> works in.
/// </summary>
/// <param name="MemoryTicks">Fading time of the excess, in timestamp ticks (<see cref="RoutingOptions.SlowdownMemory"/>).</param>
/// <param name="Weight">The weight of one outcome (<see cref="RoutingOptions.SlowdownWeight"/>).</param>
/// <param name="Tolerance">The part of observed / predicted taken as noise (<see cref="RoutingOptions.SlowdownTolerance"/>).</param>
/// <param name="MaxRatio">The largest ratio one outcome counts for (<see cref="RoutingOptions.MaxSlowdownRatio"/>).</param>
internal readonly record struct Slowdown(double MemoryTicks, double Weight, double Tolerance, double MaxRatio)
{
    /// <summary>The options in timestamp ticks of a clock ticking <paramref name="timestampFrequency"/> times a second.</summary>
    public static Slowdown From(RoutingOptions options, double timestampFrequency) =>
        new(options.SlowdownMemory.TotalSeconds * timestampFrequency, options.SlowdownWeight, options.SlowdownTolerance, options.MaxSlowdownRatio);

    /// <summary>
    /// What the target's slowdown adds to a candidate's price at <paramref name="now"/>: the latency
    /// beyond the prediction that its recent requests showed, at the request's value of time
    /// ((slowdown - 1) x predicted latency x value of time); 0 for a target that keeps its predictions.
    /// </summary>
    public double ExtraDollars(TargetState state, in CostBreakdown cost, long now) =>
        state.IsSlowed ? (state.SlowdownAt(now, MemoryTicks) - 1) * cost.LatencySeconds * cost.ValueOfTimeDollarsPerSecond : 0;

    /// <summary>
    /// True when <paramref name="observedSeconds"/> is slower than <paramref name="predictedSeconds"/>
    /// by more than the noise (observed / predicted above 1 + <see cref="Tolerance"/>): an excess the
    /// slowdown prices, so decode speed is not learned from it (<see cref="OutcomeLearner"/>). False without a prediction.
    /// </summary>
    public bool Beyond(double observedSeconds, double predictedSeconds) =>
        predictedSeconds > 0 && observedSeconds > predictedSeconds * (1 + Tolerance);

    /// <summary>Learns from a completed request: its latency against the one predicted when it was placed (successes only: failures have their own rate).</summary>
    public void Learn(TargetState state, in LeaseInfo info, in RouteOutcome outcome, long now)
    {
        if (outcome.Succeeded)
        {
            state.LearnLatency(outcome.LatencySeconds, info.PredictedSeconds, now, MemoryTicks, Weight, Tolerance, MaxRatio);
        }
    }
}
