using System.Collections.Concurrent;
using System.Net;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Mesh;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// One real mesh node in this process, built through DI as a host builds it (collector with fake
/// probes, mesh view, gossip adapter with a key) behind an <see cref="ObservingAdapter"/>, on a real
/// <see cref="UdpGossipTransport"/> on 127.0.0.1 and the real clock. It beats every 0.5 s and declares
/// a node dead after 4 s of silence, as the process tests do, so a test runs in seconds.
/// </summary>
internal sealed class GossipHost : IAsyncDisposable
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(500);

    public static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(4);

    private readonly ServiceProvider _provider;
    private readonly IDisposable _changes;
    private readonly ConcurrentQueue<MeshChange> _losses = new();
    private Action? _onChange;

    private GossipHost(ServiceProvider provider, GossipAdapter adapter)
    {
        _provider = provider;
        Adapter = adapter;
        Observed = new ObservingAdapter(adapter);
        View = provider.GetRequiredService<IMeshView>();
        _changes = View.Changes.Subscribe(change =>
        {
            if (change.Kind is MeshChangeKind.Dead or MeshChangeKind.Removed)
            {
                _losses.Enqueue(change);
            }

            Volatile.Read(ref _onChange)?.Invoke();
        });
    }

    public GossipAdapter Adapter { get; }

    public ObservingAdapter Observed { get; }

    public IMeshView View { get; }

    public UdpGossipTransport Transport { get; private set; } = null!;

    public string NodeId => Adapter.NodeId;

    /// <summary>Nodes this one declared dead or removed since it started.</summary>
    public IReadOnlyCollection<MeshChange> Losses => _losses;

    /// <summary>A node's adapter without a transport (an attacker's, to write messages with another key).</summary>
    public static GossipAdapter AdapterOnly(string nodeId, string key, out IDisposable owner)
    {
        ServiceProvider provider = Build(nodeId, key);
        owner = provider;
        return provider.GetRequiredService<GossipAdapter>();
    }

    public static async Task<GossipHost> StartAsync(string nodeId, string key, IPEndPoint? seed)
    {
        ServiceProvider provider = Build(nodeId, key);
        var host = new GossipHost(provider, provider.GetRequiredService<GossipAdapter>());
        host.Adapter.SetCapabilities(new NodeCapabilities(nodeId, 1) { Models = [new ServedModel("llama-3.1-8b") { DecodeTokensPerSecond = 20, ParallelSlots = 2 }] });
        var options = new UdpGossipOptions(); // 127.0.0.1, an ephemeral port
        if (seed is not null)
        {
            options.SeedPeers.Add(seed.ToString());
        }

        host.Transport = new UdpGossipTransport(host.Observed, options);
        host.Adapter.Start();
        await host.Transport.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }

    /// <summary>Whether this node sees each of <paramref name="others"/> alive now.</summary>
    public bool SeesAlive(IEnumerable<string> others) =>
        others.All(id => View.Nodes.Any(n => n.NodeId == id && n.Liveness == NodeLiveness.Alive));

    /// <summary>Waits, on the view's change events, until this node sees each of <paramref name="others"/> alive.</summary>
    public async Task WaitUntilSeesAliveAsync(IReadOnlyCollection<string> others, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _onChange, () =>
        {
            if (SeesAlive(others))
            {
                seen.TrySetResult();
            }
        });
        try
        {
            if (SeesAlive(others))
            {
                return;
            }

            await seen.Task.WaitAsync(timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            string view = string.Join(", ", View.Nodes.Select(n => $"{n.NodeId}={n.Liveness}"));
            Assert.Fail($"{NodeId} did not see {string.Join(",", others)} alive within {timeout}; it sees {view}");
        }
        finally
        {
            Volatile.Write(ref _onChange, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync();
        _changes.Dispose();
        await _provider.DisposeAsync();
    }

    private static ServiceProvider Build(string nodeId, string key)
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddCostModel(o => o.NodeId = nodeId)
        .Configure<CostModel.Pricing.PricingOptions>(o => o.UseBundledTable = true)
        .Configure<GossipOptions>(o =>
        {
            o.Keys = [key];
            o.Dissemination = GossipDissemination.Pull; // the transport runs the rounds
            o.MaxSilence = Heartbeat;
            o.MinPublishInterval = Heartbeat;
            o.DeadAfter = DeadAfter;
        })
        .AddProbe(new FakeProbe("test-power", SignalGroup.Power, b => b.Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, TimeProvider.System.GetUtcNow(), "test") }))
        .AddProbe(new FakeProbe("test-compute", SignalGroup.Compute, b => b.Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.2, TimeProvider.System.GetUtcNow(), "test") }))
        .AddGossip();
        return services.BuildServiceProvider();
    }
}
