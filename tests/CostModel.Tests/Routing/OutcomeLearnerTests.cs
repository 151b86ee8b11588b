using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>What a released lease teaches, alone: decode speed, failures and ejection (the spend is the lease table's: SpendReservationRouterTests).</summary>
public sealed class OutcomeLearnerTests : IDisposable
{
    private readonly RouterFixture _f = new();
    private readonly TargetTable _targets = new();
    private readonly RoutingOptions _options = new() { EjectionConsecutiveFailures = 3, MaxEjectedShare = 0.5 };

    public void Dispose() => _f.Dispose();

    [Fact]
    public void A_success_teaches_the_decode_speed_of_the_time_not_predicted_as_overhead()
    {
        TargetState target = _targets.ForNode("a", 0);

        // 10 s, 2 s of it predicted as network and prefill: 200 tokens in 8 s.
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default), new RouteOutcome(true, 10, 200));

        Assert.Equal(25, target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void The_contention_the_price_counted_is_not_learned_as_slow_decoding()
    {
        TargetState target = _targets.ForNode("a", 0);

        // Priced at 1.25x its service (a processor a fifth busy): 0.5 s network, then 1.25 x (1.5 s prefill + 8 s decode).
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 12.375, NetworkSeconds: 0.5, Priced: new PricedService(ComputeSeconds: 1.25, ServiceSeconds: 1, QueueStepDollars: 1.25, ValueOfTimeDollarsPerSecond: 1)), new RouteOutcome(true, 12.375, 200));

        // 200 tokens in 8 s; counting the contention as decoding would have learned 200 / 10.375 s.
        Assert.Equal(25, target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void An_outcome_priced_behind_a_queue_teaches_no_decode_speed()
    {
        TargetState target = _targets.ForNode("a", 0);

        // Priced at 3x its 10 s of service (two requests ahead); it took a third longer, within the noise.
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 30, Priced: new PricedService(ComputeSeconds: 3, ServiceSeconds: 1)), new RouteOutcome(true, 40, 200));

        Assert.Equal(0, target.DecodeTokensPerSecond);
    }

    [Fact]
    public void An_outcome_priced_behind_half_a_slot_of_work_teaches_no_decode_speed()
    {
        TargetState target = _targets.ForNode("a", 0);

        // Priced at 1.5x its 10 s of service (two slots, one request queued ahead); it took 10 s: the
        // wait did not happen. Dividing the wait out would learn 200 tokens in 4.7 s, not in 8 s.
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 15, Priced: new PricedService(ComputeSeconds: 1.5, ServiceSeconds: 1)), new RouteOutcome(true, 10, 200));

        Assert.Equal(0, target.DecodeTokensPerSecond);
    }

    [Fact]
    public void One_outcome_after_a_quiet_spell_moves_the_decode_speed_only_part_of_the_way()
    {
        TargetState target = _targets.ForNode("a", 0);
        OutcomeLearner learner = Learner();

        // 200 tokens in 8 s (25 a second), then a minute later 200 in 16 s (12.5 a second, within the noise of its 10 s prediction).
        learner.OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 10), new RouteOutcome(true, 10, 200));
        _f.Time.Advance(TimeSpan.FromMinutes(1));
        learner.OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 10), new RouteOutcome(true, 18, 200));

        // The time-decayed weight alone (1 - exp(-60 s / 10 s)) would have moved it to about 12.5.
        Assert.Equal(25 + (OutcomeLearner.MaxDecodeSampleWeight * (12.5 - 25)), target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void A_wait_priced_and_not_waited_is_not_learned_as_fast_decoding_through_the_router()
    {
        // Two slots, nothing else running: the third request this router places waits behind half a slot.
        _f.Add(_f.Node("a", cpu: 0, slots: 2));
        RouteDecision first = _f.Router.Route(RouterFixture.Request());
        RouteDecision second = _f.Router.Route(RouterFixture.Request());
        RouteDecision third = _f.Router.Route(RouterFixture.Request());
        first.Lease.Dispose();
        second.Lease.Dispose();

        // It took as long as a request on a free slot: the queue it was priced behind was gone.
        third.Lease.Complete(new RouteOutcome(true, first.Cost.LatencySeconds, 200));
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        RouteDecision fourth = _f.Router.Route(RouterFixture.Request());

        Assert.Equal(1.5 * first.Cost.ComputeLatencySeconds, third.Cost.ComputeLatencySeconds, 6);
        Assert.Equal(first.Cost.ComputeLatencySeconds, fourth.Cost.ComputeLatencySeconds, 6);
    }

    [Fact]
    public void A_price_splits_into_the_wait_for_work_ahead_and_what_slows_the_service()
    {
        // 10 s of service on two slots, a fifth of the processor other work (1.25x), throttled by a
        // fifth (1.25x), one slot's work ahead and half the other's (1.5x): 23.4375 s priced.
        var cost = new CostBreakdown
        {
            ComputeLatencySeconds = 10 * 1.25 * 1.25 * 1.5,
            ValueOfTimeDollarsPerSecond = 0.01,
            QueueStepDollars = 10 * 1.25 * 1.25 / 2 * 0.01,
        };

        PricedService.Of(in cost, 2, 10).Split(out double wait, out double service);

        Assert.Equal(1.5, wait, 9);
        Assert.Equal(1.5625, service, 9);
    }

    [Fact]
    public void Without_a_value_of_time_the_whole_stretch_is_taken_as_wait()
    {
        var cost = new CostBreakdown { ComputeLatencySeconds = 12.5 };

        PricedService.Of(in cost, 2, 10).Split(out double wait, out double service);

        Assert.Equal(1.25, wait, 9);
        Assert.Equal(1, service);
    }

    [Fact]
    public void A_wait_within_the_noise_of_the_prediction_is_learned_as_slower_decoding()
    {
        TargetState target = _targets.ForNode("a", 0);

        // Priced to start at once (10 s: 2 s prefill, 8 s decode); it took 18 s: 16 s of it decoding, as far as the router can tell.
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 10), new RouteOutcome(true, 18, 200));

        Assert.Equal(12.5, target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void An_outcome_slower_than_the_noise_is_priced_by_the_slowdown_alone()
    {
        TargetState target = _targets.ForNode("a", 0);

        // Priced to start at once (10 s); it took 30 s, three times the prediction: the slowdown prices
        // the excess, and the decode speed does not price it a second time.
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 10), new RouteOutcome(true, 30, 200));

        Assert.True(target.IsSlowed);
        Assert.Equal(0, target.DecodeTokensPerSecond);
    }

    [Fact]
    public void A_target_priced_on_the_decode_prior_learns_its_speed_even_far_slower_than_predicted()
    {
        TargetState target = _targets.ForNode("a", 0);

        // It reports no decode speed: priced on the prior (10 s); it took 82 s, 2 s prefill and 200
        // tokens in 80 s. Its outcomes are the only evidence of its speed, so the speed is learned
        // (the slowdown alone would price it at most MaxSlowdownRatio above the prior).
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 10, DecodeFromPrior: true), new RouteOutcome(true, 82, 200));

        Assert.Equal(2.5, target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void An_outcome_whose_network_time_was_a_large_guess_teaches_no_decode_speed()
    {
        TargetState target = _targets.ForNode("a", 0);

        // tethered-laptop, seed 3: 8 MB priced on the bandwidth prior at 3.9 s of network of 11.5 s
        // predicted; it took 7.45 s, 0.4 s of it network. Less the guess, 187 tokens would have been
        // learned at 69 a second on a node decoding 30.
        Learner().OnCompleted(target, new LeaseInfo(0, 3.9 + 0.83, default, PredictedSeconds: 11.5, NetworkSeconds: 3.9, NetworkFromPrior: true), new RouteOutcome(true, 7.45, 187));

        Assert.Equal(0, target.DecodeTokensPerSecond);
    }

    [Fact]
    public void An_outcome_whose_network_guess_is_a_small_part_of_its_prediction_still_teaches_decode_speed()
    {
        TargetState target = _targets.ForNode("a", 0);

        // A few kilobytes on the prior: 0.1 s of network of 10 s predicted, 1.9 s prefill; 200 tokens in 8 s.
        Learner().OnCompleted(target, new LeaseInfo(0, 2, default, PredictedSeconds: 10, NetworkSeconds: 0.1, NetworkFromPrior: true), new RouteOutcome(true, 10, 200));

        Assert.Equal(25, target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void A_large_request_priced_on_the_bandwidth_prior_leaves_the_next_price_unchanged_through_the_router()
    {
        _f.Add(_f.Node("a", cpu: 0, slots: 2));
        RequestProfile large = RouterFixture.Request() with { PayloadBytes = 8_000_000 };
        RouteDecision first = _f.Router.Route(large);

        // The network was a guess (no transfer measured), a third of the price; the request took
        // the compute priced and almost no network.
        first.Lease.Complete(new RouteOutcome(true, first.Cost.ComputeLatencySeconds + 0.1, 200));
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        RouteDecision second = _f.Router.Route(large);

        Assert.True((first.Cost.Assumptions & CostAssumptions.BandwidthPrior) != 0);
        Assert.True(first.Cost.NetworkLatencySeconds > OutcomeLearner.MaxPriorNetworkShare * first.Cost.LatencySeconds);
        Assert.Equal(first.Cost.ComputeLatencySeconds, second.Cost.ComputeLatencySeconds, 6);
    }

    [Fact]
    public void A_node_that_turns_bad_is_priced_by_its_run_of_failures_not_by_its_earlier_successes()
    {
        TargetState target = _targets.ForNode("a", 0);
        OutcomeLearner learner = Learner();
        long memory = (long)(RoutingDefaults.FailureMemory.TotalSeconds * _f.Time.TimestampFrequency);

        // Six successes, then it fails every request (fail-fast, gossiping as idle).
        for (int i = 0; i < 6; i++)
        {
            learner.OnCompleted(target, default, new RouteOutcome(true, 10, 0));
        }

        learner.OnCompleted(target, default, new RouteOutcome(false, 0.005, 0));
        long now = _f.Time.GetTimestamp();

        // The counts alone: 1 / (1 + 6 + 1) = 0.125; the run of one failure: 1 / (1 + 1) = 0.5.
        Assert.Equal(0.5, target.FailureRateAt(now, memory), 9);

        learner.OnCompleted(target, default, new RouteOutcome(false, 0.005, 0));
        Assert.Equal(2.0 / 3, target.FailureRateAt(now, memory), 9);

        // A success ends the run: the faded counts price it again (2 failures of 9 outcomes, one assumed success).
        learner.OnCompleted(target, default, new RouteOutcome(true, 10, 0));
        Assert.Equal(0.2, target.FailureRateAt(now, memory), 9);
    }

    [Fact]
    public void A_run_of_failures_fades_without_new_outcomes()
    {
        TargetState target = _targets.ForNode("a", 0);
        long memory = (long)(RoutingDefaults.FailureMemory.TotalSeconds * _f.Time.TimestampFrequency);
        OutcomeLearner learner = Learner();
        for (int i = 0; i < 3; i++)
        {
            learner.OnCompleted(target, default, new RouteOutcome(true, 10, 0));
        }

        learner.OnCompleted(target, default, new RouteOutcome(false, 0.005, 0));

        // One failure-memory later the run of one counts e^-1 of a failure against the assumed
        // success (the counts alone: e^-1 against 4 e^-1 + 1).
        _f.Time.Advance(RoutingDefaults.FailureMemory);
        double run = Math.Exp(-1);
        Assert.Equal(run / (run + 1), target.FailureRateAt(_f.Time.GetTimestamp(), memory), 9);
    }

    [Fact]
    public void Only_a_lease_completed_with_an_outcome_reaches_the_learner()
    {
        // The lease table calls the learner for a completion only: a disposed or expired lease has no
        // outcome to teach, and a second completion of the same lease is ignored.
        TargetState target = _targets.ForNode("a", 0);
        var completions = new List<(TargetState Target, RouteOutcome Outcome)>();
        var leases = new LeaseTable(4, (t, _, o) => completions.Add((t, o)));
        var info = new LeaseInfo(Deadline: 100, OverheadSeconds: 0, default);

        Assert.True(leases.TryAcquire(target, in info, out RouteLease disposed));
        disposed.Dispose();
        disposed.Dispose();
        Assert.True(leases.TryAcquire(target, in info, out _));
        Assert.False(disposed.Complete(new RouteOutcome(true, 2, 20)));
        Assert.Equal(1, leases.Expire(now: 100));
        Assert.Empty(completions);
        Assert.Equal(0, target.InFlight);

        Assert.True(leases.TryAcquire(target, in info, out RouteLease completed));
        Assert.True(completed.Complete(new RouteOutcome(true, 2, 20)));
        Assert.False(completed.Complete(new RouteOutcome(false, 1, 0)));
        Assert.Equal((target, new RouteOutcome(true, 2, 20)), Assert.Single(completions));
        Assert.Equal(0, target.InFlight);
    }

    [Fact]
    public void Consecutive_failures_eject_but_never_more_than_the_allowed_share()
    {
        TargetState[] states = [.. Enumerable.Range(0, 4).Select(i => _targets.ForNode($"n{i}", i))];
        OutcomeLearner learner = Learner();
        long now = _f.Time.GetTimestamp();

        foreach (TargetState state in states)
        {
            for (int i = 0; i < 3; i++)
            {
                learner.OnCompleted(state, default, new RouteOutcome(false, 1, 0));
            }
        }

        // Half of four targets at most.
        Assert.Equal(2, states.Count(s => s.IsEjected(now)));
        Assert.True(states[0].IsEjected(now) && states[1].IsEjected(now));
    }

    [Fact]
    public void A_forgotten_target_learns_nothing()
    {
        TargetState target = _targets.ForNode("a", 0);
        _targets.Forget(target);

        Learner().OnCompleted(target, new LeaseInfo(0, 0, default, PredictedSeconds: 0.1), new RouteOutcome(true, 1, 10));
        Learner().OnCompleted(target, new LeaseInfo(0, 0, default), new RouteOutcome(false, 1, 0));

        Assert.Equal(0, target.DecodeTokensPerSecond);
        Assert.False(target.IsSlowed);
        Assert.False(target.HasFailures);
    }

    [Fact]
    public void An_outcome_on_a_shared_processor_that_took_as_long_as_priced_leaves_its_price_unchanged()
    {
        // A fifth of the processor is other work: the price stretches the 12.5 s of service 1.25x.
        _f.Add(_f.Node("a", cpu: 0.2));
        RouteDecision first = _f.Router.Route(RouterFixture.Request());
        first.Lease.Complete(new RouteOutcome(true, first.Cost.LatencySeconds, 200));
        _f.Time.Advance(TimeSpan.FromSeconds(1));

        RouteDecision second = _f.Router.Route(RouterFixture.Request());

        // Learning the stretch as decode speed (200 tokens in about 13 s, not 10 s) would have priced the next one a quarter higher.
        Assert.Equal(15.625, first.Cost.ComputeLatencySeconds, 6);
        Assert.Equal(first.Cost.ComputeLatencySeconds, second.Cost.ComputeLatencySeconds, 6);
    }

    private OutcomeLearner Learner()
    {
        FakeTimeProvider time = _f.Time;
        RoutingOptions options = _options;
        return new OutcomeLearner(_targets, time, _f.Services.GetRequiredService<CostModelMetrics>(), () => RouterSettings.Build(options, [], time.TimestampFrequency));
    }
}
