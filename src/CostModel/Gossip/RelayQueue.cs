namespace CostModel.Gossip;

/// <summary>What a <see cref="RelayQueue"/> keeps of one record of one node: its neighbours in the queue (slots of the <see cref="PeerTable"/>, <see cref="RelayQueue.NoSlot"/> for none) and the transmits it has left.</summary>
internal struct RelayLinks
{
    public int Previous;
    public int Next;
    public int Transmits;

    /// <summary>Not queued: no neighbours, no transmits left.</summary>
    public static RelayLinks None => new() { Previous = RelayQueue.NoSlot, Next = RelayQueue.NoSlot };
}

/// <summary>
/// The records (a remote node's state or its capabilities) still to be relayed, bucketed by how
/// many transmits each has left, so that a message is filled from the records relayed the fewest
/// times so far without looking at the others: O(records written) per message, not a scan and a
/// sort of every node in the view (which made a round O(n log n) per node, O(n^2 log n) per mesh).
/// </summary>
/// <remarks>
/// Each bucket is a first-in, first-out list threaded through the nodes' records by slot
/// (<see cref="PeerRecord.StateLinks"/>, <see cref="PeerRecord.CapabilityLinks"/>): no allocation
/// per update. A record sent goes to the back of the next lower bucket, so records with as many
/// transmits left take turns. Not thread-safe: the adapter calls it under the view's gate.
/// </remarks>
internal sealed class RelayQueue(PeerTable peers)
{
    /// <summary>No slot: the end of a bucket's list.</summary>
    public const int NoSlot = -1;

    // 16 buckets to start with, grown on demand. Index: transmits left (0 is never used: a record with none left is in no bucket).
    private const int InitialBuckets = 16;

    private Bucket[] _state = NewBuckets(InitialBuckets);
    private Bucket[] _capabilities = NewBuckets(InitialBuckets);
    private int _highest;

    /// <summary>Records queued, states and capabilities together.</summary>
    public int Count { get; private set; }

    /// <summary>The highest transmits left of any record queued (0 when none; an upper bound after records leave).</summary>
    public int Highest => Count == 0 ? 0 : _highest;

    /// <summary>Sets how many more times a record is to be relayed; 0 (or less) takes it out of the queue. A record already queued moves to the back of its new bucket.</summary>
    public void Set(int slot, bool capabilities, int transmits)
    {
        Remove(slot, capabilities);
        if (transmits <= 0)
        {
            return;
        }

        Bucket[] buckets = BucketsOf(capabilities, transmits);
        ref Bucket bucket = ref buckets[transmits];
        ref RelayLinks links = ref LinksOf(slot, capabilities);
        links.Transmits = transmits;
        links.Previous = bucket.Tail;
        links.Next = NoSlot;
        if (bucket.Tail != NoSlot)
        {
            LinksOf(bucket.Tail, capabilities).Next = slot;
        }
        else
        {
            bucket.Head = slot;
        }

        bucket.Tail = slot;
        Count++;
        _highest = Math.Max(_highest, transmits);
    }

    /// <summary>One transmit of the record was sent: it moves to the back of the bucket below (or leaves the queue after its last).</summary>
    public void Sent(int slot, bool capabilities) => Set(slot, capabilities, LinksOf(slot, capabilities).Transmits - 1);

    /// <summary>Takes both of a node's records out of the queue (the node leaves the view).</summary>
    public void RemoveNode(int slot)
    {
        Remove(slot, capabilities: false);
        Remove(slot, capabilities: true);
    }

    /// <summary>The first record of the kind queued with exactly <paramref name="transmits"/> left; <see cref="NoSlot"/> when none.</summary>
    public int First(int transmits, bool capabilities)
    {
        Bucket[] buckets = capabilities ? _capabilities : _state;
        return transmits > 0 && transmits < buckets.Length ? buckets[transmits].Head : NoSlot;
    }

    /// <summary>The record after <paramref name="slot"/>'s in its bucket; <see cref="NoSlot"/> at the end.</summary>
    public int NextOf(int slot, bool capabilities) => LinksOf(slot, capabilities).Next;

    private static Bucket[] NewBuckets(int length)
    {
        var buckets = new Bucket[length];
        Array.Fill(buckets, new Bucket { Head = NoSlot, Tail = NoSlot });
        return buckets;
    }

    private ref RelayLinks LinksOf(int slot, bool capabilities)
    {
        ref PeerRecord record = ref peers[slot];
        return ref capabilities ? ref record.CapabilityLinks : ref record.StateLinks;
    }

    private Bucket[] BucketsOf(bool capabilities, int transmits)
    {
        ref Bucket[] buckets = ref capabilities ? ref _capabilities : ref _state;
        if (transmits >= buckets.Length)
        {
            Bucket[] grown = NewBuckets(Math.Max(transmits + 1, buckets.Length * 2));
            buckets.CopyTo(grown, 0);
            buckets = grown;
        }

        return buckets;
    }

    private void Remove(int slot, bool capabilities)
    {
        ref RelayLinks links = ref LinksOf(slot, capabilities);
        if (links.Transmits <= 0)
        {
            return;
        }

        ref Bucket bucket = ref (capabilities ? _capabilities : _state)[links.Transmits];
        if (links.Previous != NoSlot)
        {
            LinksOf(links.Previous, capabilities).Next = links.Next;
        }
        else
        {
            bucket.Head = links.Next;
        }

        if (links.Next != NoSlot)
        {
            LinksOf(links.Next, capabilities).Previous = links.Previous;
        }
        else
        {
            bucket.Tail = links.Previous;
        }

        links = RelayLinks.None;
        Count--;
    }

    private struct Bucket
    {
        public int Head;
        public int Tail;
    }
}
