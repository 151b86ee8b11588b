using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Routing;
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

        IndexedView indexed = _index.Current();

        ModelGroup model = indexed.Groups[RouterFixture.Model.ToUpperInvariant()];
        Assert.Equal(["a", "b", "c"], model.Slots.Select(s => s.Node.NodeId));
        ModelGroup relayed = indexed.Groups["other-model"];
        CandidateSlot relay = Assert.Single(relayed.Slots);
        Assert.Equal(("b", 2), (relay.Node.NodeId, relay.Hops));

        // The groups are consecutive in the one array of slots.
        Assert.Equal(indexed.Slots.Length, indexed.Listed.Sum(g => g.Slots.Length));
        foreach (ModelGroup group in indexed.Listed)
        {
            Assert.Equal(group.Slots, indexed.Slots.AsSpan(group.Start, group.Slots.Length).ToArray());
        }
    }

    [Fact]
    public void The_same_snapshot_gives_the_same_index_and_a_new_one_a_new_index()
    {
        _view.Upsert(_f.Node("a"));
        IndexedView first = _index.Current();

        Assert.Same(first, _index.Current());
        _view.Upsert(_f.Node("a", version: 2));
        Assert.NotSame(first, _index.Current());
    }

    [Fact]
    public void A_node_that_leaves_the_view_is_forgotten_and_comes_back_with_a_new_state()
    {
        _view.Upsert(_f.Node("a"));
        _view.Upsert(_f.Node("b"));
        TargetState a = _index.Current().States[0];

        _view.Remove("a");
        Assert.True(a.IsForgotten);
        Assert.False(_targets.Remembers("a"));

        _view.Upsert(_f.Node("a"));
        TargetState back = _index.Current().States.Single(s => s.TargetId == "a");
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

    private static MeshNode WithRelay(MeshNode node, string model, int hops) =>
        node with { Capabilities = node.Capabilities with { Relays = [new RelayRoute(model, "via", hops)] } };
}
