using CostModel.Gossip;
using CostModel.Mesh;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>
/// The liveness deadline that lets the adapter skip its pass over every node: never later than
/// the first moment <see cref="LivenessPolicy.Decide(NodeLiveness, PhiAccrualDetector, long)"/>
/// reports a change, and no more than a few milliseconds earlier.
/// </summary>
public sealed class LivenessDeadlineTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(5);

    [Theory]
    [InlineData(1, 8.0)]
    [InlineData(2, 8.0)]
    [InlineData(3, 1.0)]
    [InlineData(4, 16.0)]
    [InlineData(5, 0.5)]
    public void No_change_comes_before_the_deadline_and_one_comes_within_a_step_of_it(int seed, double threshold)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        var policy = new LivenessPolicy(new LivenessSettings { PhiThreshold = threshold });
        var detector = new PhiAccrualDetector(policy.Settings, time);
        var random = new Random(seed);
        for (int i = 0; i < 20; i++)
        {
            // Irregular heartbeats, 0.2 to 4 s apart.
            time.Advance(TimeSpan.FromMilliseconds(200 + random.Next(3_800)));
            detector.Heartbeat(time.GetTimestamp());
        }

        NodeLiveness state = NodeLiveness.Alive;
        foreach (NodeLiveness expected in new[] { NodeLiveness.Suspect, NodeLiveness.Dead, NodeLiveness.Dead })
        {
            long deadline = policy.NextChange(state, detector);
            Assert.True(deadline < long.MaxValue);
            while (policy.Decide(state, detector, time.GetTimestamp()).Change is null)
            {
                Assert.True(time.GetTimestamp() < deadline + Step.Ticks, $"no change by {Step.TotalMilliseconds} ms past the deadline in state {state}");
                time.Advance(Step);
            }

            long changedAt = time.GetTimestamp();
            Assert.True(changedAt >= deadline, $"{state}: changed at {changedAt}, before the deadline {deadline}");
            LivenessDecision decision = policy.Decide(state, detector, changedAt);
            if (decision.Remove)
            {
                break;
            }

            Assert.Equal(expected, decision.Next);
            state = decision.Next;
        }
    }

    [Fact]
    public void A_node_never_heard_has_no_deadline()
    {
        var time = new FakeTimeProvider();
        var policy = new LivenessPolicy(new LivenessSettings());
        var detector = new PhiAccrualDetector(policy.Settings, time);
        Assert.Equal(long.MaxValue, policy.NextChange(NodeLiveness.Alive, detector));
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(1_000)]
    public void The_deviation_point_is_where_phi_first_reaches_the_threshold(double threshold)
    {
        double y = PhiAccrualDetector.DeviationsAt(threshold);
        Assert.True(PhiAccrualDetector.PhiOf(y, 0, 1) >= threshold);
        Assert.True(PhiAccrualDetector.PhiOf(y - 1e-9, 0, 1) < threshold);
    }
}
