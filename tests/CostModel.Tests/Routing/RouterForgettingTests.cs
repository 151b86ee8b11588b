using System.Reactive.Linq;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>The router's per-target state is bounded by the view and forgotten with its node (issue 12, item 7).</summary>
public sealed class RouterForgettingTests
{
    [Fact]
    public void Forged_ids_that_join_and_are_removed_leave_no_state_behind()
    {
        // 5,000 ids that a forger made up, 50 at a time, each routed over and then removed (as the
        // gossip adapter removes dead nodes). Before, each one left a state for good.
        using var f = new RouterFixture();
        f.Add(f.Node("real"));
        for (int round = 0; round < 100; round++)
        {
            for (int k = 0; k < 50; k++)
            {
                Assert.True(f.View.Upsert(f.Node($"forged-{round}-{k}")));
            }

            f.Router.Route(RouterFixture.Request()).Lease.Dispose();
            Assert.Equal(51, f.Internal.TargetStates);
            for (int k = 0; k < 50; k++)
            {
                Assert.True(f.View.Remove($"forged-{round}-{k}"));
            }
        }

        Assert.Equal(1, f.Internal.TargetStates);
        Assert.True(f.Internal.Remembers("real"));
    }

    [Fact]
    public void A_view_that_never_says_Removed_is_followed_by_its_snapshots()
    {
        // A host's own view may not stream changes: a rebuilt snapshot that no longer lists a node forgets it too.
        var view = new SnapshotOnlyView();
        using var f = new RouterFixture(view: view);
        MeshNode real = f.Node("real");
        for (int round = 0; round < 100; round++)
        {
            view.Nodes = [real, .. Enumerable.Range(0, 50).Select(k => f.Node($"forged-{round}-{k}"))];
            f.Router.Route(RouterFixture.Request()).Lease.Dispose();
        }

        Assert.Equal(51, f.Internal.TargetStates);

        view.Nodes = [real];
        Assert.Equal("real", f.Router.Route(RouterFixture.Request()).TargetId);

        Assert.Equal(1, f.Internal.TargetStates);
    }

    [Fact]
    public void A_lease_on_a_node_that_left_completes_cleanly_and_the_node_comes_back_fresh()
    {
        using var f = new RouterFixture();
        f.Add(f.Node("a"));
        RouteDecision held = f.Router.Route(RouterFixture.Request());
        RouteDecision failed = f.Router.Route(RouterFixture.Request());
        Assert.True(failed.Lease.Complete(new RouteOutcome(false, 0.01, 0)));
        Assert.Equal(1, f.Router.InFlight("a"));

        Assert.True(f.View.Remove("a"));
        Assert.False(f.Internal.Remembers("a"));
        Assert.False(f.Router.Route(RouterFixture.Request()).HasTarget);

        // The lease taken before the node left still completes, once, and releases its count.
        Assert.True(held.Lease.Complete(new RouteOutcome(false, 0.01, 0)));
        Assert.False(held.Lease.Complete(new RouteOutcome(false, 0.01, 0)));
        Assert.Equal(0, f.Router.ActiveLeases);

        // Back (a restart, or an id reused): nothing of the old failures, nor of the late outcome, is carried over.
        f.Add(f.Node("a", version: 2));
        var explanation = new RouteExplanation();
        RouteDecision back = f.Router.Route(RouterFixture.Request(), explanation);
        Assert.Equal("a", back.TargetId);
        Assert.Equal(0, Assert.Single(explanation.Candidates).FailureRate);
        Assert.Equal(1, f.Router.InFlight("a"));
        back.Lease.Dispose();
        Assert.Equal(0, f.Router.InFlight("a"));
        Assert.Equal(0, f.Router.ActiveLeases);
    }

    [Fact]
    public void Failures_reported_after_the_node_left_eject_nothing()
    {
        using var f = new RouterFixture();
        using var ejections = new MetricCollector<long>(f.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.router.ejections");
        f.Add(f.Node("a"));
        RouteDecision[] held = [.. Enumerable.Range(0, RoutingDefaults.EjectionConsecutiveFailures).Select(_ => f.Router.Route(RouterFixture.Request()))];
        Assert.All(held, d => Assert.Equal("a", d.TargetId));
        f.Add(f.Node("b"));
        Assert.True(f.View.Remove("a"));

        // Enough consecutive failures to eject "a", had it stayed.
        foreach (RouteDecision d in held)
        {
            Assert.True(d.Lease.Complete(new RouteOutcome(false, 0.01, 0)));
        }

        Assert.Empty(ejections.GetMeasurementSnapshot());
        Assert.Equal(0, f.Router.ActiveLeases);
        Assert.Equal("b", f.Router.Route(RouterFixture.Request()).TargetId);
    }

    [Fact]
    public void A_lease_on_a_node_that_left_expires_like_any_other()
    {
        using var f = new RouterFixture();
        f.Add(f.Node("a"), f.Node("b"));
        for (int i = 0; i < 10; i++)
        {
            Assert.True(f.Router.Route(RouterFixture.Request()).HasTarget);
        }

        Assert.True(f.View.Remove("a"));
        f.Time.Advance(RoutingDefaults.LeaseTimeout + TimeSpan.FromMinutes(3));
        f.Router.Route(RouterFixture.Request()).Lease.Dispose();

        Assert.Equal(0, f.Router.ActiveLeases);
        Assert.Equal(0, f.Router.InFlight("b"));
        Assert.False(f.Internal.Remembers("a"));
    }

    [Fact]
    public void Affinity_entries_pointing_at_a_node_that_left_are_purged_and_the_others_kept()
    {
        using var f = new RouterFixture();
        f.Add(f.Node("a", cpu: 0.1), f.Node("b", cpu: 0.6));
        RouteDecision onA = f.Router.Route(RouterFixture.Request("conversation-1"));
        Assert.Equal("a", onA.TargetId);
        onA.Lease.Dispose();
        Assert.True(f.View.Remove("a"));
        RouteDecision onB = f.Router.Route(RouterFixture.Request("conversation-2"));
        Assert.Equal("b", onB.TargetId);
        onB.Lease.Dispose();
        Assert.Equal(2, f.Internal.AffinityKeys);

        // The router's periodic sweep (a quarter of the lease timeout), well within the affinity TTL (30 min).
        f.Time.Advance((RoutingDefaults.LeaseTimeout / 4) + TimeSpan.FromSeconds(1));
        f.Router.Route(RouterFixture.Request()).Lease.Dispose();

        Assert.Equal(1, f.Internal.AffinityKeys);
        Assert.Equal("b", f.Router.Route(RouterFixture.Request("conversation-2")).TargetId);
    }

    [Fact]
    public void An_endpoint_dropped_from_the_options_is_forgotten_and_its_lease_still_completes()
    {
        IConfigurationRoot config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CostModel:NodeId"] = "router",
            ["CostModel:Pricing:UseBundledTable"] = "true",
            ["CostModel:Routing:ApiEndpoints:0:Id"] = "api-old",
            ["CostModel:Routing:ApiEndpoints:0:Model"] = "gpt-4o",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero)));
        services.AddCostModel(config.GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();
        var router = (DefaultRouter)provider.GetRequiredService<IRouter>();
        var request = new RequestProfile("gpt-4o") { InputTokens = 100, OutputTokens = 100 };
        RouteDecision before = router.Route(request);
        Assert.Equal("api-old", before.TargetId);

        config["CostModel:Routing:ApiEndpoints:0:Id"] = "api-new";
        config.Reload();
        RouteDecision after = router.Route(request);

        Assert.Equal("api-new", after.TargetId);
        Assert.False(router.Remembers("api-old"));
        Assert.True(router.Remembers("api-new"));
        Assert.True(before.Lease.Complete(new RouteOutcome(true, 2, 100)));
        after.Lease.Dispose();
        Assert.Equal(0, router.ActiveLeases);
    }

    /// <summary>A host's view that publishes snapshots only: its change stream never says anything.</summary>
    private sealed class SnapshotOnlyView : IMeshView
    {
        public IReadOnlyList<MeshNode> Nodes { get; set; } = [];

        public IObservable<MeshChange> Changes { get; } = Observable.Never<MeshChange>();
    }
}
