using System.Reactive.Concurrency;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>
/// A host's own <see cref="ICostCollector"/> chooses the snapshot's generation. One that every peer
/// refuses (0, which the wire reads as no state; beyond 48 bits; more than MaxGenerationLead ahead
/// of the clock as Unix milliseconds) would make the node invisible, and a message carrying it is
/// refused whole, relays and all. Found by the JSON fuzz target (benchmarks/CostModel.Fuzz): the
/// model accepts generation 0, the wire does not.
/// </summary>
public sealed class OwnGenerationTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    // The default mesh's cluster hash, as every node of it writes it.
    private static readonly byte[] ClusterHash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(GossipDefaults.ClusterId))[..WireFormat.ClusterHashBytes];

    public static TheoryData<long, string> Refused() => new()
    {
        { 0, "0 stands for no state" },
        { WireFormat.MaxGeneration + 1, "48 bits" },
        { Start.AddDays(2).ToUnixTimeMilliseconds(), "MaxGenerationLead" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_generation_every_peer_would_refuse_is_not_published_and_is_logged_once_and_counted_at_each_sample(long generation, string why)
    {
        var collector = new SettableCollector(generation);
        using Node node = new(collector);

        node.Adapter.Tick();
        node.Time.Advance(TimeSpan.FromSeconds(1));
        node.Adapter.Tick();
        node.Time.Advance(TimeSpan.FromSeconds(1));
        node.Adapter.Tick();

        Assert.Empty(node.StatesInPayload());
        Assert.Equal(3, node.Rejected.GetMeasurementSnapshot().Where(m => Equals(m.Tags["reason"], "unpublishable-generation")).Sum(m => m.Value));
        FakeLogRecord logged = Assert.Single(node.Logs.GetSnapshot(), r => r.Id.Id == 3010);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains(generation.ToString(System.Globalization.CultureInfo.InvariantCulture), logged.Message, StringComparison.Ordinal);
        Assert.Contains(why, logged.Message, StringComparison.Ordinal);

        // Nothing broke the round itself: no round failed.
        Assert.DoesNotContain(node.Rejected.GetMeasurementSnapshot(), m => Equals(m.Tags["reason"], "round-failed"));
    }

    [Fact]
    public void Once_the_collector_reports_a_start_time_the_state_is_published()
    {
        var collector = new SettableCollector(0);
        using Node node = new(collector);
        node.Adapter.Tick();
        Assert.Empty(node.StatesInPayload());

        collector.Generation = Start.ToUnixTimeMilliseconds();
        node.Time.Advance(TimeSpan.FromSeconds(1));
        node.Adapter.Tick();

        (long generation, _) = Assert.Single(node.StatesInPayload());
        Assert.Equal(Start.ToUnixTimeMilliseconds(), generation);
        Assert.Single(node.Logs.GetSnapshot(), r => r.Id.Id == 3010);
    }

    /// <summary>A host's collector: a fixed snapshot of the generation set.</summary>
    private sealed class SettableCollector(long generation) : ICostCollector
    {
        public long Generation { get; set; } = generation;

        public TimeProvider? Time { get; set; }

        public NodeCostFactors Collect()
        {
            DateTimeOffset now = Time!.GetUtcNow();
            return new NodeCostFactors("own", Generation, 1, now) { Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.25, now, "test") } };
        }

        public IObservable<NodeCostFactors> Observe(IScheduler scheduler, TimeSpan? interval = null) =>
            throw new NotSupportedException("The adapter samples with Collect.");
    }

    /// <summary>One adapter with the host's collector, built through DI, its logs and its rejections recorded.</summary>
    private sealed class Node : IDisposable
    {
        private readonly ServiceProvider _provider;

        public Node(SettableCollector collector)
        {
            collector.Time = Time;
            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(Time);
            services.AddSingleton(Logs);
            services.AddLogging(l => l.AddProvider(new FakeLoggerProvider(Logs)).SetMinimumLevel(LogLevel.Debug));
            services.AddSingleton<ICostCollector>(collector);
            services.AddCostModel(o => o.NodeId = "own").AddGossip().Configure<GossipOptions>(o =>
            {
                o.AllowUnauthenticated = true;
                o.Dissemination = GossipDissemination.Pull;
            });
            _provider = services.BuildServiceProvider();
            Adapter = _provider.GetRequiredService<GossipAdapter>();
            Rejected = new MetricCollector<long>(_provider.GetRequiredService<CostModelMetrics>().Meter, "costmodel.gossip.rejected");
        }

        public FakeTimeProvider Time { get; } = new(Start);

        public FakeLogCollector Logs { get; } = new();

        public GossipAdapter Adapter { get; }

        public MetricCollector<long> Rejected { get; }

        /// <summary>The generation and version of every state record in the message the node would send now.</summary>
        public List<(long Generation, long Version)> StatesInPayload()
        {
            byte[] buffer = new byte[GossipDefaults.Mtu];
            int length = Adapter.WritePayload(buffer);
            var states = new List<(long, long)>();
            if (length == 0)
            {
                return states;
            }

            byte[] scratch = new byte[length];
            Assert.Equal(WireRejection.None, WireCodec.TryOpen(buffer.AsSpan(0, length), GossipDefaults.Mtu, ClusterHash, GossipKeyring.None, scratch, out WireMessage message));
            ReadOnlySpan<byte> body = message.Body;
            Span<char> id = stackalloc char[NodeCostFactors.MaxNodeIdLength];
            while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> payload, out _))
            {
                if (kind == (byte)RecordKind.NodeState && WireCodec.TryPeekState(payload, id, out _, out long generation, out long version) == WireRejection.None)
                {
                    states.Add((generation, version));
                }
            }

            return states;
        }

        public void Dispose()
        {
            Rejected.Dispose();
            _provider.Dispose();
        }
    }
}
