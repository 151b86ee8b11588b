using CostModel.Routing;
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
        Learner().OnReleased(target, new LeaseInfo(0, 2, default), new RouteOutcome(true, 10, 200));

        Assert.Equal(25, target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void A_release_without_an_outcome_teaches_nothing()
    {
        TargetState target = _targets.ForNode("a", 0);

        Learner().OnReleased(target, new LeaseInfo(0, 0, default), null);

        Assert.Equal(0, target.DecodeTokensPerSecond);
        Assert.False(target.HasFailures);
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
                learner.OnReleased(state, default, new RouteOutcome(false, 1, 0));
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

        Learner().OnReleased(target, new LeaseInfo(0, 0, default, PredictedSeconds: 0.1), new RouteOutcome(true, 1, 10));
        Learner().OnReleased(target, new LeaseInfo(0, 0, default), new RouteOutcome(false, 1, 0));

        Assert.Equal(0, target.DecodeTokensPerSecond);
        Assert.False(target.IsSlowed);
        Assert.False(target.HasFailures);
    }

    private OutcomeLearner Learner()
    {
        FakeTimeProvider time = _f.Time;
        RoutingOptions options = _options;
        return new OutcomeLearner(_targets, time, _f.Services.GetRequiredService<CostModelMetrics>(), () => RouterSettings.Build(options, [], time.TimestampFrequency));
    }
}
