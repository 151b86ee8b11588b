using CostModel.Gossip;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>
/// What a broker transport (NATS) needs from the adapter: no relays when the transport itself
/// delivers every message to every node (<see cref="GossipOptions.RetransmitMultiplier"/> 0), and
/// this node's latest state as one message for a store (<see cref="GossipAdapter.WriteState"/>).
/// </summary>
public sealed class BrokerTransportTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, false)]
    [InlineData(4, true)]
    public void With_no_relays_a_node_sends_its_own_update_once_and_never_relays_another_nodes(int multiplier, bool relayed)
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time, o => o.RetransmitMultiplier = multiplier);
        using var b = new GossipNodeFixture("b", time, o => o.RetransmitMultiplier = multiplier);
        using var c = new GossipNodeFixture("c", time, o => o.RetransmitMultiplier = multiplier);

        a.GossipTo(b);
        Assert.NotNull(b.Find("a"));

        // b publishes its own first state; whatever it sends goes to c.
        b.GossipTo(c);
        Assert.NotNull(c.Find("b"));
        Assert.Equal(relayed, c.Find("a") is not null);
        if (!relayed)
        {
            // Its own update went out once: nothing is left to send.
            Assert.Empty(b.Pull());
        }
    }

    [Fact]
    public void Write_state_copies_the_latest_publication_without_touching_what_is_left_to_send()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time, o => o.RetransmitMultiplier = 0);
        using var b = new GossipNodeFixture("b", time, o => o.RetransmitMultiplier = 0);
        byte[] buffer = new byte[GossipDefaults.Mtu];
        Assert.Equal(0, a.Adapter.WriteState(buffer)); // nothing published yet

        a.Round();
        long sent = a.Adapter.Statistics.Sent;
        int length = a.Adapter.WriteState(buffer);
        Assert.True(length > 0);
        Assert.Equal(sent, a.Adapter.Statistics.Sent);
        Assert.NotEmpty(a.Pull()); // the publication itself is still to be sent

        // A first contact: held, a challenged over the wire, its echo releases the message.
        b.Deliver(buffer.AsSpan(0, length), "a");
        Assert.NotNull(b.Find("a"));
        Assert.Equal(GossipNodeFixture.Model, Assert.Single(b.Find("a")!.Capabilities.Models).ModelId);
    }
}
