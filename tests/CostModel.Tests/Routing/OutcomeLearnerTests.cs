using CostModel.Budgets;
using CostModel.Routing;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>What a released lease teaches, alone: decode speed, failures and ejection, spend.</summary>
public sealed class OutcomeLearnerTests : IDisposable
{
    private readonly RouterFixture _f = new(budgets: b => b.SpendCaps.Add(new SpendCap { Name = "daily", MaxDollars = 10 }));
    private readonly TargetTable _targets = new();
    private readonly RoutingOptions _options = new() { EjectionConsecutiveFailures = 3, MaxEjectedShare = 0.5 };

    public void Dispose() => _f.Dispose();

    [Fact]
    public void A_success_teaches_the_decode_speed_of_the_time_not_predicted_as_overhead()
    {
        TargetState target = _targets.ForNode("a", 0);

        // 10 s, 2 s of it predicted as network and prefill: 200 tokens in 8 s.
        Learner().OnReleased(target, new LeaseInfo(0, 2, 0, 0), new RouteOutcome(true, 10, 200));

        Assert.Equal(25, target.DecodeTokensPerSecond, 9);
    }

    [Fact]
    public void A_release_without_an_outcome_teaches_nothing()
    {
        TargetState target = _targets.ForNode("a", 0);

        Learner().OnReleased(target, new LeaseInfo(0, 0, 1, 0), null);

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
    public void A_forgotten_target_still_records_its_spend_but_learns_nothing()
    {
        TargetState target = _targets.ForNode("a", 0);
        _targets.Forget(target);
        SpendTracker spend = _f.Services.GetRequiredService<SpendTracker>();

        Learner().OnReleased(target, new LeaseInfo(0, 0, 0.5, 0), new RouteOutcome(true, 1, 10));
        Learner().OnReleased(target, new LeaseInfo(0, 0, 0.5, 0), new RouteOutcome(false, 1, 0));

        Assert.Equal(0.5, Assert.Single(spend.Status()).SpentDollars, 9);
        Assert.Equal(0, target.DecodeTokensPerSecond);
        Assert.False(target.HasFailures);
    }

    private OutcomeLearner Learner()
    {
        FakeTimeProvider time = _f.Time;
        RoutingOptions options = _options;
        return new OutcomeLearner(_targets, _f.Services.GetRequiredService<SpendTracker>(), time, _f.Services.GetRequiredService<CostModelMetrics>(), () => RouterSettings.Build(options, [], time.TimestampFrequency));
    }
}
