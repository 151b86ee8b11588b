using CostModel.Mesh;
using CostModel.Routing;

namespace CostModel.Tests.Routing;

public sealed class RouterSpreadTests : IDisposable
{
    private readonly RouterFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void A_thousand_requests_to_ten_equal_nodes_before_any_update_do_not_herd()
    {
        for (int i = 0; i < 10; i++)
        {
            _f.Add(_f.Node($"n{i}"));
        }

        var counts = new Dictionary<string, int>();
        for (int i = 0; i < 1000; i++)
        {
            RouteDecision d = _f.Router.Route(RouterFixture.Request());
            counts[d.TargetId!] = counts.GetValueOrDefault(d.TargetId!) + 1;
        }

        Assert.Equal(10, counts.Count);
        Assert.True(counts.Values.Max() <= 150, $"largest share {counts.Values.Max()} of 1000");
    }

    [Fact]
    public void Independent_routers_reading_one_snapshot_spread_their_first_picks()
    {
        // 100 routers (different seeds, no shared leases) each route one request over the same 10 equal nodes.
        var counts = new Dictionary<string, int>();
        for (int r = 0; r < 100; r++)
        {
            using var router = new RouterFixture(seed: 1000 + r);
            for (int i = 0; i < 10; i++)
            {
                router.Add(router.Node($"n{i}"));
            }

            RouteDecision d = router.Router.Route(RouterFixture.Request());
            Assert.True(d.Flags.HasFlag(RouteNotes.RandomTieBreak));
            counts[d.TargetId!] = counts.GetValueOrDefault(d.TargetId!) + 1;
        }

        Assert.True(counts.Count >= 8, $"only {counts.Count} distinct nodes picked");
        Assert.True(counts.Values.Max() <= 25, $"one node got {counts.Values.Max()} of 100 first picks");
    }

    [Fact]
    public void A_clearly_cheaper_node_wins_without_randomness()
    {
        _f.Add(_f.Node("idle", cpu: 0.05), _f.Node("busy", cpu: 0.8));

        RouteDecision d = _f.Router.Route(RouterFixture.Request());

        Assert.Equal("idle", d.TargetId);
        Assert.False(d.Flags.HasFlag(RouteNotes.RandomTieBreak));
    }
}
