using System.Runtime.CompilerServices;
using System.Text;
using CostModel.Gossip;
using CostModel.Mesh;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>The adapter's slot table of remote nodes: found by id once indexed, slots reused after removal, records kept in place as the table grows.</summary>
public sealed class PeerTableTests
{
    private static readonly PhiParameters Parameters = PhiParameters.For(new LivenessSettings(), new FakeTimeProvider());

    // Each node of a simulated 1,000-node mesh keeps a record for every other: a million records, so
    // each byte of one is a megabyte of live heap. 216 bytes since a received state keeps its arrival
    // time and age bytes, not a time per group, the liveness deadline moved to the table's queue and
    // the time last heard is the state's arrival (280 before).
    private const int RecordBudgetBytes = 216;

    [Fact]
    public void A_peer_record_stays_within_its_size_budget()
    {
        Assert.True(Unsafe.SizeOf<PeerRecord>() <= RecordBudgetBytes, $"A peer record takes {Unsafe.SizeOf<PeerRecord>()} bytes; the budget is {RecordBudgetBytes}.");
    }

    [Fact]
    public void A_reserved_node_is_found_by_id_only_once_indexed_and_starts_alive_unqueued_and_changed()
    {
        var peers = new PeerTable();
        int slot = peers.Reserve("a", Encoding.UTF8.GetBytes("a"), PhiWindow.Start(Parameters));

        Assert.False(peers.TryFind("a", out _));
        Assert.Equal(0, peers.Count);

        peers.Index(slot);
        Assert.True(peers.TryFind("a", out int found));
        Assert.Equal(slot, found);
        Assert.Equal(1, peers.Count);
        Assert.Equal(NodeLiveness.Alive, peers[slot].Liveness);
        Assert.False(peers.LivenessQueue.Contains(slot));
        Assert.Equal(RelayQueue.NoSlot, peers[slot].StateLinks.Next);
        Assert.True(peers[slot].Changed);
        Assert.False(peers[slot].HasState);
    }

    [Fact]
    public void A_removed_nodes_slot_goes_to_the_next_node_its_record_cleared_and_out_of_the_liveness_queue()
    {
        var peers = new PeerTable();
        int a = Add(peers, "a");
        int b = Add(peers, "b");
        peers[a].StatesThisRun = 7;
        peers.LivenessQueue.Schedule(a, 42);
        peers.LivenessQueue.Schedule(b, 43);

        peers.Remove(a);
        Assert.False(peers.TryFind("a", out _));
        Assert.False(peers.LivenessQueue.Contains(a));
        Assert.Equal(long.MaxValue, peers.LivenessQueue.DeadlineOf(a));
        Assert.Equal(43, peers.LivenessQueue.DeadlineOf(b));
        Assert.Null(peers[a].NodeId);

        int c = Add(peers, "c");
        Assert.Equal(a, c);
        Assert.Equal(0, peers[c].StatesThisRun);
        Assert.False(peers.LivenessQueue.Contains(c));
        Assert.True(peers.LivenessQueue.TryDequeueDue(long.MaxValue, out int due) && due == b);
        Assert.False(peers.LivenessQueue.TryDequeueDue(long.MaxValue, out _));
        Assert.Equal(["b", "c"], peers.Slots.Select(s => peers[s].NodeId).Order().ToList());
        Assert.True(peers.TryFind("b", out int foundB) && foundB == b);
    }

    [Fact]
    public void Records_stay_in_place_while_the_table_grows_past_many_arrays()
    {
        var peers = new PeerTable();
        int first = Add(peers, "n0");
        ref PeerRecord held = ref peers[first];
        for (int i = 1; i < 1_000; i++)
        {
            int slot = Add(peers, "n" + i);
            peers[slot].StatesThisRun = i;
        }

        // The reference taken before the table grew still reaches the record the table holds.
        held.StatesThisRun = -1;
        Assert.Equal(-1, peers[first].StatesThisRun);
        Assert.Equal(1_000, peers.Count);
        Assert.True(peers.TryFind("n999", out int last));
        Assert.Equal(999, peers[last].StatesThisRun);
    }

    [Fact]
    public void The_view_builds_a_record_only_once_it_has_a_state_and_again_only_after_a_change()
    {
        var peers = new PeerTable();
        int slot = Add(peers, "a");
        Assert.Null(peers.Current(slot));

        peers[slot].HasState = true;
        peers[slot].Changed = true;
        MeshNode? built = peers.Current(slot);
        Assert.NotNull(built);
        Assert.Equal("a", built.NodeId);
        Assert.Same(built, peers.Current(slot));

        peers[slot].Liveness = NodeLiveness.Suspect;
        peers[slot].Changed = true;
        MeshNode? rebuilt = peers.Current(slot);
        Assert.NotSame(built, rebuilt);
        Assert.Equal(NodeLiveness.Suspect, rebuilt!.Liveness);
    }

    private static int Add(PeerTable peers, string id) => peers.Add(id, Encoding.UTF8.GetBytes(id), PhiWindow.Start(Parameters));
}
