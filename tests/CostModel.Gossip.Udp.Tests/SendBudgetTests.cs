using System.Net.Sockets;
using static CostModel.Gossip.Udp.Tests.TransportHarness;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// Addressed messages to strangers (challenges, replies to sync requests from unproven senders)
/// are held to byte budgets per IP address and shared, so the node cannot be used to amplify
/// (issue 12: one captured 150-byte sync request replayed 1,000 times from 500 addresses drew
/// 38.6 MB, 257 times as much). Messages to peers are not charged. The clock is fake.
/// </summary>
public sealed class SendBudgetTests : IAsyncDisposable
{
    /// <summary>Issue 12's seed of 300 members: 29 messages, 38.6 KB in all, per sync request.</summary>
    private const int FullStateMessages = 29;

    private const int FullStateMessageBytes = 38_600 / FullStateMessages;

    private const int ReplayedRequestBytes = 150;

    private readonly TransportHarness _harness = new();

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Messages_to_a_stranger_beyond_its_address_budget_are_dropped_and_counted_until_time_refills_it()
    {
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(o =>
        {
            o.Mtu = 100;
            o.StrangerSendLimitPerAddress = new(Burst: 200, PerSecond: 100);
        });
        UdpClient stranger = _harness.Socket();

        for (int i = 0; i < 3; i++)
        {
            adapter.Push(new byte[100], to: Text(stranger));
        }

        UdpGossipStats stats = a.Stats;
        Assert.Equal(2, stats.DatagramsSent);
        Assert.Equal(1, stats.SendDestinationLimited);
        Assert.Equal(100, (await ReceiveAsync(stranger)).Length);
        Assert.Equal(100, (await ReceiveAsync(stranger)).Length);

        _harness.Time.Advance(TimeSpan.FromSeconds(1));
        adapter.Push([5], to: Text(stranger));
        Assert.Equal([5], await ReceiveAsync(stranger));
        Assert.Empty(a.PeerAddresses());
    }

    [Fact]
    public async Task All_strangers_share_one_send_budget()
    {
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(o =>
        {
            o.Mtu = 100;
            o.StrangerSendLimit = new(Burst: 200, PerSecond: 100);
        });
        UdpClient first = _harness.Socket();
        UdpClient second = _harness.Socket();

        adapter.Push(new byte[100], to: Text(first));
        adapter.Push(new byte[100], to: Text(second));
        adapter.Push(new byte[100], to: Text(first));

        UdpGossipStats stats = a.Stats;
        Assert.Equal(2, stats.DatagramsSent);
        Assert.Equal(1, stats.SendStrangerLimited);
        Assert.Equal(0, stats.SendDestinationLimited);
    }

    [Fact]
    public async Task Messages_to_peers_are_not_charged()
    {
        UdpClient seed = _harness.Socket();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(o =>
        {
            o.SeedPeers.Add(Text(seed));
            o.Mtu = 100;
            o.StrangerSendLimitPerAddress = new(Burst: 100, PerSecond: 1);
            o.StrangerSendLimit = new(Burst: 100, PerSecond: 1);
        });
        Assert.Equal(RecordingAdapter.SyncRequest, await ReceiveAsync(seed));

        for (int i = 0; i < 5; i++)
        {
            adapter.Push(new byte[100], to: Text(seed));
        }

        adapter.Push(new byte[100], to: null); // unaddressed: to peers
        UdpGossipStats stats = a.Stats;
        Assert.Equal(1 + 5 + 1, stats.DatagramsSent);
        Assert.Equal(0, stats.SendDestinationLimited + stats.SendStrangerLimited);
    }

    [Fact]
    public async Task Replayed_sync_requests_from_many_ports_of_one_address_draw_at_most_that_address_budget()
    {
        // 40 requests pass the receive budget of 127.0.0.1; their 40 x 29 replies meet its 64 KiB send budget.
        int delivered = (int)UdpGossipOptions.DefaultStrangerReceiveLimitPerAddress.Burst;
        UdpGossipStats stats = await ReplayAsync(configure: null, delivered);

        int allowed = (int)(UdpGossipOptions.DefaultStrangerSendLimitPerAddress.Burst / FullStateMessageBytes);
        Assert.Equal(delivered, stats.DatagramsDelivered);
        Assert.Equal(allowed, stats.DatagramsSent);
        Assert.Equal((delivered * FullStateMessages) - allowed, stats.SendDestinationLimited);
        Assert.True(stats.BytesSent <= UdpGossipOptions.DefaultStrangerSendLimitPerAddress.Burst);
    }

    [Fact]
    public async Task Replayed_sync_requests_from_many_addresses_draw_at_most_the_shared_budget()
    {
        // Loopback has one address: per-address budgets are lifted to play many addresses, and the
        // shared receive budget is cut to 40 (so that 40 of the 1,000 surely arrive past the kernel).
        const int Delivered = 40;
        UdpGossipStats stats = await ReplayAsync(
            o =>
            {
                o.StrangerReceiveLimitPerAddress = new(Burst: 1e9, PerSecond: 1e9);
                o.StrangerSendLimitPerAddress = new(Burst: 1e9, PerSecond: 1e9);
                o.StrangerReceiveLimit = new(Burst: Delivered, PerSecond: 20);
            },
            Delivered);

        int allowed = (int)(UdpGossipOptions.DefaultStrangerSendLimit.Burst / FullStateMessageBytes);
        Assert.Equal(Delivered, stats.DatagramsDelivered);
        Assert.Equal(allowed, stats.DatagramsSent);
        Assert.Equal((Delivered * FullStateMessages) - allowed, stats.SendStrangerLimited);
        Assert.True(stats.BytesSent <= UdpGossipOptions.DefaultStrangerSendLimit.Burst);
    }

    /// <summary>
    /// Issue 12's replay: 1,000 copies of a 150-byte request from 250 ports x 4, to an adapter that
    /// answers each with a full state (29 x 1,331 bytes) and holds it (unproven sender), as one
    /// with no limit of its own. The clock stands still: only the bursts are spent.
    /// </summary>
    /// <param name="configure">Options beyond the defaults.</param>
    /// <param name="delivered">How many requests pass the receive budgets (the rest are dropped by them, or by the kernel's socket buffer, uncounted).</param>
    private async Task<UdpGossipStats> ReplayAsync(Action<UdpGossipOptions>? configure, int delivered)
    {
        var log = new SignalingLogger();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(configure, log);
        adapter.Accept = static (_, _) => false;
        adapter.OnReceive = (_, from) =>
        {
            for (int i = 0; i < FullStateMessages; i++)
            {
                adapter.Push(new byte[FullStateMessageBytes], to: from);
            }
        };

        const int Ports = 250;
        const int Copies = 4;
        byte[] request = new byte[ReplayedRequestBytes];
        UdpClient[] sockets = [.. Enumerable.Range(0, Ports).Select(_ => _harness.Socket())];
        for (int copy = 0; copy < Copies; copy++)
        {
            foreach (UdpClient socket in sockets)
            {
                await SendAsync(socket, request, a);
            }
        }

        // Each delivered request's replies are pushed before it is recorded; with the clock still, no
        // more pass afterwards, and a drop logged says the budget did the stopping.
        await NextAsync(adapter, delivered);
        await log.WaitForAsync(ReceiveLimitedEvent, times: 1);
        UdpGossipStats stats = a.Stats;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"replayed {Ports * Copies} x {ReplayedRequestBytes} B from {Ports} ports; the transport read {stats.DatagramsReceived} ({stats.BytesReceived} B), "
            + $"delivered {stats.DatagramsDelivered}, dropped {stats.ReceivedSourceLimited + stats.ReceivedStrangerLimited} by receive budgets; "
            + $"the adapter asked for {stats.DatagramsDelivered * FullStateMessages} replies ({stats.DatagramsDelivered * FullStateMessages * FullStateMessageBytes} B); "
            + $"sent {stats.DatagramsSent} ({stats.BytesSent} B): {(double)stats.BytesSent / (Ports * Copies * ReplayedRequestBytes):F2} x the replayed bytes");
        return stats;
    }
}
