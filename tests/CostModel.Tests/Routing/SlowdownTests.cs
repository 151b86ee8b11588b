using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Tests.Routing;

/// <summary>Outcomes slower than predicted raise a target's price within a few requests, and it decays back.</summary>
public sealed class SlowdownTests
{
    private const double Frequency = 1_000; // timestamp ticks per second in these tests

    private static readonly Slowdown Defaults = Slowdown.From(new RoutingOptions(), Frequency);

    private static void Outcome(TargetState state, double observed, double predicted, double atSeconds) =>
        Defaults.Learn(state, new LeaseInfo(0, 0, default, predicted), new RouteOutcome(true, observed, 0), (long)(atSeconds * Frequency));

    [Fact]
    public void A_target_that_keeps_its_predictions_is_not_slowed()
    {
        var state = new TargetState("a");
        Outcome(state, observed: 1.9, predicted: 1, atSeconds: 0);
        Outcome(state, observed: 0.5, predicted: 1, atSeconds: 1);

        Assert.False(state.IsSlowed);
        Assert.Equal(1, state.SlowdownAt(1_000, Defaults.MemoryTicks));
    }

    [Fact]
    public void Four_times_slower_outcomes_price_the_target_up_within_a_few_requests()
    {
        var state = new TargetState("a");

        Outcome(state, observed: 4, predicted: 1, atSeconds: 0);
        double afterOne = state.SlowdownAt(0, Defaults.MemoryTicks);
        Outcome(state, observed: 4, predicted: 1, atSeconds: 0);
        double afterTwo = state.SlowdownAt(0, Defaults.MemoryTicks);
        Outcome(state, observed: 4, predicted: 1, atSeconds: 0);

        // The ratio less the tolerance of 1 (3), half per outcome: 2, 2.5, 2.75.
        Assert.Equal(2, afterOne, 9);
        Assert.Equal(2.5, afterTwo, 9);
        Assert.Equal(2.75, state.SlowdownAt(0, Defaults.MemoryTicks), 9);
    }

    [Fact]
    public void On_time_outcomes_bring_a_recovered_target_back_and_so_does_time()
    {
        var recovered = new TargetState("a");
        var idle = new TargetState("b");
        foreach (TargetState state in (TargetState[])[recovered, idle])
        {
            Outcome(state, observed: 4, predicted: 1, atSeconds: 0);
            Outcome(state, observed: 4, predicted: 1, atSeconds: 0);
        }

        for (int i = 0; i < 12; i++)
        {
            Outcome(recovered, observed: 1, predicted: 1, atSeconds: 0);
        }

        Assert.False(recovered.IsSlowed);
        Assert.Equal(1 + (1.5 * Math.Exp(-1)), idle.SlowdownAt((long)(30 * Frequency), Defaults.MemoryTicks), 9);
        Assert.True(idle.SlowdownAt((long)(150 * Frequency), Defaults.MemoryTicks) < 1.02);
    }

    [Fact]
    public void One_wild_outcome_counts_for_at_most_the_maximum_ratio_and_failures_not_at_all()
    {
        var state = new TargetState("a");
        Defaults.Learn(state, new LeaseInfo(0, 0, default, 1), new RouteOutcome(false, 500, 0), 0);
        Assert.False(state.IsSlowed);

        Outcome(state, observed: 1_000, predicted: 1, atSeconds: 0);

        Assert.Equal(1 + (RoutingDefaults.SlowdownWeight * (RoutingDefaults.MaxSlowdownRatio - 1)), state.SlowdownAt(0, Defaults.MemoryTicks), 9);
    }

    [Fact]
    public void Raised_by_outcomes_is_set_by_a_slowdown_or_a_failure_and_cleared_with_the_slowdown()
    {
        var slowed = new TargetState("a");
        var failed = new TargetState("b");
        Assert.False(slowed.RaisedByOutcomes);

        Outcome(slowed, observed: 4, predicted: 1, atSeconds: 0);
        failed.Learn(new RouteOutcome(false, 1, 0), 0, 0, Frequency, Frequency, failureThreshold: 5);
        Assert.True(slowed.RaisedByOutcomes);
        Assert.True(failed.RaisedByOutcomes);
        Assert.False(failed.IsSlowed);

        for (int i = 0; i < 12; i++)
        {
            Outcome(slowed, observed: 1, predicted: 1, atSeconds: 0);
        }

        Assert.False(slowed.IsSlowed);
        Assert.False(slowed.RaisedByOutcomes);
    }

    [Fact]
    public void A_weight_of_zero_turns_detection_off()
    {
        Slowdown off = Slowdown.From(new RoutingOptions { SlowdownWeight = 0 }, Frequency);
        var state = new TargetState("a");

        off.Learn(state, new LeaseInfo(0, 0, default, 1), new RouteOutcome(true, 10, 0), 0);

        Assert.False(state.IsSlowed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_router_moves_off_a_node_that_turned_slow_within_three_outcomes_and_returns_once_it_recovers(bool explain)
    {
        using var f = new RouterFixture();
        f.Add(f.Node("a", cpu: 0.1), f.Node("b", cpu: 0.6));
        RouteExplanation? explanation = explain ? new RouteExplanation() : null;
        var request = RouterFixture.Request();

        // Each outcome of a takes four times its prediction; no tokens are reported, so only the
        // latency ratio speaks (the learned decode speed would otherwise react too).
        int slowOutcomes = 0;
        RouteDecision d = f.Router.Route(request, explanation);
        while (d.TargetId == "a" && slowOutcomes < 10)
        {
            d.Lease.Complete(new RouteOutcome(true, 4 * d.Cost.LatencySeconds, 0));
            slowOutcomes++;
            f.Time.Advance(TimeSpan.FromSeconds(1));
            d = f.Router.Route(request, explanation);
        }

        Assert.Equal("b", d.TargetId);
        Assert.InRange(slowOutcomes, 1, 3);
        d.Lease.Complete(new RouteOutcome(true, d.Cost.LatencySeconds, 0));

        // Without further outcomes the slowdown fades: a is tried again within a few memory times.
        f.Time.Advance(4 * RoutingDefaults.SlowdownMemory);
        f.Add(f.Node("a", cpu: 0.1, version: 2), f.Node("b", cpu: 0.6, version: 2)); // fresh reports, as before
        Assert.Equal("a", f.Router.Route(request, explanation).TargetId);
    }
}
