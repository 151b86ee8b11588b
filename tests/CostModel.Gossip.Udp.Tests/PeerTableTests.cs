using System.Net;

namespace CostModel.Gossip.Udp.Tests;

public sealed class PeerTableTests
{
    [Fact]
    public void When_full_the_longest_silent_non_seed_is_forgotten_and_seeds_stay()
    {
        var table = new PeerTable(capacity: 3);
        table.AddSeed(Peer(1, isSeed: true));

        Peer first = Peer(2);
        Assert.True(table.Admit(first, now: 10, out _));
        Assert.True(table.Admit(Peer(3), now: 20, out _));
        Assert.False(table.Admit(Peer(2), now: 30, out _)); // accepted again: now the newest
        Peer fourth = Peer(4);
        Assert.True(table.Admit(fourth, now: 40, out Peer? evicted));

        Assert.Equal("127.0.0.1:3", evicted?.Text);
        Assert.Equal(3, table.Count);
        Assert.True(table.TryGet("127.0.0.1:1", out _));
        Assert.True(table.TryGet("127.0.0.1:2", out Peer? again));
        Assert.Same(first, again);
        Assert.Equal(30, again!.LastHeard);
        Assert.True(table.TryGet(fourth.Text, out _));
        Assert.False(table.TryGet("127.0.0.1:3", out _));
    }

    [Fact]
    public void A_table_full_of_seeds_admits_no_one()
    {
        var table = new PeerTable(capacity: 1);
        table.AddSeed(Peer(1, isSeed: true));

        Assert.False(table.Admit(Peer(2), now: 1, out Peer? evicted));

        Assert.Null(evicted);
        Assert.Equal(["127.0.0.1:1"], table.Texts());
    }

    [Fact]
    public void Find_knows_only_admitted_senders_and_seeds()
    {
        var table = new PeerTable(capacity: 8);
        table.AddSeed(Peer(1, isSeed: true));
        Peer admitted = Peer(2);
        table.Admit(admitted, now: 1, out _);

        Assert.True(table.Find(Address(1))?.IsSeed);
        Assert.Same(admitted, table.Find(Address(2)));
        Assert.Null(table.Find(Address(3)));
    }

    [Fact]
    public void Silent_non_seeds_are_forgotten_and_seeds_stay()
    {
        var table = new PeerTable(capacity: 8);
        table.AddSeed(Peer(1, isSeed: true));
        for (int port = 2; port <= 6; port++)
        {
            table.Admit(Peer(port), now: port * 10, out _);
        }

        int forgotten = table.ForgetSilent(heardBefore: 45); // ports 2, 3, 4 (heard at 20, 30, 40)

        Assert.Equal(3, forgotten);
        Assert.Equal(["127.0.0.1:1", "127.0.0.1:5", "127.0.0.1:6"], table.Texts().Order(StringComparer.Ordinal));
        Assert.Null(table.Find(Address(3)));
        Assert.Equal(0, table.ForgetSilent(heardBefore: 45));
        Assert.True(table.Admit(Peer(3), now: 70, out _)); // a forgotten peer comes back when accepted again
    }

    [Fact]
    public void Pick_returns_distinct_peers_up_to_the_count()
    {
        var table = new PeerTable(capacity: 16);
        for (int port = 1; port <= 10; port++)
        {
            table.Admit(Peer(port), now: port, out _);
        }

        var picked = new Peer[3];
        for (int round = 0; round < 50; round++)
        {
            Assert.Equal(3, table.Pick(picked, 3));
            Assert.Equal(3, picked.Select(p => p.Text).Distinct().Count());
        }

        var all = new Peer[20];
        Assert.Equal(10, table.Pick(all, 20));
        Assert.Equal(10, all.Take(10).Select(p => p.Text).Distinct().Count());

        // Removal after shuffling still finds each peer at its index.
        Assert.Equal(10, table.ForgetSilent(heardBefore: 11));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void A_received_address_is_parsed_into_text_and_host()
    {
        Peer peer = CostModel.Gossip.Udp.Peer.FromReceived(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 7946).Serialize());

        Assert.Equal("10.1.2.3:7946", peer.Text);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), peer.Host);
        Assert.False(peer.IsSeed);
        Assert.Equal(-1, peer.Index);

        Peer mapped = CostModel.Gossip.Udp.Peer.FromReceived(new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 7946).Serialize());
        Assert.Equal("10.1.2.3:7946", mapped.Text);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), mapped.Host); // one budget for both forms of an IPv4 address
    }

    private static Peer Peer(int port, bool isSeed = false) =>
        new(Address(port), $"127.0.0.1:{port}", IPAddress.Loopback, isSeed);

    private static SocketAddress Address(int port) => new IPEndPoint(IPAddress.Loopback, port).Serialize();
}
