using System.Text;
using CostModel.Gossip;

namespace CostModel.Tests.Gossip;

/// <summary>The relay queue: records with the most transmits left first, first in first out within a count, without looking at the others.</summary>
public sealed class RelayQueueTests
{
    private static readonly LivenessSettings Liveness = new();

    [Fact]
    public void Records_come_out_by_transmits_left_then_in_the_order_they_reached_that_count()
    {
        var peers = new PeerTable();
        var queue = new RelayQueue(peers);
        int a = Node(peers, "a"), b = Node(peers, "b"), c = Node(peers, "c");
        queue.Set(a, capabilities: false, 3);
        queue.Set(b, capabilities: false, 5);
        queue.Set(c, capabilities: false, 3);

        Assert.Equal(5, queue.Highest);
        Assert.Equal(["b"], Bucket(peers, queue, 5, capabilities: false));
        Assert.Equal(["a", "c"], Bucket(peers, queue, 3, capabilities: false));

        // b sent twice: it joins the back of the 3-transmits bucket.
        queue.Sent(b, capabilities: false);
        queue.Sent(b, capabilities: false);
        Assert.Equal(["a", "c", "b"], Bucket(peers, queue, 3, capabilities: false));
        Assert.Equal(3, peers[b].StateTransmits);
        Assert.Equal(3, queue.Count);
    }

    [Fact]
    public void A_record_leaves_after_its_last_transmit_and_a_node_leaves_with_both_records()
    {
        var peers = new PeerTable();
        var queue = new RelayQueue(peers);
        int a = Node(peers, "a"), b = Node(peers, "b");
        queue.Set(a, capabilities: false, 1);
        queue.Set(a, capabilities: true, 2);
        queue.Set(b, capabilities: true, 2);

        queue.Sent(a, capabilities: false);
        Assert.Equal(0, peers[a].StateTransmits);
        Assert.Equal(RelayQueue.NoSlot, queue.First(1, capabilities: false));

        queue.RemoveNode(a);
        Assert.Equal(["b"], Bucket(peers, queue, 2, capabilities: true));
        Assert.Equal(1, queue.Count);

        queue.Set(b, capabilities: true, 0);
        Assert.Equal(0, queue.Count);
        Assert.Equal(0, queue.Highest);
    }

    [Fact]
    public void Setting_a_queued_record_again_moves_it_to_the_back_of_its_new_count()
    {
        var peers = new PeerTable();
        var queue = new RelayQueue(peers);
        int a = Node(peers, "a"), b = Node(peers, "b");
        queue.Set(a, capabilities: false, 4);
        queue.Set(b, capabilities: false, 4);
        queue.Set(a, capabilities: false, 4);
        Assert.Equal(["b", "a"], Bucket(peers, queue, 4, capabilities: false));

        // Counts beyond the initial buckets grow them.
        queue.Set(b, capabilities: false, 700);
        Assert.Equal(["b"], Bucket(peers, queue, 700, capabilities: false));
        Assert.Equal(["a"], Bucket(peers, queue, 4, capabilities: false));
    }

    private static int Node(PeerTable peers, string id) => peers.Add(id, Encoding.UTF8.GetBytes(id), PhiWindow.Start(PhiParameters.For(Liveness, TimeProvider.System)));

    private static List<string> Bucket(PeerTable peers, RelayQueue queue, int transmits, bool capabilities)
    {
        var ids = new List<string>();
        for (int n = queue.First(transmits, capabilities); n != RelayQueue.NoSlot; n = queue.NextOf(n, capabilities))
        {
            ids.Add(peers[n].NodeId);
        }

        return ids;
    }
}
