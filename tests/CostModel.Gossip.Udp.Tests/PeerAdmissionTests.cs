using System.Net.Sockets;
using static CostModel.Gossip.Udp.Tests.TransportHarness;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// Who becomes a gossip peer: only a sender whose message the adapter accepted (issue 12: junk
/// senders dissolved a keyed mesh because every sender became a peer). The adapter here accepts
/// datagrams that start with 1 and refuses the rest.
/// </summary>
public sealed class PeerAdmissionTests : IAsyncDisposable
{
    private static readonly byte[] Good = [1];
    private static readonly byte[] Junk = [0];

    private readonly TransportHarness _harness = new();

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Only_a_sender_whose_message_the_adapter_accepted_becomes_a_peer_and_gets_gossip_rounds()
    {
        var log = new SignalingLogger();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(logger: log);
        adapter.Accept = AcceptsOnes;
        UdpClient junk = _harness.Socket();
        UdpClient good = _harness.Socket();

        await SendAsync(junk, Junk, a);
        await SendAsync(junk, Junk, a);
        await SendAsync(good, Good, a);
        await NextAsync(adapter, 3);
        await log.WaitForAsync(PeerAdmittedEvent, times: 1);
        await SendAsync(good, Good, a); // delivered after the junk's Receive calls returned: one loop delivers in turn
        await adapter.NextAsync();

        Assert.Equal([Text(good)], a.PeerAddresses());
        UdpGossipStats stats = a.Stats;
        Assert.Equal(2, stats.DatagramsRefused);
        Assert.Equal(1, stats.PeersAdmitted);

        adapter.Payload = [9];
        Assert.Equal(1, a.GossipRound()); // fanout 3, one peer: the junk sender gets nothing
        Assert.Equal([9], await ReceiveAsync(good));
    }

    [Fact]
    public async Task A_refused_sender_gets_addressed_replies_but_never_becomes_a_peer()
    {
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync();
        adapter.Accept = AcceptsOnes;
        adapter.OnReceive = (_, from) => adapter.Push([7], to: from); // a challenge, as the adapter sends an unproven sender
        UdpClient stranger = _harness.Socket();

        await SendAsync(stranger, Junk, a);

        Assert.Equal([7], await ReceiveAsync(stranger));
        await SendAsync(stranger, Junk, a);
        Assert.Equal([7], await ReceiveAsync(stranger)); // the second Receive ran: the first one's verdict is in
        Assert.Empty(a.PeerAddresses());
        adapter.Payload = [9];
        Assert.Equal(0, a.GossipRound());
        Assert.Equal(1, a.Stats.SendNoPeers);
    }

    [Fact]
    public async Task A_peer_with_no_message_accepted_for_the_timeout_is_forgotten_and_a_seed_stays()
    {
        var log = new SignalingLogger();
        UdpClient seed = _harness.Socket();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(o => o.SeedPeers.Add(Text(seed)), log);
        adapter.Accept = AcceptsOnes;
        UdpClient keeps = _harness.Socket();
        UdpClient fades = _harness.Socket();
        await SendAsync(keeps, Good, a);
        await SendAsync(fades, Good, a);
        await NextAsync(adapter, 2);
        await log.WaitForAsync(PeerAdmittedEvent, times: 2);

        _harness.Time.Advance(UdpGossipOptions.DefaultPeerTimeout - TimeSpan.FromSeconds(30));
        await SendAsync(keeps, Good, a); // accepted: heard from now
        await SendAsync(fades, Junk, a); // refused: does not count as heard
        await NextAsync(adapter, 2);
        await SendAsync(seed, Junk, a); // once this is delivered, both verdicts above are in
        await adapter.NextAsync();
        Assert.Equal(3, a.Stats.Peers);

        _harness.Time.Advance(TimeSpan.FromSeconds(31)); // the timer's rounds age the peers
        Assert.Equal(new[] { Text(keeps), Text(seed) }.Order(StringComparer.Ordinal), a.PeerAddresses().Order(StringComparer.Ordinal));
        Assert.Equal(1, a.Stats.PeersAgedOut);

        _harness.Time.Advance(UdpGossipOptions.DefaultPeerTimeout);
        Assert.Equal([Text(seed)], a.PeerAddresses());
        Assert.Equal(2, a.Stats.PeersAgedOut);
    }

    [Fact]
    public async Task In_a_full_table_refused_senders_evict_no_one_and_an_accepted_newcomer_takes_the_longest_silent_place()
    {
        var log = new SignalingLogger();
        (UdpGossipTransport a, RecordingAdapter adapter) = await _harness.StartAsync(o => o.MaxPeers = 1, log);
        adapter.Accept = AcceptsOnes;
        UdpClient first = _harness.Socket();
        await SendAsync(first, Good, a);
        await log.WaitForAsync(PeerAdmittedEvent, times: 1);
        await adapter.NextAsync();

        const int JunkSenders = 20;
        for (int i = 0; i < JunkSenders; i++)
        {
            await SendAsync(_harness.Socket(), Junk, a);
        }

        await NextAsync(adapter, JunkSenders);
        await SendAsync(first, Good, a); // delivered after every junk datagram's Receive returned
        await adapter.NextAsync();
        Assert.Equal([Text(first)], a.PeerAddresses());
        Assert.Equal(0, a.Stats.PeersEvicted);

        UdpClient second = _harness.Socket();
        await SendAsync(second, Good, a);
        await log.WaitForAsync(PeerEvictedEvent, times: 1);
        Assert.Equal([Text(second)], a.PeerAddresses());
        UdpGossipStats stats = a.Stats;
        Assert.Equal(1, stats.PeersEvicted);
        Assert.Equal(JunkSenders, stats.DatagramsRefused);
    }

    private static bool AcceptsOnes(byte[] payload, string from) => payload[0] == 1;
}
