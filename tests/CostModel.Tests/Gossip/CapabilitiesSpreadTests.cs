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
/// What a node serves (its capabilities record) must reach every node even in a busy mesh, where
/// every message is full of states: a node whose capabilities a router lacks is no candidate of it.
/// Measured before the fix in the simulator's 500-node mesh: after 150 s each node knew what 135 to
/// 265 of the 500 served (states were written before capabilities at each relay level, and new
/// states never stopped coming).
/// </summary>
public sealed class CapabilitiesSpreadTests
{
    private const int Nodes = 100;
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Round = GossipDefaults.Interval;
    private static readonly TimeSpan Hop = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void Capabilities_reach_every_node_of_a_mesh_whose_messages_are_full_of_states()
    {
        var time = new FakeTimeProvider(Start);
        using var shared = Shared();
        using var network = new InMemoryNetwork(time, seed: 1206);
        network.DefaultConditions = new LinkConditions { Delay = Hop };
        var adapters = new List<GossipAdapter>(Nodes);
        var views = new List<MeshView>(Nodes);
        var endpoints = new List<GossipEndpoint>(Nodes);
        for (int i = 0; i < Nodes; i++)
        {
            string id = $"node-{i:000}";
            var view = new MeshView();

            // Eight records a message: a few nodes' new states fill it, as many do in a large mesh.
            var options = new GossipOptions { Dissemination = GossipDissemination.Pull, Keys = [GossipNodeFixture.TestKey], MaxRecordsPerMessage = 8 };
            var adapter = new GossipAdapter(
                new ChangingCollector(id, time),
                view,
                shared.GetRequiredService<ICostScorer>(),
                new FixedOptions<GossipOptions>(options),
                Options.Create(new CostModelOptions { NodeId = id }),
                new FixedOptions<CollectionOptions>(new()),
                time,
                shared.GetRequiredService<CostModelMetrics>());
            adapter.SetCapabilities(new NodeCapabilities(id, 1) { Models = [new ServedModel("llama-3.1-8b") { DecodeTokensPerSecond = 20 }] });
            adapters.Add(adapter);
            views.Add(view);
            endpoints.Add(network.Attach(id, adapter, fanout: 3));
        }

        try
        {
            // 30 s of rounds, every node publishing a changed state every round.
            for (int round = 0; round < 150; round++)
            {
                adapters.ForEach(a => a.Tick());
                foreach (GossipEndpoint endpoint in endpoints)
                {
                    endpoint.GossipRound();
                }

                for (TimeSpan elapsed = TimeSpan.Zero; elapsed < Round; elapsed += Hop)
                {
                    time.Advance(Hop);
                }
            }

            int[] known = [.. views.Select(v => v.Nodes.Count(n => !n.IsLocal && n.Capabilities.Models.Length > 0))];
            int[] states = [.. views.Select(v => v.Nodes.Count(n => !n.IsLocal))];
            Assert.True(states.Min() == Nodes - 1, $"states: every node should know all {Nodes - 1} others, the least knows {states.Min()}");
            Assert.True(known.Min() == Nodes - 1, $"capabilities: the least-informed node knows what {known.Min()} of {Nodes - 1} serve (mean {known.Average():0.0})");
        }
        finally
        {
            endpoints.ForEach(e => e.Dispose());
            adapters.ForEach(a => a.Dispose());
            views.ForEach(v => v.Dispose());
        }
    }

    private static ServiceProvider Shared()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "shared");
        return services.BuildServiceProvider();
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

    private sealed class FixedOptions<TOptions>(TOptions value) : IOptionsMonitor<TOptions>
    {
        public TOptions CurrentValue { get; } = value;

        public TOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<TOptions, string?> listener) => null;
    }
}
