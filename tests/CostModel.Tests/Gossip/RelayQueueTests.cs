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
        var queue = new RelayQueue();
        GossipNode a = Node("a"), b = Node("b"), c = Node("c");
        queue.Set(a, capabilities: false, 3);
        queue.Set(b, capabilities: false, 5);
        queue.Set(c, capabilities: false, 3);

        Assert.Equal(5, queue.Highest);
        Assert.Equal(["b"], Bucket(queue, 5, capabilities: false));
        Assert.Equal(["a", "c"], Bucket(queue, 3, capabilities: false));

        // b sent twice: it joins the back of the 3-transmits bucket.
        queue.Sent(b, capabilities: false);
        queue.Sent(b, capabilities: false);
        Assert.Equal(["a", "c", "b"], Bucket(queue, 3, capabilities: false));
        Assert.Equal(3, b.StateTransmits);
        Assert.Equal(3, queue.Count);
    }

    [Fact]
    public void A_record_leaves_after_its_last_transmit_and_a_node_leaves_with_both_records()
    {
        var queue = new RelayQueue();
        GossipNode a = Node("a"), b = Node("b");
        queue.Set(a, capabilities: false, 1);
        queue.Set(a, capabilities: true, 2);
        queue.Set(b, capabilities: true, 2);

        queue.Sent(a, capabilities: false);
        Assert.Equal(0, a.StateTransmits);
        Assert.Null(queue.First(1, capabilities: false));

        queue.RemoveNode(a);
        Assert.Equal(["b"], Bucket(queue, 2, capabilities: true));
        Assert.Equal(1, queue.Count);

        queue.Set(b, capabilities: true, 0);
        Assert.Equal(0, queue.Count);
        Assert.Equal(0, queue.Highest);
    }

    [Fact]
    public void Setting_a_queued_record_again_moves_it_to_the_back_of_its_new_count()
    {
        var queue = new RelayQueue();
        GossipNode a = Node("a"), b = Node("b");
        queue.Set(a, capabilities: false, 4);
        queue.Set(b, capabilities: false, 4);
        queue.Set(a, capabilities: false, 4);
        Assert.Equal(["b", "a"], Bucket(queue, 4, capabilities: false));

        // Counts beyond the initial buckets grow them.
        queue.Set(b, capabilities: false, 700);
        Assert.Equal(["b"], Bucket(queue, 700, capabilities: false));
        Assert.Equal(["a"], Bucket(queue, 4, capabilities: false));
    }

    private static GossipNode Node(string id) => new(id, Encoding.UTF8.GetBytes(id), new PhiAccrualDetector(Liveness, TimeProvider.System));

    private static List<string> Bucket(RelayQueue queue, int transmits, bool capabilities)
    {
        var ids = new List<string>();
        for (GossipNode? n = queue.First(transmits, capabilities); n is not null; n = RelayQueue.NextOf(n, capabilities))
        {
            ids.Add(n.NodeId);
        }

        return ids;
    }
}
