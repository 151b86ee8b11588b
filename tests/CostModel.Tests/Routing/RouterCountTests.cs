using CostModel.Collection;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Tests.Routing;

/// <summary>
/// How many routers a router counts (the herd of a burst is estimated over them): this node and the
/// nodes that report routing, not every candidate; measured by the router and reported by the collector.
/// </summary>
public sealed class RouterCountTests : IDisposable
{
    private const double OneAMinute = 1.0 / 60;

    private readonly RouterFixture _f = new();
    private readonly MeshView _view = new();
    private readonly TargetTable _targets = new();
    private readonly RoutingOptions _options = new();
    private readonly CandidateIndex _index;

    public RouterCountTests() =>
        _index = new CandidateIndex(_view, _targets, _f.Services.GetRequiredService<IPriceCatalog>(), _f.Services.GetRequiredService<CostModelMetrics>(), () => _options);

    public void Dispose()
    {
        _index.Dispose();
        _view.Dispose();
        _f.Dispose();
    }

    [Fact]
    public void The_view_counts_this_node_and_the_nodes_that_route_by_their_reports()
    {
        _view.Upsert(_f.Node("self", routed: 0) with { IsLocal = true });
        _view.Upsert(_f.Node("gateway-1", routed: 2.5));
        _view.Upsert(_f.Node("gateway-2", routed: OneAMinute));
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
    public void The_collector_reports_the_rate_this_node_routes_at_and_it_fades_when_routing_stops()
    {
        _f.Add(_f.Node("n1"), _f.Node("n2"));
        var collector = _f.Services.GetRequiredService<ICostCollector>();
        // The fixture built the router: it is credited with one request until it routes.
        Reading<double> before = collector.Collect().Pending.RoutedPerSecond;
        Assert.Equal(SignalQuality.Estimated, before.Quality);
        Assert.Equal(RoutedRate.AttachPrior / PendingWork.RoutedRateTimeConstant.TotalSeconds, before.Value, 1e-12);

        // A request a second for a minute, read every second as the collector samples.
        for (int i = 0; i < 60; i++)
        {
            _f.Router.Route(RouterFixture.Request()).Lease.Dispose();
            _f.Time.Advance(TimeSpan.FromSeconds(1));
            collector.Collect();
        }

        // 60 requests (and the prior) decayed over a 10-minute constant: the sum of e^(-k/600) for
        // k = 1..60 over 600 s, about 0.095.
        double rate = collector.Collect().Pending.RoutedPerSecond.Value;
        Assert.InRange(rate, 0.09, 0.1);

        // Idle: still a router 20 minutes on, no longer after 80 (the minute's rate falls below the
        // threshold after 600 s x ln(0.095 x 6,000), about 63 minutes).
        _f.Time.Advance(TimeSpan.FromMinutes(20));
        Assert.True(collector.Collect().Pending.RoutedPerSecond.Value >= PendingWork.MinRouterRate);
        _f.Time.Advance(TimeSpan.FromMinutes(60));
        Assert.True(collector.Collect().Pending.RoutedPerSecond.Value < PendingWork.MinRouterRate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_burst_at_the_only_router_of_a_gateway_mesh_stays_on_the_fast_nodes(bool everyNodeRoutes)
    {
        // 4 fast nodes and 26 slow one-slot machines. Where every node routes, a surge here is taken
        // as a surge at 29 other routers and the herd reaches the slow machines; where the others
        // report no routing, this router's 12 requests fit the fast nodes' 16 slots.
        using var f = new RouterFixture();
        for (int i = 0; i < 30; i++)
        {
            f.Add(i < 4 ? f.Node($"fast-{i}", decode: 60, slots: 4, routed: everyNodeRoutes ? OneAMinute : 0) : f.Node($"slow-{i}", decode: 12, slots: 1, routed: everyNodeRoutes ? OneAMinute : 0));
        }

        var targets = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            targets.Add(f.Router.Route(RouterFixture.Request()).TargetId!);
            f.Time.Advance(TimeSpan.FromMilliseconds(100));
        }

        int slow = targets.Count(t => t.StartsWith("slow-", StringComparison.Ordinal));
        if (everyNodeRoutes)
        {
            Assert.True(slow > 0, "a surge taken at 29 other routers spread nothing to the slow machines");
        }
        else
        {
            Assert.Equal(0, slow);
        }
    }

    [Fact]
    public void Every_decision_of_concurrent_routing_threads_is_counted()
    {
        _f.Add(_f.Node("n1"), _f.Node("n2"));
        var collector = _f.Services.GetRequiredService<ICostCollector>();
        Parallel.For(0, 6_000, _ => _f.Router.Route(RouterFixture.Request()).Lease.Dispose());

        // No time passed: the whole count (and the prior) over the time constant.
        Assert.Equal((6_000 + RoutedRate.AttachPrior) / PendingWork.RoutedRateTimeConstant.TotalSeconds, collector.Collect().Pending.RoutedPerSecond.Value, 1e-9);
    }

    [Fact]
    public void Two_routers_of_one_node_are_counted_together_each_from_when_it_was_attached()
    {
        long first = 40;
        long second = 7;
        var meter = new RoutedRate(_f.Time);
        meter.Attach(() => first);
        meter.Attach(() => second);
        first += 10;
        second += 5;

        Assert.Equal((10 + 5 + (2 * RoutedRate.AttachPrior)) / PendingWork.RoutedRateTimeConstant.TotalSeconds, meter.Read().Value, 1e-12);
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
    public void A_router_just_built_counts_until_about_23_minutes_without_a_request()
    {
        var meter = new RoutedRate(_f.Time);
        meter.Attach(() => 0);
        Assert.Equal(RoutedRate.AttachPrior / PendingWork.RoutedRateTimeConstant.TotalSeconds, meter.Read().Value, 1e-12);

        _f.Time.Advance(TimeSpan.FromMinutes(22));
        Assert.True(meter.Read().Value >= PendingWork.MinRouterRate);
        _f.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(meter.Read().Value < PendingWork.MinRouterRate);
    }

    [Fact]
    public void A_clock_set_back_does_not_grow_the_rate()
    {
        var time = new SettableTime { Now = _f.Time.GetUtcNow() };
        long decisions = 0;
        var meter = new RoutedRate(time);
        meter.Attach(() => decisions);
        decisions++;
        double first = meter.Read().Value;
        time.Now -= TimeSpan.FromHours(1);
        decisions++;
        Assert.Equal(first + (1 / PendingWork.RoutedRateTimeConstant.TotalSeconds), meter.Read().Value, 1e-12);
    }

    // FakeTimeProvider refuses to go back; a host's wall clock may.
    private sealed class SettableTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
