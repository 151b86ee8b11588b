using System.Net.Sockets;
using static CostModel.Gossip.Udp.Tests.TransportHarness;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// What is queued for the adapter: each peer within its own budget; strangers within their IP
/// address's budget, the one they all share, and half the queue, so that a flood from many ports
/// cannot push out real gossip. The adapter refuses everything here, so no stranger becomes a peer;
/// the clock is fake, so budgets refill only when a test advances it.
/// </summary>
public sealed class ReceiveBudgetTests : IAsyncDisposable
{
    private readonly TransportHarness _harness = new();

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task A_stranger_address_beyond_its_budget_is_dropped_and_counted_from_any_port_until_time_refills_it()
    {
        var log = new SignalingLogger();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(o => o.StrangerReceiveLimitPerAddress = new(Burst: 2, PerSecond: 1), log);
        adapter.Accept = static (_, _) => false;
        UdpClient port1 = _harness.Socket();
        UdpClient port2 = _harness.Socket();

        await SendAsync(port1, [1], a);
        await SendAsync(port1, [2], a);
        await SendAsync(port2, [3], a); // another port, the same address: the same budget
        await SendAsync(port2, [4], a);
        await NextAsync(adapter, 2);
        await log.WaitForAsync(ReceiveLimitedEvent, times: 2);

        UdpGossipStats stats = a.Stats;
        Assert.Equal(4, stats.DatagramsReceived);
        Assert.Equal(2, stats.ReceivedSourceLimited);
        Assert.Equal(0, stats.ReceivedStrangerLimited);

        _harness.Time.Advance(TimeSpan.FromSeconds(1)); // one datagram's worth
        await SendAsync(port2, [5], a);
        Assert.Equal([5], (await adapter.NextAsync()).Payload);
    }

    [Fact]
    public async Task All_strangers_share_one_budget()
    {
        var log = new SignalingLogger();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(
            o =>
            {
                o.StrangerReceiveLimitPerAddress = new(Burst: 100, PerSecond: 1);
                o.StrangerReceiveLimit = new(Burst: 3, PerSecond: 1);
            },
            log);
        adapter.Accept = static (_, _) => false;

        for (int i = 0; i < 5; i++)
        {
            await SendAsync(_harness.Socket(), [(byte)i], a);
        }

        await NextAsync(adapter, 3);
        await log.WaitForAsync(ReceiveLimitedEvent, times: 2);
        UdpGossipStats stats = a.Stats;
        Assert.Equal(2, stats.ReceivedStrangerLimited);
        Assert.Equal(0, stats.ReceivedSourceLimited);
        Assert.Equal(3, stats.DatagramsDelivered);
    }

    [Fact]
    public async Task A_peer_is_not_charged_to_the_budget_of_strangers_at_its_address()
    {
        var log = new SignalingLogger();
        UdpClient seed = _harness.Socket();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(
            o =>
            {
                o.SeedPeers.Add(Text(seed));
                o.StrangerReceiveLimitPerAddress = new(Burst: 1, PerSecond: 1);
            },
            log);
        adapter.Accept = static (_, _) => false;
        UdpClient junk = _harness.Socket(); // 127.0.0.1, as the seed

        for (int i = 0; i < 5; i++)
        {
            await SendAsync(junk, [0], a);
        }

        await log.WaitForAsync(ReceiveLimitedEvent, times: 4); // 127.0.0.1's stranger budget is spent
        for (byte i = 1; i <= 5; i++)
        {
            await SendAsync(seed, [i], a);
        }

        List<(byte[] Payload, string From)> delivered = await NextAsync(adapter, 6);
        Assert.Equal(5, delivered.Count(d => d.From == Text(seed)));
        Assert.Equal(4, a.Stats.ReceivedSourceLimited);
    }

    [Fact]
    public async Task A_peer_beyond_its_own_budget_is_dropped_and_counted()
    {
        var log = new SignalingLogger();
        UdpClient seed = _harness.Socket();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(
            o =>
            {
                o.SeedPeers.Add(Text(seed));
                o.PeerReceiveLimit = new(Burst: 2, PerSecond: 1);
            },
            log);

        for (byte i = 1; i <= 3; i++)
        {
            await SendAsync(seed, [i], a);
        }

        await log.WaitForAsync(ReceiveLimitedEvent, times: 1);
        Assert.Equal([[1], [2]], (await NextAsync(adapter, 2)).Select(d => d.Payload));
        Assert.Equal(1, a.Stats.ReceivedSourceLimited);
        Assert.False(adapter.TryTake(out _));
    }

    [Fact]
    public async Task Strangers_fill_at_most_half_the_queue_so_a_peer_still_gets_in()
    {
        var log = new SignalingLogger();
        using var entered = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        UdpClient seed = _harness.Socket();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(
            o =>
            {
                o.SeedPeers.Add(Text(seed));
                o.MaxQueuedDatagrams = 4; // 2 places for strangers
            },
            log);
        int calls = 0;
        adapter.Accept = static (_, _) => false;
        adapter.OnReceive = (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.Release();
                release.Wait(RecordingAdapter.Timeout);
            }
        };
        UdpClient stranger = _harness.Socket();
        CancellationToken ct = TestContext.Current.CancellationToken;

        await SendAsync(stranger, [0], a);
        Assert.True(await entered.WaitAsync(RecordingAdapter.Timeout, ct)); // the adapter holds it
        for (byte i = 1; i <= 4; i++)
        {
            await SendAsync(stranger, [i], a); // 1 and 2 queued, 3 and 4 dropped
        }

        await log.WaitForAsync(QueueFullEvent, times: 2);
        await SendAsync(seed, [9], a); // the queue holds 2 of 4: room for the peer
        release.Set();

        List<(byte[] Payload, string From)> delivered = await NextAsync(adapter, 4);
        Assert.Equal([[0], [1], [2], [9]], delivered.Select(d => d.Payload));
        Assert.Equal(2, a.Stats.ReceivedQueueFull);
    }
}
