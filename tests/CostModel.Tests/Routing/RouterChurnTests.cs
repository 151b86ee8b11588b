using System.Reactive.Subjects;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Tests.Routing;

/// <summary>
/// Decisions while the view changes node by node: a node's new snapshot is priced at the next
/// decision (its terms prepared again in place), for the library's view and for a host's view,
/// and a decision never mixes two snapshots of a node written meanwhile.
/// </summary>
public sealed class RouterChurnTests
{
    [Fact]
    public void A_node_that_turns_busy_is_priced_busy_at_the_next_decision()
    {
        using var f = new RouterFixture(o => o.SpreadTolerance = 0);
        f.Add(f.Node("a", cpu: 0.1), f.Node("b", cpu: 0.5));
        var explanation = new RouteExplanation();
        RouteDecision first = f.Router.Route(RouterFixture.Request());
        first.Lease.Dispose();
        Assert.Equal("a", first.TargetId);

        f.View.Upsert(f.Node("a", cpu: 0.95, version: 2));
        RouteDecision fast = f.Router.Route(RouterFixture.Request());
        fast.Lease.Dispose();
        RouteDecision full = f.Router.Route(RouterFixture.Request(), explanation);
        full.Lease.Dispose();

        Assert.Equal("b", fast.TargetId);
        Assert.Equal(full.Cost, fast.Cost);
        Assert.True(explanation.Candidates.Single(c => c.TargetId == "a").Cost.ComputeLatencySeconds > first.Cost.ComputeLatencySeconds);
    }

    [Fact]
    public void A_hosts_view_replacing_one_node_is_priced_the_same_on_both_paths()
    {
        using var host = new HostView();
        using var f = new RouterFixture(
            o =>
            {
                o.SpreadTolerance = 0;
                o.HysteresisEpsilonDollars = 0;
            },
            view: host);
        host.Set(f.Node("a", cpu: 0.1), f.Node("b", cpu: 0.5), f.Node("c", cpu: 0.6));
        var explanation = new RouteExplanation();
        Assert.Equal("a", RouteOnce(f, null).TargetId);

        for (int round = 0; round < 20; round++)
        {
            // Requests a few seconds apart: two decisions per round at one instant would be a surge,
            // which the picker spreads (HerdSpread) instead of taking the cheapest.
            f.Time.Advance(TimeSpan.FromSeconds(5));

            // One node at a time turns busy or idle (each node idle at its own load: no ties).
            string id = ((char)('a' + (round % 3))).ToString();
            host.Replace(f.Node(id, cpu: round % 2 == 0 ? 0.95 : 0.01 + (0.02 * (round % 3)), version: round + 2));
            RouteDecision fast = RouteOnce(f, null);
            RouteDecision full = RouteOnce(f, explanation);
            Assert.True(full.TargetId == fast.TargetId, $"round {round}: fast {fast}\nfull {full}\n{explanation}");
            Assert.Equal(full.Cost, fast.Cost);
            string cheapest = explanation.Candidates.Where(c => c.FilteredBy is null).MinBy(c => c.AdjustedTotalDollars).TargetId;
            Assert.True(cheapest == fast.TargetId, $"round {round}: {fast}\n{explanation}");
        }
    }

    [Fact]
    public async Task A_decision_prices_one_snapshot_of_a_node_rewritten_while_it_reads()
    {
        using var f = new RouterFixture();
        MeshNode[] versions = [f.Node("a", cpu: 0.1, version: 2), f.Node("a", cpu: 0.9, version: 3)];
        var expected = new HashSet<CostBreakdown>();
        foreach (MeshNode version in versions)
        {
            f.View.Upsert(version);
            expected.Add(RouteOnce(f, null).Cost);
        }

        Assert.Equal(2, expected.Count);
        using var done = new CancellationTokenSource();
        Task writer = Task.Run(
            () =>
            {
                for (int i = 0; !done.IsCancellationRequested; i++)
                {
                    f.View.Upsert(versions[i & 1]);
                }
            },
            TestContext.Current.CancellationToken);

        try
        {
            for (int i = 0; i < 20_000; i++)
            {
                CostBreakdown cost = RouteOnce(f, null).Cost;
                Assert.True(expected.Contains(cost), $"decision {i} priced a mix of two snapshots: {cost}");
            }
        }
        finally
        {
            await done.CancelAsync();
            await writer.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
    }

    private static RouteDecision RouteOnce(RouterFixture f, RouteExplanation? explanation)
    {
        RouteDecision decision = f.Router.Route(RouterFixture.Request(), explanation);
        decision.Lease.Dispose();
        return decision;
    }

    /// <summary>A host's own view: a new snapshot array per change, its nodes in the same places.</summary>
    private sealed class HostView : IMeshView, IDisposable
    {
        private readonly Subject<MeshChange> _changes = new();
        private MeshNode[] _nodes = [];

        public IReadOnlyList<MeshNode> Nodes => Volatile.Read(ref _nodes);

        public IObservable<MeshChange> Changes => _changes;

        public void Dispose() => _changes.Dispose();

        public void Set(params MeshNode[] nodes) => Volatile.Write(ref _nodes, nodes);

        public void Replace(MeshNode node)
        {
            MeshNode[] next = [.. _nodes];
            next[Array.FindIndex(next, n => n.NodeId == node.NodeId)] = node;
            Volatile.Write(ref _nodes, next);
        }
    }
}
