namespace CostModel.Gossip;

/// <summary>
/// The remote nodes whose liveness is to be looked at, each under the earliest timestamp at which
/// it can change (its deadline): an indexed binary min-heap of <see cref="PeerTable"/> slots that
/// holds each slot at most once, so it never grows past the nodes queued.
/// </summary>
/// <remarks>
/// <para>
/// Order: by deadline, then by slot (lower first). Slots are unique in the heap, so the order is
/// total and the nodes due come out in the same order whatever the history of the queue.
/// </para>
/// <para>
/// Layout: the heap's deadlines and slots in two arrays by heap position, and each slot's heap
/// position in a third array by slot: 16 bytes a queued node and nothing per update (a
/// <see cref="PriorityQueue{TElement, TPriority}"/> took an entry per lowered deadline, the
/// outdated ones skipped when due, and never shrank: tens of KB a node at 1,000 nodes).
/// Not thread-safe: the adapter calls it under the view's gate.
/// </para>
/// </remarks>
internal sealed class LivenessQueue
{
    // 16 entries to start with, doubled as needed: a view of a few nodes takes one array each.
    private const int InitialCapacity = 16;

    // By heap position: the deadline (timestamp ticks) and the slot of each node queued.
    private long[] _deadlines = [];
    private int[] _heap = [];

    // By slot: its heap position plus one; 0 (an array's default) while the slot is not queued.
    private int[] _positions = [];

    /// <summary>Nodes queued.</summary>
    public int Count { get; private set; }

    /// <summary>Whether <paramref name="slot"/> is queued.</summary>
    /// <param name="slot">A slot (0 or more).</param>
    /// <returns>True when queued.</returns>
    public bool Contains(int slot) => PositionOf(slot) >= 0;

    /// <summary>The deadline <paramref name="slot"/> is queued under; <see cref="long.MaxValue"/> while not queued.</summary>
    /// <param name="slot">A slot (0 or more).</param>
    /// <returns>Its deadline (timestamp ticks).</returns>
    public long DeadlineOf(int slot)
    {
        int position = PositionOf(slot);
        return position < 0 ? long.MaxValue : _deadlines[position];
    }

    /// <summary>
    /// Queues <paramref name="slot"/> under <paramref name="deadline"/>, or moves it there when it is
    /// queued under a later one. A deadline no earlier than the one it is queued under is ignored (a
    /// later deadline is found when the earlier comes due), and so is <see cref="long.MaxValue"/>
    /// (never) for a slot not queued.
    /// </summary>
    /// <param name="slot">A slot (0 or more).</param>
    /// <param name="deadline">The earliest timestamp at which its liveness can change.</param>
    /// <returns>True when the slot was queued or moved earlier.</returns>
    public bool Schedule(int slot, long deadline)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        int position = PositionOf(slot);
        if (position >= 0)
        {
            if (deadline >= _deadlines[position])
            {
                return false;
            }

            _deadlines[position] = deadline;
            SiftUp(position);
            return true;
        }

        if (deadline == long.MaxValue)
        {
            return false;
        }

        EnsureSlot(slot);
        EnsureHeap(Count + 1);
        Place(Count, deadline, slot);
        Count++;
        SiftUp(Count - 1);
        return true;
    }

    /// <summary>
    /// Takes out the first node (<see cref="LivenessQueue">by deadline, then slot</see>) when its
    /// deadline is at or before <paramref name="timestamp"/>; call until false for every node due.
    /// </summary>
    /// <param name="timestamp">Now (timestamp ticks).</param>
    /// <param name="slot">The node's slot; -1 when none is due.</param>
    /// <returns>True when a node was due.</returns>
    public bool TryDequeueDue(long timestamp, out int slot)
    {
        if (Count == 0 || _deadlines[0] > timestamp)
        {
            slot = -1;
            return false;
        }

        slot = _heap[0];
        RemoveAt(0);
        return true;
    }

    /// <summary>Takes <paramref name="slot"/> out of the queue (its node left the table, so the slot's next node starts unqueued).</summary>
    /// <param name="slot">A slot (0 or more).</param>
    /// <returns>True when it was queued.</returns>
    public bool Remove(int slot)
    {
        int position = PositionOf(slot);
        if (position < 0)
        {
            return false;
        }

        RemoveAt(position);
        return true;
    }

    /// <summary>
    /// Queues exactly <paramref name="slots"/>, each under <paramref name="deadline"/> (every node due
    /// at once, e.g. under <see cref="long.MinValue"/>): whatever was queued before is dropped. O(n).
    /// </summary>
    /// <param name="slots">Distinct slots (0 or more); a repeated one is queued once.</param>
    /// <param name="deadline">The deadline of every one.</param>
    public void QueueOnly(IEnumerable<int> slots, long deadline)
    {
        ArgumentNullException.ThrowIfNull(slots);
        Clear();
        if (deadline == long.MaxValue)
        {
            return;
        }

        foreach (int slot in slots)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(slot);
            EnsureSlot(slot);
            if (_positions[slot] != 0)
            {
                continue;
            }

            EnsureHeap(Count + 1);
            Place(Count, deadline, slot);
            Count++;
        }

        // Floyd's heap construction: every deadline is the same, so this orders by slot.
        for (int position = (Count / 2) - 1; position >= 0; position--)
        {
            SiftDown(position);
        }
    }

    /// <summary>Takes every node out.</summary>
    public void Clear()
    {
        for (int position = 0; position < Count; position++)
        {
            _positions[_heap[position]] = 0;
        }

        Count = 0;
    }

    private int PositionOf(int slot) => (uint)slot < (uint)_positions.Length ? _positions[slot] - 1 : -1;

    private static bool Precedes(long deadline, int slot, long otherDeadline, int otherSlot) =>
        deadline < otherDeadline || (deadline == otherDeadline && slot < otherSlot);

    private void Place(int position, long deadline, int slot)
    {
        _deadlines[position] = deadline;
        _heap[position] = slot;
        _positions[slot] = position + 1;
    }

    private void RemoveAt(int position)
    {
        _positions[_heap[position]] = 0;
        int last = --Count;
        if (position == last)
        {
            return;
        }

        Place(position, _deadlines[last], _heap[last]);
        if (position > 0 && Precedes(_deadlines[position], _heap[position], _deadlines[(position - 1) / 2], _heap[(position - 1) / 2]))
        {
            SiftUp(position);
        }
        else
        {
            SiftDown(position);
        }
    }

    private void SiftUp(int position)
    {
        long deadline = _deadlines[position];
        int slot = _heap[position];
        while (position > 0)
        {
            int parent = (position - 1) / 2;
            if (!Precedes(deadline, slot, _deadlines[parent], _heap[parent]))
            {
                break;
            }

            Place(position, _deadlines[parent], _heap[parent]);
            position = parent;
        }

        Place(position, deadline, slot);
    }

    private void SiftDown(int position)
    {
        long deadline = _deadlines[position];
        int slot = _heap[position];
        while (true)
        {
            int child = (2 * position) + 1;
            if (child >= Count)
            {
                break;
            }

            if (child + 1 < Count && Precedes(_deadlines[child + 1], _heap[child + 1], _deadlines[child], _heap[child]))
            {
                child++;
            }

            if (!Precedes(_deadlines[child], _heap[child], deadline, slot))
            {
                break;
            }

            Place(position, _deadlines[child], _heap[child]);
            position = child;
        }

        Place(position, deadline, slot);
    }

    private void EnsureSlot(int slot)
    {
        if (slot >= _positions.Length)
        {
            Array.Resize(ref _positions, Math.Max(Math.Max(InitialCapacity, slot + 1), 2 * _positions.Length));
        }
    }

    private void EnsureHeap(int count)
    {
        if (count > _heap.Length)
        {
            int capacity = Math.Max(Math.Max(InitialCapacity, count), 2 * _heap.Length);
            Array.Resize(ref _heap, capacity);
            Array.Resize(ref _deadlines, capacity);
        }
    }
}
