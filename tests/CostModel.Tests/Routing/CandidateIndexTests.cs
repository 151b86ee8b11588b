using CostModel.Collection;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Tests.Routing;

/// <summary>The candidate index alone: the view grouped by model, the endpoints, and what the target table keeps.</summary>
public sealed class CandidateIndexTests : IDisposable
{
    private readonly RouterFixture _f = new();
    private readonly MeshView _view = new();
    private readonly TargetTable _targets = new();
    private readonly RoutingOptions _options = new();
    private readonly CandidateIndex _index;

    public CandidateIndexTests() =>
        _index = new CandidateIndex(_view, _targets, _f.Services.GetRequiredService<IPriceCatalog>(), _f.Services.GetRequiredService<CostModelMetrics>(), () => _options);

    public void Dispose()
    {
        _index.Dispose();
        _view.Dispose();
        _f.Dispose();
    }

    [Fact]
    public void Each_model_lists_its_nodes_in_view_order_relays_with_their_hops()
    {
        _view.Upsert(_f.Node("a"));
        _view.Upsert(WithRelay(_f.Node("b"), "other-model", hops: 2));
        _view.Upsert(_f.Node("c"));

        IndexedView indexed = Current();

        ModelGroup model = indexed.Groups[RouterFixture.Model.ToUpperInvariant()];
        Assert.Equal(["a", "b", "c"], Slots(indexed, model).Select(s => s.Node.NodeId));
        CandidateSlot relay = Assert.Single(Slots(indexed, indexed.Groups["other-model"]));
        Assert.Equal(("b", 2), (relay.Node.NodeId, relay.Hops));

        // The groups cover the one array of slots, each consecutively, and each node knows its slots.
        Assert.Equal(indexed.Slots.Length, indexed.Listed.Sum(g => g.Count));
        Assert.Equal([indexed.Groups[RouterFixture.Model].Start + 1, indexed.Groups["other-model"].Start], indexed.NodeSlots[1]);
    }

    [Fact]
    public void A_new_snapshot_of_one_node_with_the_same_offers_is_written_in_place()
    {
        _view.Upsert(_f.Node("a"));
        _view.Upsert(_f.Node("b"));
        IndexedView first = Current();

        MeshNode newer = _f.Node("b", cpu: 0.9, version: 2);
        _view.Upsert(newer);
        IndexedView after = Current();

        Assert.Same(first, after);
        Assert.Same(newer, after.Nodes[1]);
        Assert.Same(newer, after.Slots[after.NodeSlots[1][0]].Node);
        Assert.Equal(_view.Nodes, after.Nodes);
    }

    [Fact]
    public void A_node_whose_offers_change_or_that_joins_rebuilds_the_index()
    {
        _view.Upsert(_f.Node("a"));
        IndexedView first = Current();

        _view.Upsert(WithRelay(_f.Node("a", version: 2), "other-model", hops: 1));
        IndexedView reshaped = Current();
        Assert.NotSame(first, reshaped);
        Assert.True(reshaped.Groups.ContainsKey("other-model"));

        _view.Upsert(_f.Node("b"));
        IndexedView joined = Current();
        Assert.NotSame(reshaped, joined);
        Assert.Equal(["a", "b"], joined.Nodes.Select(n => n.NodeId));
    }

    [Fact]
    public void After_any_mix_of_changes_the_index_shows_what_the_view_shows()
    {
        var random = new Random(5);
        for (int step = 0; step < 500; step++)
        {
            string id = $"n{random.Next(12)}";
            int action = random.Next(10);
            if (action == 0)
            {
                _view.Remove(id);
            }
            else
            {
                MeshNode node = _f.Node(id, cpu: random.NextDouble(), version: step + 2);
                _view.Upsert(action == 1 ? WithRelay(node, "other-model", hops: 1 + random.Next(3)) : node);
            }

            if (random.Next(3) == 0)
            {
                IndexedView indexed = Current();
                Assert.Equal(_view.Nodes, indexed.Nodes);
                foreach (CandidateSlot slot in indexed.Slots)
                {
                    Assert.Same(indexed.Nodes[slot.NodeIndex], slot.Node);
                }

                // Each node's offers (models, then relays) point at slots of their own model, and each
                // model's slots follow the view's order.
                for (int place = 0; place < indexed.Nodes.Length; place++)
                {
                    NodeCapabilities offers = indexed.Nodes[place].Capabilities;
                    string[] models = [.. offers.Models.Select(m => m.ModelId), .. offers.Relays.Select(r => r.ModelId)];
                    Assert.Equal(models.Length, indexed.NodeSlots[place].Length);
                    for (int k = 0; k < models.Length; k++)
                    {
                        CandidateSlot slot = indexed.Slots[indexed.NodeSlots[place][k]];
                        Assert.Equal(place, slot.NodeIndex);
                        ModelGroup group = indexed.Groups[models[k]];
                        Assert.InRange(indexed.NodeSlots[place][k], group.Start, group.Start + group.Count - 1);
                    }
                }

                foreach (ModelGroup group in indexed.Listed)
                {
                    int[] order = [.. Slots(indexed, group).Select(slot => slot.NodeIndex)];
                    Assert.Equal(order.Order(), order);
                }
            }
        }
    }

    [Fact]
    public void The_same_view_gives_the_same_index_and_a_joined_node_a_new_index()
    {
        _view.Upsert(_f.Node("a"));
        IndexedView first = Current();

        Assert.Same(first, Current());
        _view.Upsert(_f.Node("b"));
        Assert.NotSame(first, Current());
    }

    [Fact]
    public void A_node_that_leaves_the_view_is_forgotten_and_comes_back_with_a_new_state()
    {
        _view.Upsert(_f.Node("a"));
        _view.Upsert(_f.Node("b"));
        TargetState a = Current().States[0];

        _view.Remove("a");
        Assert.True(a.IsForgotten);
        Assert.False(_targets.Remembers("a"));

        _view.Upsert(_f.Node("a"));
        TargetState back = Current().States.Single(s => s.TargetId == "a");
        Assert.NotSame(a, back);
        Assert.False(back.IsForgotten);
    }

    [Fact]
    public void Endpoints_are_listed_with_their_catalog_price_and_forgotten_when_dropped()
    {
        _options.ApiEndpoints = [new ApiEndpoint { Id = "api", Model = "gpt-4o" }];
        EndpointList listed = _index.Endpoints(_options);
        Assert.Equal("api", Assert.Single(listed.States).TargetId);
        Assert.NotNull(Assert.Single(listed.Prices));
        TargetState api = listed.States[0];

        _options.ApiEndpoints = [];
        _index.EndpointsChanged();
        Assert.Empty(_index.Endpoints(_options).States);
        Assert.True(api.IsForgotten);
    }

    [Fact]
    public void Endpoint_terms_are_prepared_once_and_again_when_a_bandwidth_entry_appears()
    {
        _options.ApiEndpoints = [new ApiEndpoint { Id = "api", Model = "gpt-4o" }];
        var scorer = (DefaultCostScorer)_f.Services.GetRequiredService<ICostScorer>();
        EndpointList listed = _index.Endpoints(_options);
        EndpointTerms first = listed.Terms(scorer);

        Assert.Same(first, listed.Terms(scorer));
        Assert.Null(Assert.Single(first.Links));

        scorer.Bandwidth.ReportTransfer("api", 1_000_000, TimeSpan.FromMilliseconds(100));
        EndpointTerms next = listed.Terms(scorer);
        Assert.NotSame(first, next);
        Assert.NotNull(Assert.Single(next.Links));
    }

    private static IEnumerable<CandidateSlot> Slots(IndexedView indexed, ModelGroup group) => indexed.Slots.Skip(group.Start).Take(group.Count);

    private IndexedView Current() => _index.Current(_f.Time.GetUtcNow());

    private static MeshNode WithRelay(MeshNode node, string model, int hops) =>
        node with { Capabilities = node.Capabilities with { Relays = [new RelayRoute(model, "via", hops)] } };

    [Fact]
    public void The_view_counts_this_node_and_the_nodes_that_route_by_their_reports()
    {
        _view.Upsert(_f.Node("self", routed: 0) with { IsLocal = true });
        _view.Upsert(_f.Node("gateway-1", routed: 2.5));
        _view.Upsert(_f.Node("gateway-2", routed: (1.0 / 60)));
        _view.Upsert(_f.Node("server-1", routed: 0));
        _view.Upsert(_f.Node("server-2", routed: PendingWork.MinRouterRate / 2));
        _view.Upsert(_f.Node("older-version"));

        // This node routes (it is routing now, whatever it reported), the two gateways do, the
        // servers do not, and a node that reports no rate counts, as every node did before.
        Assert.Equal(4, _index.Current(_f.Time.GetUtcNow()).Routers);
    }

    [Fact]
    public void A_node_that_starts_or_stops_routing_changes_the_count_when_its_snapshot_is_written_in_place()
    {
        _view.Upsert(_f.Node("a", routed: 0));
        _view.Upsert(_f.Node("b", routed: 1));
        IndexedView first = _index.Current(_f.Time.GetUtcNow());
        Assert.Equal(2, first.Routers);

        _view.Upsert(_f.Node("a", routed: 0.5, version: 2));
        IndexedView after = _index.Current(_f.Time.GetUtcNow());
        Assert.Same(first, after);
        Assert.Equal(3, after.Routers);

        _view.Upsert(_f.Node("b", routed: 0, version: 2));
        _view.Upsert(_f.Node("a", routed: 0, version: 3));
        Assert.Equal(1, _index.Current(_f.Time.GetUtcNow()).Routers);
    }

    [Fact]
    public void An_empty_view_counts_this_router_alone()
    {
        Assert.Equal(1, _index.Current(_f.Time.GetUtcNow()).Routers);
    }

    [Fact]
    public void A_node_without_a_router_reports_that_it_routes_nothing_and_is_not_counted()
    {
        var meter = new RoutedRate(_f.Time);
        Reading<double> none = meter.Read();
        Assert.Equal(SignalQuality.NotSupported, none.Quality);

        _view.Upsert(_f.Node("gateway", routed: 1));
        _view.Upsert(new MeshNode(_f.Node("server").Factors with { Pending = new PendingWork { RoutedPerSecond = none } }, _f.Node("server").Capabilities));
        Assert.Equal(2, _index.Current(_f.Time.GetUtcNow()).Routers);
    }

    [Fact]
    public void A_router_believed_dead_is_not_counted_until_it_is_heard_again()
    {
        _view.Upsert(_f.Node("gateway-1", routed: 1));
        _view.Upsert(_f.Node("gateway-2", routed: 1));
        Assert.Equal(3, _index.Current(_f.Time.GetUtcNow()).Routers);

        // A crashed gateway places nothing; one cut off by a partition places nothing here.
        _view.Upsert(_f.Node("gateway-2", routed: 1, version: 2, liveness: NodeLiveness.Dead));
        Assert.Equal(2, _index.Current(_f.Time.GetUtcNow()).Routers);

        _view.Upsert(_f.Node("gateway-2", routed: 1, version: 3));
        Assert.Equal(3, _index.Current(_f.Time.GetUtcNow()).Routers);
    }

    [Fact]
    public void This_node_is_ranked_among_the_routers_by_id_and_the_rank_follows_routers_that_start_or_stop()
    {
        _view.Upsert(new MeshNode(_f.Node("gw-2", routed: 1).Factors, new NodeCapabilities("gw-2", 1)) { IsLocal = true });
        _view.Upsert(new MeshNode(_f.Node("gw-0", routed: 1).Factors, new NodeCapabilities("gw-0", 1)));
        _view.Upsert(new MeshNode(_f.Node("gw-1", routed: 0).Factors, new NodeCapabilities("gw-1", 1)));
        _view.Upsert(new MeshNode(_f.Node("gw-3", routed: 1).Factors, new NodeCapabilities("gw-3", 1)));
        _view.Upsert(_f.Node("a-server", routed: 0));
        IndexedView first = _index.Current(_f.Time.GetUtcNow());
        Assert.Equal((3, 1), (first.Routers, first.RouterRank));

        // gw-1 starts routing: one more router before this node; gw-3 stops: one fewer after it.
        _view.Upsert(new MeshNode(_f.Node("gw-1", routed: 1, version: 2).Factors, new NodeCapabilities("gw-1", 1)));
        _view.Upsert(new MeshNode(_f.Node("gw-3", routed: 0, version: 2).Factors, new NodeCapabilities("gw-3", 1)));
        IndexedView after = _index.Current(_f.Time.GetUtcNow());
        Assert.Same(first, after);
        Assert.Equal((3, 2), (after.Routers, after.RouterRank));
    }

    [Fact]
    public void The_rates_the_other_routers_report_are_summed_and_follow_their_snapshots()
    {
        _view.Upsert(_f.Node("self", routed: 9) with { IsLocal = true });
        _view.Upsert(_f.Node("gateway-1", routed: 2.5));
        _view.Upsert(_f.Node("gateway-2", routed: 1));
        _view.Upsert(_f.Node("idle", routed: PendingWork.MinRouterRate / 2));
        _view.Upsert(_f.Node("older-version"));
        _view.Upsert(_f.Node("crashed", routed: 4, liveness: NodeLiveness.Dead));
        IndexedView first = _index.Current(_f.Time.GetUtcNow());

        // Not this node's own, not one below the router rate, none from a node that reports none or is dead.
        Assert.Equal(3.5, first.OtherRoutedRate, 9);

        _view.Upsert(_f.Node("gateway-1", routed: 0.5, version: 2));
        _view.Upsert(_f.Node("crashed", routed: 4, version: 2));
        IndexedView after = _index.Current(_f.Time.GetUtcNow());
        Assert.Same(first, after);
        Assert.Equal(5.5, after.OtherRoutedRate, 9);
    }
}
