using NATS.Client.Core;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>
/// Real adapters on real transports through a real <c>nats-server</c> started for each test. The
/// waits poll for the outcome with generous timeouts (real network I/O), never fixed sleeps.
/// </summary>
public sealed class NatsMeshTests
{
    /// <summary>A heartbeat every 0.5 s (dead after 4 s), so the mesh lives and recovers in seconds.</summary>
    private static readonly TimeSpan FastBeat = TimeSpan.FromMilliseconds(500);

    /// <summary>A heartbeat every 60 s: within a test, a node publishes once and then keeps silent, so a late joiner learns the mesh only through what is under test.</summary>
    private static readonly TimeSpan SlowBeat = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Three_adapters_converge_through_the_server()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        await using NatsNode a = await NatsNode.StartAsync("a", server.Url, FastBeat);
        await using NatsNode b = await NatsNode.StartAsync("b", server.Url, FastBeat);
        await using NatsNode c = await NatsNode.StartAsync("c", server.Url, FastBeat);

        NatsNode[] nodes = [a, b, c];
        await Poll.UntilAsync(
            () => nodes.All(n => n.SeesAlive(nodes.Where(o => o != n).Select(o => o.NodeId))),
            () => string.Join("; ", nodes.Select(n => n.Describe())));

        foreach (NatsNode n in nodes)
        {
            NatsGossipStats stats = n.Transport.Stats;
            Assert.True(stats.Connected);
            Assert.True(stats.MessagesSent > 0 && stats.MessagesDelivered > 0, n.Describe());
            Assert.Equal(0, stats.AdapterErrors);
            Assert.Equal(0, stats.ReceivedNoSender);
        }
    }

    [Fact]
    public async Task A_node_that_joins_late_gets_the_full_state_through_sync()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        NatsNode[] first = await StartConvergedAsync(server, SlowBeat, o => o.KeyValue = false);
        try
        {
            await using NatsNode late = await NatsNode.StartAsync("late", server.Url, SlowBeat, o => o.KeyValue = false);

            // The others published once, long before; nothing repeats it within the test: only the sync reply can tell.
            await Poll.UntilAsync(() => late.SeesAlive(first.Select(n => n.NodeId)), late.Describe, TimeSpan.FromSeconds(20));
            Assert.Equal(1, late.Transport.Stats.SyncRequests);
            Assert.Equal(0, late.Transport.Stats.KeyValueReads);
        }
        finally
        {
            await DisposeAllAsync(first);
        }
    }

    [Fact]
    public async Task A_node_that_joins_late_gets_the_full_state_through_the_key_value_bucket()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        NatsNode[] first = await StartConvergedAsync(server, SlowBeat, o => o.KeyValue = true);
        try
        {
            // Each wrote its state to the bucket when it published.
            await Poll.UntilAsync(() => first.All(n => n.Transport.Stats.KeyValuePuts >= 1), () => string.Join("; ", first.Select(n => n.Describe())));

            // No sync: the bucket is the only way in. The adapter still proves each node (a challenge to its inbox) before believing its entry.
            await using NatsNode late = await NatsNode.StartAsync("late", server.Url, SlowBeat, o =>
            {
                o.KeyValue = true;
                o.SyncOnConnect = false;
            });
            await Poll.UntilAsync(() => late.SeesAlive(first.Select(n => n.NodeId)), late.Describe, TimeSpan.FromSeconds(20));
            Assert.Equal(0, late.Transport.Stats.SyncRequests);
            Assert.Equal(first.Length, late.Transport.Stats.KeyValueReads);
        }
        finally
        {
            await DisposeAllAsync(first);
        }
    }

    [Fact]
    public async Task The_mesh_recovers_when_the_server_is_killed_and_restarted()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        NatsNode[] nodes = await StartConvergedAsync(server, FastBeat, o => o.KeyValue = true);
        try
        {
            await server.KillAsync();
            await Poll.UntilAsync(() => nodes.All(n => n.Transport.Stats is { Disconnects: >= 1, Connected: false }), () => string.Join("; ", nodes.Select(n => n.Describe())));

            await server.StartAgainAsync();
            await Poll.UntilAsync(() => nodes.All(n => n.Transport.Stats is { Reconnects: >= 1, Connected: true }), () => string.Join("; ", nodes.Select(n => n.Describe())));

            // The mesh carries on: a node started after the restart is seen by all, and they by it.
            await using NatsNode d = await NatsNode.StartAsync("d", server.Url, FastBeat, o => o.KeyValue = true);
            NatsNode[] all = [.. nodes, d];
            await Poll.UntilAsync(
                () => all.All(n => n.SeesAlive(all.Where(o => o != n).Select(o => o.NodeId))),
                () => string.Join("; ", all.Select(n => n.Describe())));
            foreach (NatsNode n in nodes)
            {
                NatsGossipStats stats = n.Transport.Stats;
                Assert.True(stats.SyncRequests >= 2, n.Describe()); // at start and after the reconnect
                Assert.Equal(0, stats.AdapterErrors);
            }
        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_node_started_while_its_server_is_down_runs_alone_then_joins_when_the_server_comes_up()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        await using NatsNode a = await NatsNode.StartAsync("a", server.Url, FastBeat);
        await server.KillAsync();

        // A long heartbeat: b publishes at start, into the void, and not again for ten minutes; a
        // must still hear it once b connects (b's sync and its proof of a carry its state).
        await using NatsNode b = await NatsNode.StartAsync("b", server.Url, TimeSpan.FromMinutes(10));
        Assert.False(b.Transport.Stats.Connected);
        Assert.True(b.Transport.Stats.ConnectFailures >= 1, b.Describe());
        await Poll.UntilAsync(() => b.Adapter.Statistics.Published >= 1, b.Describe);
        long published = b.Adapter.Statistics.Published;

        await server.StartAgainAsync();
        await Poll.UntilAsync(() => a.SeesAlive(["b"]) && b.SeesAlive(["a"]), () => $"{a.Describe()}; {b.Describe()}");
        Assert.True(b.Transport.Stats.Connected);
        Assert.Equal(published, b.Adapter.Statistics.Published);
    }

    [Fact]
    public async Task A_join_retried_after_the_bucket_failed_subscribes_to_each_subject_once()
    {
        // A server without JetStream: the key-value bucket cannot be made, so the background join
        // connects, subscribes, fails at the bucket and is tried again (1 s, then 2 s later). Each
        // retry must keep the subscriptions it has: a second one would deliver every message twice.
        await using NatsServer server = await NatsServer.StartAsync(jetStream: false);
        await server.KillAsync();
        await using NatsNode b = await NatsNode.StartAsync("b", server.Url, FastBeat, o => o.KeyValue = true);
        Assert.Equal(1, b.Transport.Stats.ConnectFailures);
        await server.StartAgainAsync();

        // Connected and subscribed, then at least two joins refused at the bucket.
        await Poll.UntilAsync(() => b.Transport.Stats.Connected && b.Transport.Stats.ConnectFailures >= 3, b.Describe);
        Assert.Equal(3, b.Transport.Subscriptions);
    }

    [Fact]
    public async Task A_transport_still_trying_to_reach_its_server_is_disposed_cleanly()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        await server.KillAsync();
        GossipAdapter adapter = NatsNode.AdapterOnly("n", NatsNode.Key, out IDisposable owner);
        using (owner)
        {
            var transport = new NatsGossipTransport(adapter, new NatsGossipOptions { Url = server.Url, Mesh = "test" });
            await transport.StartAsync(TestContext.Current.CancellationToken);
            Assert.Equal(1, transport.Stats.ConnectFailures);
            await transport.DisposeAsync();
            Assert.False(transport.Stats.Connected);
        }
    }

    [Fact]
    public async Task Without_StartWithoutServer_a_start_that_reaches_no_server_fails()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        await server.KillAsync();
        GossipAdapter adapter = NatsNode.AdapterOnly("n", NatsNode.Key, out IDisposable owner);
        using (owner)
        {
            var options = new NatsGossipOptions { Url = server.Url, Mesh = "test", StartWithoutServer = false, ConnectTimeout = TimeSpan.FromSeconds(5) };
            await using var transport = new NatsGossipTransport(adapter, options);
            Exception e = await Assert.ThrowsAnyAsync<Exception>(() => transport.StartAsync(TestContext.Current.CancellationToken));
            Assert.True(NatsGossipTransport.IsUnreachable(e), e.ToString());
            Assert.Equal(0, transport.Stats.ConnectFailures);
        }
    }

    [Fact]
    public async Task Messages_sealed_with_another_key_published_straight_to_the_subject_are_rejected()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        await using NatsNode a = await NatsNode.StartAsync("a", server.Url, FastBeat);
        await using NatsNode b = await NatsNode.StartAsync("b", server.Url, FastBeat);
        await Poll.UntilAsync(() => a.SeesAlive(["b"]) && b.SeesAlive(["a"]), () => a.Describe() + "; " + b.Describe());

        // Mallory has the server but not the key: well-formed gossip sealed with her own key.
        string malloryKey = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
        GossipAdapter mallory = NatsNode.AdapterOnly("mallory", malloryKey, out IDisposable owner);
        using (owner)
        {
            byte[] forged = new byte[GossipDefaults.MaxMtu];
            int length = mallory.WriteSyncRequest(forged);
            long refusedBefore = a.Transport.Stats.MessagesRefused;
            long rejectedBefore = a.Adapter.Statistics.Rejected;
            await using var raw = new NatsConnection(NatsOpts.Default with { Url = server.Url });
            CancellationToken ct = TestContext.Current.CancellationToken;
            await raw.PublishAsync("costmodel.test.state", forged.AsMemory(0, length), replyTo: "costmodel.test.inbox.mallory", cancellationToken: ct);
            await raw.PublishAsync("costmodel.test.sync", forged.AsMemory(0, length), replyTo: "costmodel.test.inbox.mallory", cancellationToken: ct);
            await raw.PublishAsync($"{a.Transport.Inbox}", forged.AsMemory(0, length), replyTo: "costmodel.test.inbox.mallory", cancellationToken: ct);

            // And one with no inbox to answer: dropped before the adapter.
            await raw.PublishAsync("costmodel.test.state", forged.AsMemory(0, length), cancellationToken: ct);

            // a receives the state and the inbox message; the sync goes to one of a and b.
            await Poll.UntilAsync(() => a.Transport.Stats.MessagesRefused >= refusedBefore + 2 && a.Transport.Stats.ReceivedNoSender >= 1, a.Describe);
            Assert.True(a.Adapter.Statistics.Rejected >= rejectedBefore + 2, a.Describe());
            Assert.DoesNotContain(a.View.Nodes, n => n.NodeId == "mallory");
            Assert.DoesNotContain(b.View.Nodes, n => n.NodeId == "mallory");
            Assert.True(a.SeesAlive(["b"]), a.Describe());
        }
    }

    /// <summary>Starts a, b and c one after another, each joining the ones before, and waits until each sees the others.</summary>
    private static async Task<NatsNode[]> StartConvergedAsync(NatsServer server, TimeSpan heartbeat, Action<NatsGossipOptions> configure)
    {
        var nodes = new List<NatsNode>();
        try
        {
            foreach (string id in new[] { "a", "b", "c" })
            {
                nodes.Add(await NatsNode.StartAsync(id, server.Url, heartbeat, configure));
                NatsNode[] now = [.. nodes];
                await Poll.UntilAsync(
                    () => now.All(n => n.SeesAlive(now.Where(o => o != n).Select(o => o.NodeId))),
                    () => string.Join("; ", now.Select(n => n.Describe())));
            }

            return [.. nodes];
        }
        catch
        {
            await DisposeAllAsync(nodes);
            throw;
        }
    }

    private static async Task DisposeAllAsync(IEnumerable<NatsNode> nodes)
    {
        foreach (NatsNode node in nodes)
        {
            await node.DisposeAsync();
        }
    }
}
