using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Tests.Routing;

namespace CostModel.Tests.Scoring;

/// <summary>The routing node's own metered link is priced for every request that leaves it.</summary>
public sealed class RequesterLinkTests : IDisposable
{
    // 500 MB at the default 10 $/GB.
    private const long Payload = 500_000_000;
    private const double PayloadDollars = 5.0;

    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static RequestProfile Request() => new("llama-3.1-8b") { InputTokens = 100, OutputTokens = 100, PayloadBytes = Payload };

    private static NodeCostFactors Linked(string id, bool? metered)
    {
        NodeCostFactors node = ScorerFixture.Desktop(id);
        return node with
        {
            Network = new NetworkFactors { Metered = metered is { } m ? Reading.Measured(m, ScorerFixture.Now, "nm") : Reading.Unknown<bool>("no NetworkManager", ScorerFixture.Now) },
        };
    }

    private static CostCandidate Remote(NodeCostFactors? requester, bool targetMetered = false) =>
        ScorerFixture.Node("remote", Linked("remote", targetMetered)) with { RequesterFactors = requester };

    private static CostCandidate Endpoint(NodeCostFactors? requester) =>
        new() { TargetId = "api", Model = ScorerFixture.Model(decode: 100, prefill: 5000), Price = new TokenPrice(3, 15), ObservedRttSeconds = 0.3, RequesterFactors = requester };

    [Fact]
    public void A_remote_node_costs_the_payload_on_the_requesters_metered_link()
    {
        CostBreakdown cost = _f.Score(Remote(Linked("router", metered: true)), Request());

        Assert.Equal(PayloadDollars, cost.RequesterLinkDollars, 9);
        Assert.Equal(PayloadDollars, cost.NetworkDollars, 9);
        Assert.Equal(PayloadDollars, cost.MoneyDollars - cost.EnergyDollars, 9);
    }

    [Fact]
    public void The_routing_node_itself_pays_nothing_for_its_own_link()
    {
        NodeCostFactors router = Linked("router", metered: true);
        CostBreakdown cost = _f.Score(ScorerFixture.Node("router", router, local: true) with { RequesterFactors = router }, Request());

        Assert.Equal(0, cost.RequesterLinkDollars);
        Assert.Equal(0, cost.NetworkDollars);
    }

    [Fact]
    public void An_api_endpoint_is_reached_over_the_requesters_link_and_pays_for_it()
    {
        CostBreakdown metered = _f.Score(Endpoint(Linked("router", metered: true)), Request());
        CostBreakdown free = _f.Score(Endpoint(Linked("router", metered: false)), Request());

        Assert.Equal(PayloadDollars, metered.NetworkDollars, 9);
        Assert.Equal(PayloadDollars, metered.RequesterLinkDollars, 9);
        Assert.Equal(free.ApiDollars, metered.ApiDollars);
        Assert.Equal(PayloadDollars, metered.TotalDollars - free.TotalDollars, 9);
        Assert.Equal(0, free.NetworkDollars);
    }

    [Fact]
    public void Both_ends_metered_pay_on_both_links()
    {
        CostBreakdown cost = _f.Score(Remote(Linked("router", metered: true), targetMetered: true), Request());

        Assert.Equal(2 * PayloadDollars, cost.NetworkDollars, 9);
        Assert.Equal(PayloadDollars, cost.RequesterLinkDollars, 9);
    }

    [Fact]
    public void Without_the_requesters_factors_or_on_an_unmetered_link_nothing_is_added()
    {
        Assert.Equal(0, _f.Score(Remote(null), Request()).NetworkDollars);
        CostBreakdown unmetered = _f.Score(Remote(Linked("router", metered: false)), Request());
        Assert.Equal(0, unmetered.NetworkDollars);
        Assert.False(unmetered.Assumptions.HasFlag(CostAssumptions.MeteredUnknown));
    }

    [Fact]
    public void An_unknown_requester_link_follows_the_unknown_metered_policy_and_says_so()
    {
        CostBreakdown assumed = _f.Score(Remote(Linked("router", metered: null)), Request());
        using var lan = new ScorerFixture(o => o.UnknownMetered = UnknownMeteredPolicy.AssumeNotMetered);
        CostBreakdown free = lan.Score(Remote(Linked("router", metered: null)), Request());

        Assert.Equal(PayloadDollars, assumed.RequesterLinkDollars, 9);
        Assert.True(assumed.Assumptions.HasFlag(CostAssumptions.MeteredUnknown));
        Assert.Equal(0, free.RequesterLinkDollars);
        Assert.True(free.Assumptions.HasFlag(CostAssumptions.MeteredUnknown));
    }

    [Fact]
    public void The_operators_override_for_the_routing_node_wins_over_its_report()
    {
        using var f = new ScorerFixture(o => o.Nodes["router"] = new NodeScoringOverride { Metered = true });

        Assert.Equal(PayloadDollars, f.Score(Remote(Linked("router", metered: false)), Request()).RequesterLinkDollars, 9);
    }

    [Fact]
    public void On_a_metered_tether_a_large_request_runs_on_the_routing_node_and_a_small_one_still_leaves()
    {
        using var f = new RouterFixture();
        MeshNode local = f.Node("router", decode: 10);
        DateTimeOffset now = f.Time.GetUtcNow();
        f.Add(
            local with { IsLocal = true, Factors = local.Factors with { Network = new NetworkFactors { Metered = Reading.Measured(true, now, "nm") } } },
            f.Node("desktop", decode: 40));
        var large = new RequestProfile(RouterFixture.Model) { InputTokens = 500, OutputTokens = 200, PayloadBytes = 8_000_000, Urgency = Urgency.Background };
        var explanation = new RouteExplanation();

        RouteDecision decision = f.Router.Route(large, explanation);
        RouteDecision small = f.Router.Route(large with { PayloadBytes = 4_000 });

        Assert.Equal("router", decision.TargetId);
        Assert.Equal("router", f.Router.Route(large).TargetId); // the fast path agrees
        CandidateExplanation desktop = explanation.Candidates.Single(c => c.TargetId == "desktop");
        Assert.Equal(0.08, desktop.Cost.RequesterLinkDollars, 9);
        Assert.Equal("desktop", small.TargetId);
    }
}
