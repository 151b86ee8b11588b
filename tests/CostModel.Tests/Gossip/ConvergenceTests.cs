using System.Reactive.Concurrency;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Mesh;
using CostModel.Scoring;
using CostModel.Telemetry;
using CostModel.Testing.Gossip;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>
/// Dissemination on the in-memory network: 1,000 real adapters with keys, fanout 3, one node's
/// change, rounds of 200 ms (memberlist's LAN interval) over links of 1 ms. The other nodes are
/// silent, so each relays an update only 4 x ceil(log10(n + 2)) = 4 times (it knows one node); in
/// a warm mesh where every node knows all 1,000 it relays 16 times, so these bounds are
/// conservative. Every node meets its senders for the first time here, so every hop includes
/// the challenge and echo that prove a sender (two more link delays, well inside a round). And a
/// busy mesh of 100 whose messages are full of states, where capabilities must still get through.
/// </summary>
public sealed class ConvergenceTests
{
    private const int Nodes = 1_000;

    // A busy mesh: every node publishes a changed state every round.
    private const int BusyNodes = 100;
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Round = GossipDefaults.Interval;
    private static readonly TimeSpan Hop = TimeSpan.FromMilliseconds(1);

    [Theory]
    [InlineData(0.0, 10)]
    [InlineData(0.1, 15)]
    public void A_change_reaches_99_percent_of_1000_nodes_within_the_round_bound(double loss, int maxRounds)
    {
        var time = new FakeTimeProvider(Start);
        using var shared = Shared();
        using var network = new InMemoryNetwork(time, seed: 1127);
        network.DefaultConditions = new LinkConditions { LossProbability = loss, Delay = Hop };
        using var mesh = new TestMesh(time, network, shared, Nodes, i => $"node-{i:0000}", id => new FixedCollector(id, time), new GossipOptions { Dissemination = GossipDissemination.Pull, Keys = [GossipNodeFixture.TestKey] });

        // node-0000 publishes (its first snapshot); nobody else has anything to say.
        mesh.Adapters[0].Tick();
        int reachedAt = -1;
        for (int round = 1; round <= maxRounds; round++)
        {
            mesh.Round();
            int knowing = mesh.Views.Count(v => v.Nodes.Any(n => n.NodeId == "node-0000"));
            if (knowing >= 0.99 * (Nodes - 1))
            {
                reachedAt = round;
                break;
            }
        }

        Assert.True(reachedAt > 0, $"not at 99 % after {maxRounds} rounds");
        TestContext.Current.TestOutputHelper?.WriteLine($"loss {loss:P0}: 99 % of {Nodes} nodes after {reachedAt} rounds; {network.Total.Sent.Messages} messages sent, {network.Total.Lost.Messages} lost");
        Assert.True(network.Total.Delivered.Messages > 0);
        if (loss > 0)
        {
            Assert.True(network.Total.Lost.Messages > 0, "the lossy network lost nothing");
        }
    }

    /// <summary>
    /// What a node serves (its capabilities record) must reach every node even in a busy mesh, where
    /// every message is full of states: a node whose capabilities a router lacks is no candidate of
    /// it. Before capabilities had their share of each message, the simulator's 500-node mesh left
    /// each node knowing what 135 to 265 of the 500 served after 150 s (states were written before
    /// capabilities at each relay level, and new states never stopped coming); this mesh of 100, 19
    /// of 99 on average.
    /// </summary>
    [Fact]
    public void Capabilities_reach_every_node_of_a_mesh_whose_messages_are_full_of_states()
    {
        var time = new FakeTimeProvider(Start);
        using var shared = Shared();
        using var network = new InMemoryNetwork(time, seed: 1206);
        network.DefaultConditions = new LinkConditions { Delay = Hop };

        // Eight records a message: a few nodes' new states fill it, as many do in a large mesh.
        var options = new GossipOptions { Dissemination = GossipDissemination.Pull, Keys = [GossipNodeFixture.TestKey], MaxRecordsPerMessage = 8 };
        using var mesh = new TestMesh(time, network, shared, BusyNodes, i => $"node-{i:000}", id => new ChangingCollector(id, time), options);
        foreach (GossipAdapter adapter in mesh.Adapters)
        {
            adapter.SetCapabilities(new NodeCapabilities(adapter.NodeId, 1) { Models = [new ServedModel("llama-3.1-8b") { DecodeTokensPerSecond = 20 }] });
        }

        // 30 s of rounds, every node publishing a changed state every round.
        for (int round = 0; round < 150; round++)
        {
            mesh.Adapters.ForEach(a => a.Tick());
            mesh.Round();
        }

        int[] known = [.. mesh.Views.Select(v => v.Nodes.Count(n => !n.IsLocal && n.Capabilities.Models.Length > 0))];
        int[] states = [.. mesh.Views.Select(v => v.Nodes.Count(n => !n.IsLocal))];
        Assert.True(states.Min() == BusyNodes - 1, $"states: every node should know all {BusyNodes - 1} others, the least knows {states.Min()}");
        Assert.True(known.Min() == BusyNodes - 1, $"capabilities: the least-informed node knows what {known.Min()} of {BusyNodes - 1} serve (mean {known.Average():0.0})");
    }

    private static ServiceProvider Shared()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "shared");
        return services.BuildServiceProvider();
    }

    /// <summary>A collector that reports one fixed, fresh snapshot (the thing under test is dissemination).</summary>
    private sealed class FixedCollector(string nodeId, TimeProvider time) : ICostCollector
    {
        private readonly long _generation = time.GetUtcNow().ToUnixTimeMilliseconds();

        public NodeCostFactors Collect()
        {
            DateTimeOffset now = time.GetUtcNow();
            return new NodeCostFactors(nodeId, _generation, 1, now)
            {
                Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, now, "test") },
                Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.25, now, "test") },
            };
        }

        public IObservable<NodeCostFactors> Observe(IScheduler scheduler, TimeSpan? interval = null) =>
            throw new NotSupportedException("The adapter samples with Collect.");
    }

    /// <summary>A collector whose load swings by half at every reading: each is a significant change, published at once.</summary>
    private sealed class ChangingCollector(string nodeId, TimeProvider time) : ICostCollector
    {
        private readonly long _generation = time.GetUtcNow().ToUnixTimeMilliseconds();
        private long _version;

        public NodeCostFactors Collect()
        {
            DateTimeOffset now = time.GetUtcNow();
            long version = ++_version;
            return new NodeCostFactors(nodeId, _generation, version, now)
            {
                Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, now, "test") },
                Compute = new ComputeFactors { CpuUtilization = Reading.Measured(version % 2 == 0 ? 0.1 : 0.6, now, "test") },
            };
        }

        public IObservable<NodeCostFactors> Observe(IScheduler scheduler, TimeSpan? interval = null) =>
            throw new NotSupportedException("The adapter samples with Collect.");
    }

    /// <summary>Real adapters, each with its view and endpoint on the in-memory network, fanout 3.</summary>
    private sealed class TestMesh : IDisposable
    {
        private readonly FakeTimeProvider _time;
        private readonly List<GossipEndpoint> _endpoints = [];

        public TestMesh(FakeTimeProvider time, InMemoryNetwork network, ServiceProvider shared, int nodes, Func<int, string> idOf, Func<string, ICostCollector> collectorOf, GossipOptions options)
        {
            _time = time;
            for (int i = 0; i < nodes; i++)
            {
                string id = idOf(i);
                var view = new MeshView();
                var adapter = new GossipAdapter(
                    collectorOf(id),
                    view,
                    shared.GetRequiredService<ICostScorer>(),
                    new FixedOptions<GossipOptions>(options),
                    Options.Create(new CostModelOptions { NodeId = id }),
                    new FixedOptions<CollectionOptions>(new()),
                    time,
                    shared.GetRequiredService<CostModelMetrics>());
                Adapters.Add(adapter);
                Views.Add(view);
                _endpoints.Add(network.Attach(id, adapter, fanout: 3));
            }
        }

        public List<GossipAdapter> Adapters { get; } = [];

        public List<MeshView> Views { get; } = [];

        /// <summary>One gossip round from every node, then the round's time link by link, so replies (challenges, echoes) travel within it as on a LAN.</summary>
        public void Round()
        {
            foreach (GossipEndpoint endpoint in _endpoints)
            {
                endpoint.GossipRound();
            }

            for (TimeSpan elapsed = TimeSpan.Zero; elapsed < ConvergenceTests.Round; elapsed += Hop)
            {
                _time.Advance(Hop);
            }
        }

        public void Dispose()
        {
            _endpoints.ForEach(e => e.Dispose());
            Adapters.ForEach(a => a.Dispose());
            Views.ForEach(v => v.Dispose());
        }
    }

    private sealed class FixedOptions<TOptions>(TOptions value) : IOptionsMonitor<TOptions>
    {
        public TOptions CurrentValue { get; } = value;

        public TOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<TOptions, string?> listener) => null;
    }
}
