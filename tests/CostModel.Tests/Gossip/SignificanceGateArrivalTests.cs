using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Tests.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>The publication gate and the node's arrival rate: a burst reaching the node publishes within the rate limit.</summary>
public sealed class SignificanceGateArrivalTests : IDisposable
{
    private readonly ScorerFixture _scoring = new();
    private readonly FakeTimeProvider _time = new(ScorerFixture.Now);
    private readonly SignificanceGate _gate;
    private long _version;

    public SignificanceGateArrivalTests() => _gate = new SignificanceGate(_scoring.Scorer, new PublishSettings());

    public void Dispose() => _scoring.Dispose();

    private DateTimeOffset Now => _time.GetUtcNow();

    // An idle desktop whose server reports only its arrival rate (queue and in flight 0).
    private NodeCostFactors Desktop(double? arrivalsPerSecond) => ScorerFixture.Desktop("self", 0.3, Now) with
    {
        Version = ++_version,
        Pending = new PendingWork
        {
            QueueDepth = Reading.Measured(0, Now, "server"),
            InFlight = Reading.Measured(0, Now, "server"),
            ArrivalsPerSecond = arrivalsPerSecond is { } rate ? Reading.Estimated(rate, Now, "server") : Reading.Unknown<double>("no meter", Now),
        },
    };

    [Fact]
    public void A_jump_in_arrivals_publishes_once_the_minimum_interval_has_passed()
    {
        Assert.Equal(PublishReason.First, _gate.Evaluate(Desktop(0.1), Now));

        // The queue is still empty when the burst starts arriving: the reference cost is unchanged,
        // but peers extrapolating 0.1 a second would price the node idle for seconds.
        _time.Advance(TimeSpan.FromSeconds(0.5));
        NodeCostFactors burst = Desktop(30);
        Assert.Equal(_gate.ReferenceCost(_gate.Published!).TotalDollars, _gate.ReferenceCost(burst).TotalDollars);
        Assert.Equal(PublishReason.None, _gate.Evaluate(burst, Now));
        Assert.True(_gate.HasPendingChange);

        _time.SetUtcNow(_gate.NextDueAt);
        Assert.Equal(PublishReason.Significant, _gate.Evaluate(burst, Now));
    }

    [Fact]
    public void A_trickle_that_moves_by_less_than_a_request_over_the_heartbeat_does_not_publish()
    {
        Assert.Equal(PublishReason.First, _gate.Evaluate(Desktop(0.02), Now));
        _time.Advance(TimeSpan.FromSeconds(2));

        // 0.02 -> 0.1 a second is five times the rate, but under one request in the 5 s heartbeat.
        Assert.Equal(PublishReason.None, _gate.Evaluate(Desktop(0.1), Now));
        Assert.False(_gate.HasPendingChange);
    }

    [Fact]
    public void A_steady_rate_moving_less_than_the_threshold_does_not_publish()
    {
        Assert.Equal(PublishReason.First, _gate.Evaluate(Desktop(20), Now));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(PublishReason.None, _gate.Evaluate(Desktop(21), Now));
    }

    [Fact]
    public void A_rate_that_turns_unknown_publishes()
    {
        Assert.Equal(PublishReason.First, _gate.Evaluate(Desktop(5), Now));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(PublishReason.Significant, _gate.Evaluate(Desktop(null), Now));
    }
}
