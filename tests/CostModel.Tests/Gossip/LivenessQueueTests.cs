using CostModel.Gossip;

namespace CostModel.Tests.Gossip;

/// <summary>
/// The adapter's liveness queue: each slot at most once, under the earliest deadline it was given;
/// the nodes due come out by deadline, then slot; a removed slot is gone for its next node.
/// </summary>
public sealed class LivenessQueueTests
{
    // 40 slots and deadlines in 0..63: small enough that slots repeat and deadlines tie often.
    private const int RandomSlots = 40;
    private const int RandomDeadlines = 64;

    // 600 operations a run: enough to fill, drain and refill the queue several times.
    private const int RandomOperations = 600;

    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (int seed = 1; seed <= 40; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    [Fact]
    public void Due_nodes_come_out_by_deadline_then_slot_and_only_once_due()
    {
        var queue = new LivenessQueue();
        queue.Schedule(5, 20);
        queue.Schedule(3, 10);
        queue.Schedule(9, 10);
        queue.Schedule(1, 20);
        queue.Schedule(7, 30);

        Assert.Equal([3, 9, 1, 5], DrainDue(queue, 29));
        Assert.False(queue.TryDequeueDue(29, out int none));
        Assert.Equal(-1, none);
        Assert.Equal(1, queue.Count);
        Assert.Equal([7], DrainDue(queue, 30));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void A_slot_is_held_once_under_its_earliest_deadline_and_a_later_one_is_ignored()
    {
        var queue = new LivenessQueue();
        Assert.True(queue.Schedule(4, 100));
        Assert.True(queue.Schedule(2, 50));
        Assert.True(queue.Schedule(4, 40));
        Assert.False(queue.Schedule(4, 60));
        Assert.False(queue.Schedule(4, 40));
        Assert.False(queue.Schedule(6, long.MaxValue));

        Assert.Equal(2, queue.Count);
        Assert.Equal(40, queue.DeadlineOf(4));
        Assert.Equal(long.MaxValue, queue.DeadlineOf(6));
        Assert.False(queue.Contains(6));
        Assert.Equal([4, 2], DrainDue(queue, long.MaxValue));
    }

    [Fact]
    public void A_removed_slot_is_not_due_and_its_reuse_starts_unqueued()
    {
        var queue = new LivenessQueue();
        for (int slot = 0; slot < 8; slot++)
        {
            queue.Schedule(slot, 100 + slot);
        }

        // The root, an inner node and the last one: each takes another path out of the heap.
        Assert.True(queue.Remove(0));
        Assert.True(queue.Remove(3));
        Assert.True(queue.Remove(7));
        Assert.False(queue.Remove(3));
        Assert.False(queue.Remove(1_000));
        Assert.False(queue.Contains(3));
        Assert.Equal(5, queue.Count);

        // The slot given to another node: queued under that node's (later) deadline only.
        Assert.True(queue.Schedule(3, 500));
        Assert.Equal([1, 2, 4, 5, 6], DrainDue(queue, 499));
        Assert.Equal([3], DrainDue(queue, 500));
    }

    [Fact]
    public void Queue_only_makes_exactly_the_given_slots_due_at_once_in_slot_order()
    {
        var queue = new LivenessQueue();
        queue.Schedule(2, 10);
        queue.Schedule(50, 5);
        queue.Schedule(8, 1_000);

        queue.QueueOnly([9, 2, 30, 0, 8, 17, 2], long.MinValue);

        Assert.Equal(6, queue.Count);
        Assert.False(queue.Contains(50));
        Assert.Equal(long.MinValue, queue.DeadlineOf(8));
        Assert.Equal([0, 2, 8, 9, 17, 30], DrainDue(queue, long.MinValue));
    }

    [Fact]
    public void Clear_leaves_no_slot_queued()
    {
        var queue = new LivenessQueue();
        queue.Schedule(1, 1);
        queue.Schedule(2, 2);
        queue.Clear();

        Assert.Equal(0, queue.Count);
        Assert.False(queue.Contains(1));
        Assert.True(queue.Schedule(2, 3));
        Assert.Equal([2], DrainDue(queue, long.MaxValue));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_operations_match_a_sorted_reference(int seed)
    {
        var random = new Random(seed);
        var queue = new LivenessQueue();

        // The reference: each slot's deadline, and the queued (deadline, slot) pairs in order.
        var deadlines = new Dictionary<int, long>();
        var ordered = new SortedSet<(long Deadline, int Slot)>();

        for (int operation = 0; operation < RandomOperations; operation++)
        {
            int slot = random.Next(RandomSlots);
            int kind = random.Next(100);
            if (kind < 55)
            {
                long deadline = random.Next(20) == 0 ? long.MinValue : random.Next(RandomDeadlines);
                bool earlier = !deadlines.TryGetValue(slot, out long queued) || deadline < queued;
                Assert.Equal(earlier, queue.Schedule(slot, deadline));
                if (earlier)
                {
                    ordered.Remove((queued, slot));
                    ordered.Add((deadline, slot));
                    deadlines[slot] = deadline;
                }
            }
            else if (kind < 75)
            {
                bool queued = deadlines.Remove(slot, out long deadline);
                Assert.Equal(queued, queue.Remove(slot));
                ordered.Remove((deadline, slot));
            }
            else if (kind < 97)
            {
                long timestamp = random.Next(RandomDeadlines);
                var expected = new List<int>();
                while (ordered.Count > 0 && ordered.Min.Deadline <= timestamp)
                {
                    expected.Add(ordered.Min.Slot);
                    deadlines.Remove(ordered.Min.Slot);
                    ordered.Remove(ordered.Min);
                }

                List<int> due = DrainDue(queue, timestamp);
                Assert.Equal(expected, due);
                Assert.Equal(due.Count, due.Distinct().Count());
            }
            else
            {
                int[] every = Enumerable.Range(0, RandomSlots).Where(_ => random.Next(2) == 0).ToArray();
                random.Shuffle(every);
                long deadline = random.Next(RandomDeadlines);
                queue.QueueOnly(every, deadline);
                deadlines.Clear();
                ordered.Clear();
                foreach (int each in every)
                {
                    deadlines[each] = deadline;
                    ordered.Add((deadline, each));
                }
            }

            Assert.Equal(ordered.Count, queue.Count);
            for (int each = 0; each < RandomSlots; each++)
            {
                Assert.Equal(deadlines.TryGetValue(each, out long deadline) ? deadline : long.MaxValue, queue.DeadlineOf(each));
            }
        }

        // What is left comes out in the reference's order, each slot once.
        Assert.Equal(ordered.Select(entry => entry.Slot).ToList(), DrainDue(queue, long.MaxValue));
        Assert.Equal(0, queue.Count);
    }

    private static List<int> DrainDue(LivenessQueue queue, long timestamp)
    {
        var due = new List<int>();
        while (queue.TryDequeueDue(timestamp, out int slot))
        {
            due.Add(slot);
        }

        return due;
    }
}
