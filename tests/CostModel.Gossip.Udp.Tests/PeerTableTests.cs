using System.Net;

namespace CostModel.Gossip.Udp.Tests;

public sealed class PeerTableTests
{
    [Fact]
    public void When_full_the_longest_silent_non_seed_is_forgotten_and_seeds_stay()
    {
        var table = new PeerTable(capacity: 3);
        Peer seed = new(new IPEndPoint(IPAddress.Loopback, 1).Serialize(), "127.0.0.1:1", isSeed: true);
        table.AddSeed(seed);

        Peer first = table.Heard(Address(2), now: 10, out _);
        table.Heard(Address(3), now: 20, out _);
        table.Heard(Address(2), now: 30, out _); // heard again: now the newest
        Peer fourth = table.Heard(Address(4), now: 40, out Peer? evicted);

        Assert.Equal("127.0.0.1:3", evicted?.Text);
        Assert.Equal(3, table.Count);
        Assert.True(table.TryGet("127.0.0.1:1", out _));
        Assert.True(table.TryGet("127.0.0.1:2", out Peer? again));
        Assert.Same(first, again);
        Assert.True(table.TryGet(fourth.Text, out _));
        Assert.False(table.TryGet("127.0.0.1:3", out _));
    }

    [Fact]
    public void Known_addresses_are_parsed_once()
    {
        var table = new PeerTable(capacity: 8);

        Peer a = table.Heard(Address(5), now: 1, out _);
        Peer b = table.Heard(Address(5), now: 2, out _);

        Assert.Same(a, b);
        Assert.Equal(2, b.LastHeard);
    }

    [Fact]
    public void Pick_returns_distinct_peers_up_to_the_count()
    {
        var table = new PeerTable(capacity: 16);
        for (int port = 1; port <= 10; port++)
        {
            table.Heard(Address(port), now: port, out _);
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
    }

    private static SocketAddress Address(int port) => new IPEndPoint(IPAddress.Loopback, port).Serialize();
}
