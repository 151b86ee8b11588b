using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
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
/// router) on a fake clock. The test moves bytes between nodes by hand (<see cref="Deliver"/>,
/// <see cref="GossipTo"/>) or over the in-memory network; what the adapter sends to an address
/// (challenges, echoes, sync replies) travels over a <see cref="TestWire"/> shared by the nodes
/// of one test (by default, those on the same clock), so first contacts prove themselves as in a mesh.
/// </summary>
internal sealed class GossipNodeFixture : IDisposable
{
    public const string Model = "llama-3.1-8b";

    /// <summary>The key every fixture seals with unless the test sets keys or allows unauthenticated gossip (a fixed test key, never a secret).</summary>
    public static readonly string TestKey = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("costmodel-fixture-test-key-32-by"));

    private readonly ServiceProvider _provider;
    private readonly IDisposable _wiring;

    public GossipNodeFixture(string nodeId, FakeTimeProvider time, Action<GossipOptions>? configure = null, int seed = 1, IEnumerable<KeyValuePair<string, string?>>? settings = null, TestWire? wire = null, FakeLogCollector? logs = null)
    {
        Time = time;
        Wire = wire ?? TestWire.For(time);
        settings ??= [];
        bool keysInSettings = settings.Any(kv => kv.Key.StartsWith("CostModel:Gossip:Keys", StringComparison.OrdinalIgnoreCase));
        Settings = new ReplaceableSettings(settings);
        Configuration = new ConfigurationBuilder().Add(Settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IRandomSource>(new SeededRandomSource(seed));
        services.AddMetrics();
        if (logs is not null)
        {
            services.AddLogging(l => l.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
        }

        // Before the configuration binding, so settings given as configuration win (key rotation tests reload them).
        services.Configure<CostModelOptions>(o => o.NodeId = nodeId);
        services.Configure<PricingOptions>(o => o.UseBundledTable = true);
        services.Configure<GossipOptions>(o =>
        {
            o.Dissemination = GossipDissemination.Pull;
            if (!keysInSettings)
            {
                o.Keys = [TestKey];
            }

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
        _wiring = Wire.Attach(nodeId, Adapter);
    }

    /// <summary>Gossip without keys (for tests of framing and checksums, not of authentication).</summary>
    public static void Unauthenticated(GossipOptions options)
    {
        options.Keys = [];
        options.AllowUnauthenticated = true;
    }

    /// <summary>The wire this node's addressed messages travel over.</summary>
    public TestWire Wire { get; }

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
    public byte[] Pull(int? budget = null)
    {
        byte[] buffer = new byte[budget ?? GossipDefaults.Mtu];
        int n = Adapter.WritePayload(buffer);
        return buffer[..n];
    }

    /// <summary>Rounds on this node, then hands what it pulls to each peer (and lets the wire carry what that sets off).</summary>
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
            peer.Deliver(message, NodeId);
        }
    }

    /// <summary>Hands bytes to this node's adapter as from <paramref name="from"/>, then carries every addressed message that sets off until the wire is quiet.</summary>
    /// <returns>What <see cref="IGossipAdapter.Receive"/> answered for these bytes.</returns>
    public bool Deliver(ReadOnlySpan<byte> message, string from)
    {
        bool accepted = Adapter.Receive(message, from);
        Wire.Pump();
        return accepted;
    }

    public void Dispose()
    {
        _wiring.Dispose();
        _provider.Dispose();
    }

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
