using CostModel.Collection;
using CostModel.Factors;
using CostModel.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Tests.Routing;

/// <summary>
/// The rate a node's router places, measured from its decisions and reported by the collector, and
/// what counting the mesh's routers by it changes in a burst (the count itself: <see cref="CandidateIndexTests"/>).
/// </summary>
public sealed class RouterCountTests : IDisposable
{
    private const double OneAMinute = 1.0 / 60;

    private readonly RouterFixture _f = new();

    public void Dispose() => _f.Dispose();

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

    [Theory]
    [InlineData(0.0)]
    [InlineData(120.0)]
    public void A_busy_gateway_draws_its_usual_traffic_from_the_herd_the_other_routers_report(double othersPerSecond)
    {
        // This router routes two requests a second for two minutes over 4 fast nodes and 26 slow
        // one-slot machines. Alone, it leaves every request to the fast nodes; where the others report
        // 120 requests a second, it draws from the allocation of the 336 they place while its view is
        // stale, which reaches the slow machines (priced five times a fast node: the fast nodes' queues
        // at 45 requests each price the same).
        using var f = new RouterFixture();
        for (int i = 0; i < 30; i++)
        {
            f.Add(i < 4 ? f.Node($"fast-{i}", decode: 60, slots: 4, routed: othersPerSecond / 30) : f.Node($"slow-{i}", decode: 12, slots: 1, routed: othersPerSecond / 30));
        }

        int slow = 0;
        int draws = 0;

        for (int i = 0; i < 240; i++)
        {
            RouteDecision d = f.Router.Route(RouterFixture.Request());
            d.Lease.Dispose();
            f.Time.Advance(TimeSpan.FromMilliseconds(500));
            if (i >= 120)
            {
                slow += d.TargetId!.StartsWith("slow-", StringComparison.Ordinal) ? 1 : 0;
                draws += d.Flags.HasFlag(RouteNotes.HerdDraw) ? 1 : 0;
            }
        }

        if (othersPerSecond > 0)
        {
            Assert.True(draws > 60, $"{draws} of 120 decisions drew from the herd");
            Assert.True(slow > 0, "the herd's allocation reached no slow machine");
        }
        else
        {
            Assert.Equal((0, 0), (draws, slow));
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
