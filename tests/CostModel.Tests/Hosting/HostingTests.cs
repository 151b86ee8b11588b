using CostModel.Collection;
using CostModel.Gossip;
using CostModel.Hosting;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Telemetry;
using CostModel.Tests.Gossip;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Hosting;

public sealed class HostingTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task In_a_generic_host_gossip_rounds_start_and_stop_with_the_host()
    {
        var time = new FakeTimeProvider(Start);
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddCostModel(o => o.NodeId = "hosted").AddGossip().Configure<GossipOptions>(o => o.Keys = [GossipNodeFixture.TestKey]);
        using IHost host = builder.Build();
        GossipAdapter adapter = host.Services.GetRequiredService<GossipAdapter>();
        Assert.False(adapter.IsRunning);

        await host.StartAsync(TestContext.Current.CancellationToken);
        Assert.True(adapter.IsRunning);
        time.Advance(GossipDefaults.Interval);
        Assert.Equal(1, adapter.Statistics.Published); // the first round sampled and published, with nothing called by hand

        await host.StopAsync(TestContext.Current.CancellationToken);
        Assert.False(adapter.IsRunning);
    }

    [Fact]
    public async Task The_collector_check_is_unhealthy_before_a_snapshot_healthy_while_sampling_and_degraded_when_it_stops()
    {
        var time = new FakeTimeProvider(Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddCostModel(o => o.NodeId = "n");
        services.AddLogging();
        services.AddHealthChecks().AddCostModelChecks();
        await using ServiceProvider provider = services.BuildServiceProvider();
        HealthCheckService health = provider.GetRequiredService<HealthCheckService>();

        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Entries[CostModelHealthCheckExtensions.CollectorCheckName].Status);

        provider.GetRequiredService<ICostCollector>().Collect();
        time.Advance(CollectionDefaults.SampleInterval * CollectorHealthCheck.StaleAfterIntervals);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Entries[CostModelHealthCheckExtensions.CollectorCheckName].Status);

        time.Advance(TimeSpan.FromMilliseconds(1));
        HealthReportEntry stale = (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Entries[CostModelHealthCheckExtensions.CollectorCheckName];
        Assert.Equal(HealthStatus.Degraded, stale.Status);
        Assert.Contains("sampling", stale.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gossip_check_follows_the_rounds_and_the_peers_liveness()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time);
        using var b = new GossipNodeFixture("b", time);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHealthChecks().AddCheck(CostModelHealthCheckExtensions.GossipCheckName, new GossipHealthCheck(b.Adapter));
        await using ServiceProvider provider = services.BuildServiceProvider();
        HealthCheckService health = provider.GetRequiredService<HealthCheckService>();
        async Task<HealthStatus> Gossip() => (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Entries[CostModelHealthCheckExtensions.GossipCheckName].Status;

        Assert.Equal(HealthStatus.Unhealthy, await Gossip()); // not started
        b.Adapter.Start();
        Assert.Equal(HealthStatus.Degraded, await Gossip()); // nobody heard yet
        a.GossipTo(b);
        Assert.Equal(HealthStatus.Healthy, await Gossip());

        // a falls silent: suspect, then dead; every peer is lost.
        for (int s = 0; s < 40; s++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(HealthStatus.Unhealthy, await Gossip());
    }

    [Fact]
    public void AddCostModelChecks_adds_the_gossip_check_only_with_gossip()
    {
        var without = new ServiceCollection();
        without.AddCostModel(o => o.NodeId = "n");
        without.AddHealthChecks().AddCostModelChecks();
        var with = new ServiceCollection();
        with.AddCostModel(o => o.NodeId = "n").AddGossip();
        with.AddHealthChecks().AddCostModelChecks();

        Assert.Equal([CostModelHealthCheckExtensions.CollectorCheckName], Registrations(without));
        Assert.Equal([CostModelHealthCheckExtensions.CollectorCheckName, CostModelHealthCheckExtensions.GossipCheckName], Registrations(with));
    }

    [Fact]
    public void Active_leases_and_in_flight_counts_are_public_and_on_the_meter()
    {
        var time = new FakeTimeProvider(Start);
        using var f = new Routing.RouterFixture(time: time);
        f.Add(f.Node("a"));
        using var gauge = new MetricCollector<int>(f.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.router.leases.active");

        RouteDecision[] decisions = [.. Enumerable.Range(0, 3).Select(_ => f.Router.Route(new RequestProfile(Routing.RouterFixture.Model) { InputTokens = 10, OutputTokens = 10 }))];
        gauge.RecordObservableInstruments();
        Assert.Equal(3, f.Router.ActiveLeases);
        Assert.Equal(3, f.Router.InFlight("a"));
        Assert.Equal(3, gauge.LastMeasurement!.Value);

        foreach (RouteDecision decision in decisions)
        {
            decision.Lease.Dispose();
        }

        gauge.RecordObservableInstruments();
        Assert.Equal(0, f.Router.ActiveLeases);
        Assert.Equal(0, f.Router.InFlight("a"));
        Assert.Equal(0, gauge.LastMeasurement!.Value);
    }

    private static string[] Registrations(ServiceCollection services)
    {
        using ServiceProvider provider = services.BuildServiceProvider();
        return [.. provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name)];
    }
}
