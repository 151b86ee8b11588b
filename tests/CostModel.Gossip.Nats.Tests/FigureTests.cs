using System.Diagnostics;
using System.Globalization;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>
/// The figures of benchmarks/README.md ("Gossip over NATS"), measured on demand (they take a
/// minute and 200 connections): <c>COSTMODEL_NATS_FIGURES=1 dotnet test tests/CostModel.Gossip.Nats.Tests
/// --filter FullyQualifiedName~FigureTests --logger "console;verbosity=detailed"</c>. Each still
/// asserts the behaviour it measures.
/// </summary>
public sealed class FigureTests
{
    private const int Nodes = 200;

    [Fact]
    public async Task A_change_reaches_99_percent_of_200_adapters_through_one_local_server_and_each_node_publishes_at_its_heartbeat()
    {
        if (Environment.GetEnvironmentVariable("COSTMODEL_NATS_FIGURES") != "1")
        {
            Assert.Skip("a figure run: set COSTMODEL_NATS_FIGURES=1 to measure (200 adapters and connections, about a minute)");
        }

        await using NatsServer server = await NatsServer.StartAsync();
        var nodes = new List<NatsNode>(Nodes);
        try
        {
            // 200 quiet nodes (rounds stopped, no sync): none knows another. Default heartbeat (5 s).
            for (int i = 0; i < Nodes; i++)
            {
                nodes.Add(await NatsNode.StartAsync($"node-{i:000}", server.Url, GossipDefaults.MaxSilence, o => o.SyncOnConnect = false, startAdapter: false));
            }

            // node-000 starts and publishes its first state; every other node must prove it (challenge, echo) and merge it.
            NatsNode source = nodes[0];
            var clock = Stopwatch.StartNew();
            source.Adapter.Start();
            int needed = (int)Math.Ceiling(0.99 * (Nodes - 1));
            TimeSpan took = await Poll.UntilAsync(
                () => nodes.Skip(1).Count(n => n.View.Nodes.Any(v => v.NodeId == source.NodeId)) >= needed,
                () => $"{nodes.Skip(1).Count(n => n.View.Nodes.Any(v => v.NodeId == source.NodeId))} of {Nodes - 1} know {source.NodeId}",
                TimeSpan.FromSeconds(60));
            long messages = nodes.Sum(n => n.Transport.Stats.MessagesSent);
            Write($"99 % of {Nodes - 1} adapters merged one change through one local nats-server after {took.TotalMilliseconds:F0} ms (first contact: proof included); {messages} messages published in all");

            // Every node runs at the library's defaults: a first publication, then a heartbeat every 5 s (the fake probes never change significantly).
            foreach (NatsNode n in nodes.Skip(1))
            {
                n.Adapter.Start();
            }

            // Warm-up: first publications and the proofs between every pair, shown window by window; then one measured window.
            for (int w = 0; w < 8; w++)
            {
                (long sent, long bytes, long received) a = Totals(nodes);
                long challengesBefore = nodes.Sum(n => n.Adapter.Statistics.Challenges);
                await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
                (long sent, long bytes, long received) b = Totals(nodes);
                long challenges = nodes.Sum(n => n.Adapter.Statistics.Challenges) - challengesBefore;
                Write(string.Create(CultureInfo.InvariantCulture, $"warm-up window {w}: {(b.sent - a.sent) / 5.0 / Nodes:F2} messages/s per node, {(b.bytes - a.bytes) / (double)Math.Max(1, b.sent - a.sent):F0} bytes each, {challenges} challenges"));
            }

            (long sent, long bytes, long received) before = Totals(nodes);
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            (long sent, long bytes, long received) after = Totals(nodes);
            double seconds = window.Elapsed.TotalSeconds;
            double perNode = (after.sent - before.sent) / seconds / Nodes;
            double bytesPerMessage = (after.bytes - before.bytes) / (double)Math.Max(1, after.sent - before.sent);
            double delivered = (after.received - before.received) / seconds;
            Write(string.Create(CultureInfo.InvariantCulture, $"steady state, {Nodes} nodes at the defaults: {perNode:F3} messages/s published per node, {bytesPerMessage:F0} bytes each; {delivered:F0} messages/s delivered by the server in all"));
            Assert.True(perNode > 0, "nothing was published in the window");
            Assert.True(nodes.All(n => n.Transport.Stats.AdapterErrors == 0));
        }
        finally
        {
            foreach (NatsNode n in nodes)
            {
                await n.DisposeAsync();
            }
        }
    }

    private static (long Sent, long Bytes, long Received) Totals(List<NatsNode> nodes)
    {
        long sent = 0, bytes = 0, received = 0;
        foreach (NatsNode n in nodes)
        {
            NatsGossipStats s = n.Transport.Stats;
            sent += s.MessagesSent;
            bytes += s.BytesSent;
            received += s.MessagesReceived;
        }

        return (sent, bytes, received);
    }

    private static void Write(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}
