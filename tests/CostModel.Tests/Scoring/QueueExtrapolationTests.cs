using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Tests.Scoring;

/// <summary>The queue a router cannot see yet: the node's report extrapolated over its age (DefaultCostScorer.WorkAhead).</summary>
public sealed class QueueExtrapolationTests : IDisposable
{
    private static readonly DateTimeOffset Reported = ScorerFixture.Now;

    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    // 200 prompt tokens at 200/s and 100 generated at 20/s: 6 s of service on one slot.
    private static RequestProfile Request() => new("llama-3.1-8b") { InputTokens = 200, OutputTokens = 100 };

    private static CostCandidate Node(int inFlight, int queued, double arrivalsPerSecond, int slots = 4, int placed = 0)
    {
        NodeCostFactors f = ScorerFixture.Desktop(cpu: 0, at: Reported) with
        {
            Pending = new PendingWork
            {
                InFlight = Reading.Measured(inFlight, Reported, "server"),
                QueueDepth = Reading.Measured(queued, Reported, "server"),
                ArrivalsPerSecond = Reading.Estimated(arrivalsPerSecond, Reported, "server"),
            },
        };
        return ScorerFixture.Node("d", f, ScorerFixture.Model(slots: slots)) with { PlacedRequests = placed };
    }

    private double Compute(CostCandidate node, double ageSeconds) =>
        _f.Score(node, Request(), Reported + TimeSpan.FromSeconds(ageSeconds)).ComputeLatencySeconds;

    [Fact]
    public void Requests_arriving_at_the_reported_rate_since_the_report_are_queued_ahead()
    {
        // Idle when reported, 5 requests a second since: 2 s later about 10 arrived (2.5 service
        // times on 4 slots), of which a third of a service time was served; then this one's slot.
        Assert.Equal(6, Compute(Node(0, 0, 5), 0), 9);
        Assert.Equal(6 * ((10 / 4.0) - (2 / 6.0) + 0.25), Compute(Node(0, 0, 5), 2), 9);
    }

    [Fact]
    public void The_reported_work_is_not_drained_below_the_report()
    {
        // 4 serving and 4 queued on 4 slots, no arrivals: 2 service times ahead when reported (plus a
        // quarter for this one), and still 6 s later: the sizes of the requests ahead are unknown.
        Assert.Equal(6 * (2 + 0.25), Compute(Node(4, 4, 0), 0), 9);
        Assert.Equal(6 * (2 + 0.25), Compute(Node(4, 4, 0), 6), 9);
    }

    [Fact]
    public void Arrivals_the_slots_keep_up_with_add_nothing()
    {
        // 0.5 a second on 4 slots is an eighth of a service time a second; 4 / 6 are served.
        Assert.Equal(Compute(Node(2, 0, 0), 3), Compute(Node(2, 0, 0.5), 3), 9);
    }

    [Fact]
    public void This_routers_own_placements_count_when_they_are_more_than_the_reported_rate_explains()
    {
        // 0.5 a second over 2 s is one, which the slots served; this router alone placed three since.
        Assert.Equal(6 * ((3 + 1) / 4.0), Compute(Node(0, 0, 0.5, placed: 3), 2), 9);

        // Fewer placed than the rate explains: the rate counts (its arrivals include these).
        Assert.Equal(6 * ((10 / 4.0) - (2 / 6.0) + 0.25), Compute(Node(0, 0, 5, placed: 3), 2), 9);
    }

    [Fact]
    public void A_stale_report_extrapolates_nothing()
    {
        // Past the load's maximum age (15 s) the pending work is unknown: neither queue nor rate counts.
        Assert.Equal(Compute(Node(0, 0, 0), 16), Compute(Node(4, 40, 50), 16), 9);
    }

    [Fact]
    public void The_queue_step_is_one_requests_service_per_slot_at_the_value_of_time()
    {
        CostBreakdown cost = _f.Score(Node(0, 0, 0), Request(), Reported);
        Assert.Equal(6 / 4.0 * cost.ValueOfTimeDollarsPerSecond, cost.QueueStepDollars, 12);
    }
}
