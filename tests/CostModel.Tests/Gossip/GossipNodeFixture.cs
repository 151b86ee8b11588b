using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>What a test node reports about itself; the fixture's probes read it on every collection.</summary>
internal sealed class NodeConditions
{
    public PowerSource Source { get; set; } = PowerSource.Mains;

    public double? BatteryPercent { get; set; }

    public double Cpu { get; set; } = 0.2;

    public bool Metered { get; set; }

    public int QueueDepth { get; set; }
}

/// <summary>
/// One real node built through DI (collector with fake probes, scorer, mesh view, gossip adapter,
/// router) on a fake clock. The test moves bytes between nodes by hand or over the in-memory network.
/// </summary>
internal sealed class GossipNodeFixture : IDisposable
{
    public const string Model = "llama-3.1-8b";

    private readonly ServiceProvider _provider;

    public GossipNodeFixture(string nodeId, FakeTimeProvider time, Action<CostModelOptions>? configure = null, int seed = 1, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        Time = time;
        Settings = new ReplaceableSettings(settings ?? []);
        Configuration = new ConfigurationBuilder().Add(Settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IRandomSource>(new SeededRandomSource(seed));
        services.AddMetrics();
        services.Configure<CostModelOptions>(o =>
        {
            o.NodeId = nodeId;
            o.Pricing.UseBundledTable = true;
            o.Gossip.Dissemination = GossipDissemination.Pull;
            configure?.Invoke(o);
        });
        services.AddCostModel(Configuration.GetSection("CostModel"))
        .AddProbe(new FakeProbe("test-power", SignalGroup.Power, b => b.Power = Power(time.GetUtcNow())))
        .AddProbe(new FakeProbe("test-compute", SignalGroup.Compute, b => b.Compute = new ComputeFactors { CpuUtilization = Reading.Measured(Conditions.Cpu, time.GetUtcNow(), "test") }))
        .AddProbe(new FakeProbe("test-network", SignalGroup.Network, b => b.Network = new NetworkFactors { Metered = Reading.Measured(Conditions.Metered, time.GetUtcNow(), "test") }))
        .AddProbe(new FakeProbe("test-pending", SignalGroup.Pending, b => b.Pending = new PendingWork { QueueDepth = Reading.Measured(Conditions.QueueDepth, time.GetUtcNow(), "test") }))
        .AddGossip();
        _provider = services.BuildServiceProvider();
        View = _provider.GetRequiredService<MeshView>();
        Adapter = _provider.GetRequiredService<GossipAdapter>();
        Router = _provider.GetRequiredService<IRouter>();
        Adapter.SetCapabilities(new NodeCapabilities(nodeId, 1)
        {
            Models = [new ServedModel(Model) { ParameterBillions = 8, QuantizationBits = 4.5, ContextTokens = 8192, DecodeTokensPerSecond = 20, PrefillTokensPerSecond = 200, ParallelSlots = 4 }],
        });
    }

    public NodeConditions Conditions { get; } = new();

    /// <summary>The configuration the options bind from.</summary>
    public IConfigurationRoot Configuration { get; }

    /// <summary>The settings behind <see cref="Configuration"/>: replace them to change options live.</summary>
    public ReplaceableSettings Settings { get; }

    public FakeTimeProvider Time { get; }

    public MeshView View { get; }

    public GossipAdapter Adapter { get; }

    public IRouter Router { get; }

    public string NodeId => Adapter.NodeId;

    public IServiceProvider Services => _provider;

    public MeshNode? Find(string nodeId) => View.Nodes.FirstOrDefault(n => n.NodeId == nodeId);

    /// <summary>Runs one adapter round now (the timer's work), without moving the clock.</summary>
    public void Round() => Adapter.Tick();

    /// <summary>Pulls one message from this node (empty when it has nothing to say).</summary>
    public byte[] Pull(int budget = GossipDefaults.Mtu)
    {
        byte[] buffer = new byte[budget];
        int n = Adapter.WritePayload(buffer);
        return buffer[..n];
    }

    /// <summary>Rounds on this node, then hands what it pulls to each peer.</summary>
    public void GossipTo(params GossipNodeFixture[] peers)
    {
        Round();
        byte[] message = Pull();
        if (message.Length == 0)
        {
            return;
        }

        foreach (GossipNodeFixture peer in peers)
        {
            peer.Adapter.Receive(message, NodeId);
        }
    }

    public void Dispose() => _provider.Dispose();

    private PowerFactors Power(DateTimeOffset t) => Conditions.BatteryPercent is { } percent
        ? new PowerFactors
        {
            Source = Reading.Measured(Conditions.Source, t, "test"),
            BatteryCount = Reading.Measured(1, t, "test"),
            BatteryPercent = Reading.Measured(percent, t, "test"),
            ChargeState = Reading.Measured(Conditions.Source == PowerSource.Battery ? ChargeState.Discharging : ChargeState.Charging, t, "test"),
            BatteryRateWatts = Reading.Measured(15.0, t, "test"),
        }
        : new PowerFactors { Source = Reading.Measured(Conditions.Source, t, "test"), BatteryCount = Reading.Measured(0, t, "test") };
}

/// <summary>An in-memory configuration whose settings a test replaces wholesale, raising a reload as a file change would.</summary>
internal sealed class ReplaceableSettings(IEnumerable<KeyValuePair<string, string?>> initial) : ConfigurationProvider, IConfigurationSource
{
    private readonly IEnumerable<KeyValuePair<string, string?>> _initial = initial;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public override void Load() => Data = new Dictionary<string, string?>(_initial, StringComparer.OrdinalIgnoreCase);

    public void Replace(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        Data = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);
        OnReload();
    }
}
