using CostModel.Routing;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CostModel.Tests.Routing;

/// <summary>The decision stream: serialised across routing threads, and a subscriber's failure never reaches routing (issue 12, item 9).</summary>
public sealed class RouterDecisionStreamTests
{
    // A guard against a hang, never a wait for something to happen.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_throwing_subscriber_neither_breaks_Route_nor_leaks_the_lease_it_took()
    {
        using var f = new RouterFixture();
        f.Add(f.Node("a"));
        using var failures = new MetricCollector<long>(f.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.stream.subscriber_failures");
        var seen = new List<string?>();
        using IDisposable thrower = f.Router.Decisions.Subscribe(_ => throw new InvalidOperationException("subscriber bug"));
        using IDisposable recorder = f.Router.Decisions.Subscribe(d => seen.Add(d.TargetId));

        RouteDecision decision = f.Router.Route(RouterFixture.Request());

        Assert.Equal("a", decision.TargetId);
        Assert.True(decision.Lease.IsTracked);
        Assert.Equal(1, f.Internal.InFlight("a"));
        Assert.Equal(["a"], seen);
        Assert.Equal("router.decisions", Assert.Single(failures.GetMeasurementSnapshot()).Tags["stream"]);

        Assert.True(decision.Lease.Complete(new RouteOutcome(true, 1, 10)));
        Assert.Equal(0, f.Internal.InFlight("a"));
        Assert.Equal(0, f.Internal.ActiveLeases);
    }

    [Fact]
    public async Task Decisions_from_many_routing_threads_reach_a_subscriber_one_at_a_time()
    {
        const int Threads = 4;
        const int PerThread = 2_000;
        using var f = new RouterFixture();
        f.Add(f.Node("a"), f.Node("b"), f.Node("c"), f.Node("d"));
        int inside = 0;
        int mostInside = 0;
        int received = 0;
        using IDisposable subscription = f.Router.Decisions.Subscribe(_ =>
        {
            int now = Interlocked.Increment(ref inside);
            int seen;
            while (now > (seen = Volatile.Read(ref mostInside)) && Interlocked.CompareExchange(ref mostInside, now, seen) != seen)
            {
            }

            // A plain increment on purpose: overlapping calls would lose updates.
            received++;
            Thread.SpinWait(20); // widens the window in which an overlap would show
            Interlocked.Decrement(ref inside);
        });

        using var start = new Barrier(Threads);
        Task[] routers = [.. Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(Guard);
            for (int i = 0; i < PerThread; i++)
            {
                f.Router.Route(RouterFixture.Request()).Lease.Dispose();
            }
        }, TaskCreationOptions.LongRunning))];
        await Task.WhenAll(routers).WaitAsync(Guard, TestContext.Current.CancellationToken);

        Assert.Equal(1, mostInside);
        Assert.Equal(Threads * PerThread, received);
        Assert.Equal(0, f.Internal.ActiveLeases);
    }

    [Fact]
    public void Disposing_the_router_completes_the_stream()
    {
        var f = new RouterFixture();
        bool completed = false;
        using IDisposable subscription = f.Router.Decisions.Subscribe(_ => { }, () => completed = true);

        f.Dispose();

        Assert.True(completed);
    }
}
