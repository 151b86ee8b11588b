namespace CostModel.Gossip;

/// <summary>What a <see cref="RelayQueue"/> keeps of one record of one node: its place in the queue and the transmits it has left.</summary>
internal struct RelayLinks
{
    public GossipNode? Previous;
    public GossipNode? Next;
    public int Transmits;
}

/// <summary>
/// The records (a remote node's state or its capabilities) still to be relayed, bucketed by how
/// many transmits each has left, so that a message is filled from the records relayed the fewest
/// times so far without looking at the others: O(records written) per message, not a scan and a
/// sort of every node in the view (which made a round O(n log n) per node, O(n^2 log n) per mesh).
/// </summary>
/// <remarks>
/// Each bucket is a first-in, first-out list threaded through the nodes themselves
/// (<see cref="GossipNode.StateLinks"/>, <see cref="GossipNode.CapabilityLinks"/>): no allocation
/// per update. A record sent goes to the back of the next lower bucket, so records with as many
/// transmits left take turns. Not thread-safe: the adapter calls it under the view's gate.
/// </remarks>
internal sealed class RelayQueue
{
    // Index: transmits left (0 is never used: a record with none left is in no bucket). Grown on demand.
    private Bucket[] _state = new Bucket[16];
    private Bucket[] _capabilities = new Bucket[16];
    private int _highest;

    /// <summary>Records queued, states and capabilities together.</summary>
    public int Count { get; private set; }

    /// <summary>The highest transmits left of any record queued (0 when none; an upper bound after records leave).</summary>
    public int Highest => Count == 0 ? 0 : _highest;

    /// <summary>Sets how many more times a record is to be relayed; 0 (or less) takes it out of the queue. A record already queued moves to the back of its new bucket.</summary>
    public void Set(GossipNode node, bool capabilities, int transmits)
    {
        Remove(node, capabilities);
        if (transmits <= 0)
        {
            return;
        }

        ref RelayLinks links = ref LinksOf(node, capabilities);
        links.Transmits = transmits;
        Bucket[] buckets = BucketsOf(capabilities, transmits);
        ref Bucket bucket = ref buckets[transmits];
        links.Previous = bucket.Tail;
        links.Next = null;
        if (bucket.Tail is { } tail)
        {
            LinksOf(tail, capabilities).Next = node;
        }
        else
        {
            bucket.Head = node;
        }

        bucket.Tail = node;
        Count++;
        _highest = Math.Max(_highest, transmits);
    }

    /// <summary>One transmit of the record was sent: it moves to the back of the bucket below (or leaves the queue after its last).</summary>
    public void Sent(GossipNode node, bool capabilities) => Set(node, capabilities, LinksOf(node, capabilities).Transmits - 1);

    /// <summary>Takes both of a node's records out of the queue (the node leaves the view).</summary>
    public void RemoveNode(GossipNode node)
    {
        Remove(node, capabilities: false);
        Remove(node, capabilities: true);
    }

    /// <summary>The first record of the kind queued with exactly <paramref name="transmits"/> left; null when none.</summary>
    public GossipNode? First(int transmits, bool capabilities)
    {
        Bucket[] buckets = capabilities ? _capabilities : _state;
        return transmits > 0 && transmits < buckets.Length ? buckets[transmits].Head : null;
    }

    /// <summary>The record after <paramref name="node"/> in its bucket; null at the end.</summary>
    public static GossipNode? NextOf(GossipNode node, bool capabilities) => LinksOf(node, capabilities).Next;

    private static ref RelayLinks LinksOf(GossipNode node, bool capabilities) =>
        ref capabilities ? ref node.CapabilityLinks : ref node.StateLinks;

    private Bucket[] BucketsOf(bool capabilities, int transmits)
    {
        ref Bucket[] buckets = ref capabilities ? ref _capabilities : ref _state;
        if (transmits >= buckets.Length)
        {
            Array.Resize(ref buckets, Math.Max(transmits + 1, buckets.Length * 2));
        }

        return buckets;
    }

    private void Remove(GossipNode node, bool capabilities)
    {
        ref RelayLinks links = ref LinksOf(node, capabilities);
        if (links.Transmits <= 0)
        {
            return;
        }

        ref Bucket bucket = ref (capabilities ? _capabilities : _state)[links.Transmits];
        if (links.Previous is { } previous)
        {
            LinksOf(previous, capabilities).Next = links.Next;
        }
        else
        {
            bucket.Head = links.Next;
        }

        if (links.Next is { } next)
        {
            LinksOf(next, capabilities).Previous = links.Previous;
        }
        else
        {
            bucket.Tail = links.Previous;
        }

        links = default;
        Count--;
    }

    private struct Bucket
    {
        public GossipNode? Head;
        public GossipNode? Tail;
    }
}
