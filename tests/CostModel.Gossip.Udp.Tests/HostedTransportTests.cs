using System.Net;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// The UDP transport as a Generic Host runs it: configured from <c>CostModel:Gossip:Udp</c>,
/// started and stopped by the host with no call by hand, its counters on the <c>CostModel</c> meter.
/// </summary>
public sealed class HostedTransportTests
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(7, 32).Select(i => (byte)i).ToArray());

    /// <summary>A failure guard for two hosts meeting on a loaded machine, not an expected duration.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Two_generic_hosts_configured_from_appsettings_keys_meet_over_udp_and_stop_cleanly()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using IHost seed = Build("seed", seedPort: null);
        await seed.StartAsync(ct);
        UdpGossipTransport seedTransport = seed.Services.GetRequiredService<UdpGossipTransport>();
        Assert.Equal(IPAddress.Loopback, seedTransport.LocalEndPoint.Address);

        using IHost joiner = Build("joiner", seedTransport.LocalEndPoint.Port);
        using var datagrams = new MetricCollector<long>(joiner.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CostModel.Telemetry.CostModelMeter.Name, "costmodel.gossip.udp.datagrams");
        await joiner.StartAsync(ct);

        await Task.WhenAll(SeesAliveAsync(seed, "joiner", ct), SeesAliveAsync(joiner, "seed", ct));
        datagrams.RecordObservableInstruments();
        Assert.Contains(datagrams.GetMeasurementSnapshot(), m => Equals(m.Tags["direction"], "sent") && m.Value > 0);
        Assert.Equal(1, joiner.Services.GetRequiredService<UdpGossipTransport>().Stats.Peers);

        await joiner.StopAsync(ct);
        await seed.StopAsync(ct);
        Assert.False(joiner.Services.GetRequiredService<GossipAdapter>().IsRunning);
    }

    [Fact]
    public void Invalid_transport_settings_fail_the_host_at_start_with_the_key_named()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(
        [
            KeyValuePair.Create("CostModel:Gossip:Keys:0", (string?)Key),
            KeyValuePair.Create("CostModel:Gossip:Udp:BindAddress", (string?)"not-an-address"),
        ]);
        builder.Services.AddCostModel(builder.Configuration.GetSection("CostModel")).AddGossip().AddUdpGossipTransport();
        using IHost host = builder.Build();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("CostModel:Gossip:Udp", error.Message, StringComparison.Ordinal);
        Assert.Contains("BindAddress", error.Message, StringComparison.Ordinal);
    }

    private static IHost Build(string nodeId, int? seedPort)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var settings = new Dictionary<string, string?>
        {
            ["CostModel:NodeId"] = nodeId,
            ["CostModel:Gossip:Keys:0"] = Key,
            ["CostModel:Gossip:Dissemination"] = "Pull",
            ["CostModel:Gossip:MaxSilence"] = "00:00:00.5",
            ["CostModel:Gossip:MinPublishInterval"] = "00:00:00.5",
            ["CostModel:Gossip:Udp:Port"] = "0",
        };
        if (seedPort is { } port)
        {
            settings["CostModel:Gossip:Udp:SeedPeers:0"] = $"127.0.0.1:{port}";
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddMetrics();
        builder.Services.AddCostModel(builder.Configuration.GetSection("CostModel"))
            .AddProbe(new FakeProbe("test-power", SignalGroup.Power, b => b.Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, b.TimeProvider.GetUtcNow(), "test") }))
            .AddGossip()
            .AddUdpGossipTransport();
        return builder.Build();
    }

    private static async Task SeesAliveAsync(IHost host, string nodeId, CancellationToken ct)
    {
        IMeshView view = host.Services.GetRequiredService<IMeshView>();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = view.Changes.Subscribe(_ =>
        {
            if (view.Nodes.Any(n => n.NodeId == nodeId && n.Liveness == NodeLiveness.Alive))
            {
                seen.TrySetResult();
            }
        });
        if (view.Nodes.Any(n => n.NodeId == nodeId && n.Liveness == NodeLiveness.Alive))
        {
            return;
        }

        await seen.Task.WaitAsync(Patience, ct);
    }
}
