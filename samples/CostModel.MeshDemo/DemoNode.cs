using System.Net;
using CostModel.Collection;
using CostModel.DependencyInjection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Udp;
using CostModel.Mesh;
using CostModel.Platforms;
using CostModel.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CostModel.MeshDemo;

/// <summary>
/// One mesh node in this process: its own Generic Host (collector, scorer, mesh view, gossip
/// adapter, router, and the UDP transport on 127.0.0.1, started and stopped by the host). The real
/// node reads this machine's probes; a simulated one reads a <see cref="SimulatedMachine"/>.
/// </summary>
internal sealed class DemoNode : IAsyncDisposable
{
    /// <summary>
    /// 1 s heartbeat (the library's default is 5 s): on 127.0.0.1 it costs nothing, and the router
    /// counts the work it placed on a node only until that node's next snapshot arrives, so fresh
    /// snapshots keep the counts close to what is really running.
    /// </summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    /// <summary>250 ms between samples of a simulated machine (the default is 1 s): the script's clock runs fast, and its probes cost nothing.</summary>
    private static readonly TimeSpan SimulatedSampleInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>10 s battery trend window (the library's shortest; the default is 5 min): the script drains a battery in seconds, not hours.</summary>
    private static readonly TimeSpan SimulatedBatteryTrendWindow = TimeSpan.FromSeconds(10);

    private readonly IHost _host;
    private readonly UdpGossipTransport _transport;

    private DemoNode(IHost host, SimulatedMachine? machine)
    {
        _host = host;
        _transport = host.Services.GetRequiredService<UdpGossipTransport>();
        Machine = machine;
        Adapter = host.Services.GetRequiredService<GossipAdapter>();
        View = host.Services.GetRequiredService<IMeshView>();
    }

    public string NodeId => Adapter.NodeId;

    /// <summary>The simulated machine behind this node; null for the real one.</summary>
    public SimulatedMachine? Machine { get; }

    public GossipAdapter Adapter { get; }

    public IMeshView View { get; }

    /// <summary>
    /// The node's router, built on first use: only <c>this-machine</c> routes. A router once built
    /// makes its node report that it routes (<c>PendingWork.RoutedPerSecond</c>, one request counted
    /// at the start, about 23 minutes to fade), and a router expecting the other routers' requests at
    /// the start of a run spreads its own onto dearer targets (docs/routing.md, "How many routers"):
    /// the simulated peers, which never route, would have been taken for three more routers.
    /// </summary>
    public IRouter Router => _host.Services.GetRequiredService<IRouter>();

    public IPEndPoint EndPoint => _transport.LocalEndPoint;

    public IServiceProvider Services => _host.Services;

    /// <summary>Builds a node, starts its adapter and joins the mesh through <paramref name="seed"/> (none for the first node).</summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="model">What the node serves.</param>
    /// <param name="machine">The simulated machine, or null for this machine's real probes.</param>
    /// <param name="seed">The seed peer's endpoint, or null.</param>
    /// <param name="configure">Settings every node shares (the API endpoint).</param>
    /// <param name="random">The router's random source (seeded by the demo), or null for the default.</param>
    /// <param name="cancellationToken">Stops the join.</param>
    public static async Task<DemoNode> StartAsync(string nodeId, ServedModel model, SimulatedMachine? machine, IPEndPoint? seed, Action<ICostModelBuilder> configure, IRandomSource? random, CancellationToken cancellationToken)
    {
        HostApplicationBuilder hostBuilder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        IServiceCollection services = hostBuilder.Services;
        services.AddMetrics();
        if (random is not null)
        {
            services.AddSingleton(random);
        }

        ICostModelBuilder builder = services.AddCostModel(o => o.NodeId = nodeId)
            .Configure<GossipOptions>(g =>
            {
                // The UDP transport runs the gossip rounds and pulls what the adapter has to say.
                g.Dissemination = GossipDissemination.Pull;
                g.MaxSilence = Heartbeat;
                if (machine is not null)
                {
                    g.MinPublishInterval = SimulatedSampleInterval;
                }
            });
        if (machine is not null)
        {
            builder.Configure<CollectionOptions>(c =>
            {
                c.SampleInterval = SimulatedSampleInterval;
                c.BatteryTrendWindow = SimulatedBatteryTrendWindow;
            });
        }

        configure(builder);
        if (machine is null)
        {
            builder.AddPlatformProbes();
        }
        else
        {
            foreach (Collection.ISignalProbe probe in machine.Probes())
            {
                builder.AddProbe(probe);
            }
        }

        builder.AddGossip().AddUdpGossipTransport().Configure<UdpGossipOptions>(o =>
        {
            o.BindAddress = IPAddress.Loopback.ToString();
            o.Port = 0;
            if (seed is not null)
            {
                o.SeedPeers.Add(seed.ToString());
            }
        });
        IHost host = hostBuilder.Build();
        try
        {
            host.Services.GetRequiredService<GossipAdapter>().SetCapabilities(new NodeCapabilities(nodeId, 1) { Models = [model] });
            var node = new DemoNode(host, machine);
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>The node as this node's view knows it, or null.</summary>
    public MeshNode? Find(string nodeId) => View.Nodes.FirstOrDefault(n => n.NodeId == nodeId);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
    }
}
