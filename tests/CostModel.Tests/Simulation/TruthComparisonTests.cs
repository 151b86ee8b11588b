using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>
/// costmodel's decisions against the truth's cheapest target at the instant of each
/// (<see cref="DecisionsAgainstTruth"/>): what the report gives as the "why" of a goal missed. The
/// scenarios are the built-ins where each cause is the story: a burst's random draws, a node that
/// crashed silently, a battery near its reserve.
/// </summary>
public sealed class TruthComparisonTests
{
    private const int Seed = 7;

    [Fact]
    public void In_a_burst_the_random_draws_are_where_the_decisions_cost_more()
    {
        // herding-burst: four equal desktops, 32 requests within half a second. The routers cannot see
        // each other's placements in that half second and draw at random; the truth sees every queue.
        SimulationResult run = MeshSimulator.Run(Scenario.BuiltIn("herding-burst"), RoutingPolicies.CostModel, Seed);
        DecisionsAgainstTruth t = Assert.IsType<DecisionsAgainstTruth>(run.Metrics.AgainstTruth);

        Assert.Equal(run.Requests.Count(r => r.Target is not null), t.Decisions);
        AssertAddsUp(t);
        Assert.True(t.Drawn.Decisions > 0, "no decision drawn at random in the burst");
        Assert.True(t.Drawn.ExtraDollars > t.Priced.ExtraDollars, $"drawn {t.Drawn.ExtraDollars} $ against priced {t.Priced.ExtraDollars} $");
        Assert.Equal(0, t.Failing.Decisions);
    }

    [Fact]
    public void A_node_that_crashed_silently_is_a_failing_pick_charged_the_timeout()
    {
        // crash-and-fail-fast: a node crashes and another refuses everything fast; until the failure
        // detector and the outcomes catch up, the router still sends work there.
        Scenario scenario = Scenario.BuiltIn("crash-and-fail-fast");
        SimulationResult run = MeshSimulator.Run(scenario, RoutingPolicies.CostModel, Seed);
        DecisionsAgainstTruth t = Assert.IsType<DecisionsAgainstTruth>(run.Metrics.AgainstTruth);

        AssertAddsUp(t);
        Assert.True(t.Failing.Decisions > 0, "no pick of a failing node counted");
        DecisionAgainstTruth largest = Assert.IsType<DecisionAgainstTruth>(t.Largest);
        Assert.Equal("failing", largest.Cause);
        Assert.Null(largest.TrueSeconds);

        // Charged the request timeout at its value of time, less the truth's cheapest's cost: at most the timeout's worth.
        Assert.InRange(largest.ExtraDollars, 0, scenario.RequestTimeoutSeconds * new CostModel.Scoring.ScoringOptions().ValueOfTime(CostModel.Scoring.Urgency.Interactive));
        Assert.True(largest.TruthTrueSeconds > 0);
    }

    [Fact]
    public void A_target_the_router_set_aside_is_counted_apart_from_its_prices()
    {
        // laptop-unplugged: the fast laptop near its 10 % reserve is set aside by the battery reserve
        // (a cost constraint) a little before the truth would leave it.
        SimulationResult run = MeshSimulator.Run(Scenario.BuiltIn("laptop-unplugged"), RoutingPolicies.CostModel, Seed);
        DecisionsAgainstTruth t = Assert.IsType<DecisionsAgainstTruth>(run.Metrics.AgainstTruth);

        AssertAddsUp(t);
        Assert.True(t.SetAside.Decisions > 0, "no decision set the truth's cheapest aside");
        Assert.True(t.Priced.Decisions > 0, "no decision priced differently from the truth");
    }

    [Fact]
    public void A_pick_that_breaks_a_request_s_maximum_price_at_the_true_price_is_refused_not_failing()
    {
        // household-what-if: hosted-70b's price is stale (listed 0.6 $ per million tokens, truly 0.9,
        // then 1.2 from 180 s); a request whose maximum price the listed price meets and the true price
        // breaks is served there, but the truth would never have sent it. Seed 1 has two such picks.
        SimulationResult run = MeshSimulator.Run(Scenario.BuiltIn("household-what-if"), RoutingPolicies.CostModel, 1);
        DecisionsAgainstTruth t = Assert.IsType<DecisionsAgainstTruth>(run.Metrics.AgainstTruth);

        AssertAddsUp(t);
        Assert.Equal(2, t.Refused.Decisions);
        Assert.Equal(0, t.Failing.Decisions);
        Assert.True(run.Requests.Where(r => r.Target == "hosted-70b").All(r => r.Succeeded), "a request on hosted-70b failed: the pick was served, not failing");
    }

    [Fact]
    public void Only_costmodel_is_compared_and_only_in_a_mesh_of_at_most_128_targets()
    {
        Scenario scenario = Scenario.BuiltIn("herding-burst");
        Assert.Null(MeshSimulator.Run(scenario, RoutingPolicies.RoundRobin, Seed).Metrics.AgainstTruth);
        Assert.Null(MeshSimulator.Run(scenario, RoutingPolicies.Oracle, Seed).Metrics.AgainstTruth);

        // 129 desktops for 5 s: every decision would price 129 targets by the truth; none is compared.
        SimulatedNode desk = scenario.Nodes[0];
        scenario.Nodes = [.. Enumerable.Range(0, DecisionsAgainstTruth.MaxTargets + 1).Select(i => new SimulatedNode { Id = $"n{i:000}", Models = desk.Models, Power = desk.Power })];
        scenario.DurationSeconds = 5;
        scenario.Workload.Bursts = [];
        scenario.Workload.RequestsPerMinute = 6;
        SimulationResult large = MeshSimulator.Run(scenario, RoutingPolicies.CostModel, Seed);
        Assert.True(large.Requests.Count > 0, "the large mesh received no request");
        Assert.Null(large.Metrics.AgainstTruth);
    }

    // The causes partition the decisions that went elsewhere, and the largest is one of them.
    private static void AssertAddsUp(DecisionsAgainstTruth t)
    {
        DecisionCause[] causes = [t.Failing, t.Refused, t.Drawn, t.Kept, t.SetAside, t.Priced];
        Assert.InRange(t.Elsewhere, 1, t.Decisions);
        Assert.Equal(t.Elsewhere, causes.Sum(c => c.Decisions));
        Assert.Equal(t.ExtraDollars, causes.Sum(c => c.ExtraDollars), 4);
        Assert.All(causes, c => Assert.True(c.ExtraDollars >= 0 && (c.Decisions > 0 || c.ExtraDollars == 0), c.ToString()));

        DecisionAgainstTruth largest = Assert.IsType<DecisionAgainstTruth>(t.Largest);
        Assert.NotEqual(largest.TruthTarget, largest.Target);
        Assert.InRange(largest.ExtraDollars, DecisionsAgainstTruth.TieDollars, t.ExtraDollars + 1e-6);
        Assert.True(causes.All(c => c.Decisions == 0 || largest.ExtraDollars * c.Decisions >= c.ExtraDollars - 1e-6), "a cause's mean above the largest");
    }
}
