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
/// the challenge and echo that prove a sender (two more link delays, well inside a round).
/// </summary>
public sealed class ConvergenceTests
{
    private const int Nodes = 1_000;
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
        var adapters = new List<GossipAdapter>(Nodes);
        var views = new List<MeshView>(Nodes);
        var endpoints = new List<GossipEndpoint>(Nodes);
        for (int i = 0; i < Nodes; i++)
        {
            string id = $"node-{i:0000}";
            var view = new MeshView();
            var adapter = new GossipAdapter(
                new FixedCollector(id, time),
                view,
                shared.GetRequiredService<ICostScorer>(),
                new FixedOptions<GossipOptions>(new() { Dissemination = GossipDissemination.Pull, Keys = [GossipNodeFixture.TestKey] }),
                Options.Create(new CostModelOptions { NodeId = id }),
                new FixedOptions<CollectionOptions>(new()),
                time,
                shared.GetRequiredService<CostModelMetrics>());
            adapters.Add(adapter);
            views.Add(view);
            endpoints.Add(network.Attach(id, adapter, fanout: 3));
        }

        try
        {
            // node-0000 publishes (its first snapshot); nobody else has anything to say.
            adapters[0].Tick();
            int reachedAt = -1;
            for (int round = 1; round <= maxRounds; round++)
            {
                foreach (GossipEndpoint endpoint in endpoints)
                {
                    endpoint.GossipRound();
                }

                // Link by link through the round, so replies (challenges, echoes) travel within it as on a LAN.
                for (TimeSpan elapsed = TimeSpan.Zero; elapsed < Round; elapsed += Hop)
                {
                    time.Advance(Hop);
                }

                int knowing = views.Count(v => v.Nodes.Any(n => n.NodeId == "node-0000"));
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

    private sealed class FixedOptions<TOptions>(TOptions value) : IOptionsMonitor<TOptions>
    {
        public TOptions CurrentValue { get; } = value;

        public TOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<TOptions, string?> listener) => null;
    }
}
