using CostModel.Collection;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>
/// One real mesh node in this process, built through DI as a host builds it (collector with fake
/// probes, mesh view, gossip adapter with a key, pushing, no relays) on a real
/// <see cref="NatsGossipTransport"/>, with the real clock.
/// </summary>
internal sealed class NatsNode : IAsyncDisposable
{
    /// <summary>A mesh's key for the tests (32 bytes, base64).</summary>
    public static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private readonly ServiceProvider _provider;

    private NatsNode(ServiceProvider provider, NatsGossipTransport transport)
    {
        _provider = provider;
        Adapter = provider.GetRequiredService<GossipAdapter>();
        View = provider.GetRequiredService<IMeshView>();
        Transport = transport;
    }

    public GossipAdapter Adapter { get; }

    public IMeshView View { get; }

    public NatsGossipTransport Transport { get; }

    public string NodeId => Adapter.NodeId;

    /// <summary>Starts a node: the transport first (so the adapter's first publication is not lost), then the adapter.</summary>
    /// <param name="nodeId">Its id.</param>
    /// <param name="url">The server.</param>
    /// <param name="heartbeat">The longest silence (and the least time between publications).</param>
    /// <param name="configure">Changes to the transport's options.</param>
    /// <param name="key">The mesh key; the tests' own by default.</param>
    /// <param name="logger">Where the transport logs; none by default.</param>
    /// <param name="startAdapter">False to leave the adapter's rounds stopped (it still receives, proves and merges): a quiet node.</param>
    public static async Task<NatsNode> StartAsync(string nodeId, string url, TimeSpan heartbeat, Action<NatsGossipOptions>? configure = null, string? key = null, Microsoft.Extensions.Logging.ILogger<NatsGossipTransport>? logger = null, bool startAdapter = true)
    {
        ServiceProvider provider = Build(nodeId, key ?? Key, heartbeat);
        var options = new NatsGossipOptions { Url = url, Mesh = "test" };
        configure?.Invoke(options);
        GossipAdapter adapter = provider.GetRequiredService<GossipAdapter>();
        adapter.SetCapabilities(new NodeCapabilities(nodeId, 1) { Models = [new ServedModel("llama-3.1-8b") { DecodeTokensPerSecond = 20, ParallelSlots = 2 }] });
        var node = new NatsNode(provider, new NatsGossipTransport(adapter, options, logger));
        await node.Transport.StartAsync(TestContext.Current.CancellationToken);
        if (startAdapter)
        {
            adapter.Start();
        }

        return node;
    }

    /// <summary>A node's adapter without a transport (an attacker's, to write messages with another key).</summary>
    public static GossipAdapter AdapterOnly(string nodeId, string key, out IDisposable owner)
    {
        ServiceProvider provider = Build(nodeId, key, TimeSpan.FromSeconds(1));
        owner = provider;
        return provider.GetRequiredService<GossipAdapter>();
    }

    /// <summary>Whether this node sees each of <paramref name="others"/> alive now.</summary>
    public bool SeesAlive(IEnumerable<string> others) =>
        others.All(id => View.Nodes.Any(n => n.NodeId == id && n.Liveness == NodeLiveness.Alive));

    public string Describe() => $"{NodeId} sees [{string.Join(", ", View.Nodes.Where(n => !n.IsLocal).Select(n => $"{n.NodeId}={n.Liveness}"))}]; transport {Transport.Stats}; adapter {Adapter.Statistics}";

    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync();
        await _provider.DisposeAsync();
    }

    private static ServiceProvider Build(string nodeId, string key, TimeSpan heartbeat)
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddCostModel(o => o.NodeId = nodeId)
        .Configure<CostModel.Pricing.PricingOptions>(o => o.UseBundledTable = true)
        .Configure<GossipOptions>(o =>
        {
            o.Keys = [key];
            o.Dissemination = GossipDissemination.Push;
            o.RetransmitMultiplier = 0; // the server delivers each message to every node
            o.MaxSilence = heartbeat;
            o.MinPublishInterval = heartbeat < TimeSpan.FromSeconds(1) ? heartbeat : TimeSpan.FromSeconds(1);
            o.DeadAfter = heartbeat * 8;
        })
        .AddProbe(new FakeProbe("test-power", SignalGroup.Power, b => b.Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, TimeProvider.System.GetUtcNow(), "test") }))
        .AddProbe(new FakeProbe("test-compute", SignalGroup.Compute, b => b.Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.2, TimeProvider.System.GetUtcNow(), "test") }))
        .AddGossip();
        return services.BuildServiceProvider();
    }
}
