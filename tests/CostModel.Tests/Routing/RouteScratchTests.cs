using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;

namespace CostModel.Tests.Routing;

public sealed class RouteScratchTests
{
    [Fact]
    public void Clearing_forgets_the_view_slots_and_the_entries_and_clearing_again_changes_nothing()
    {
        var scratch = new RouteScratch();
        CandidateSlot[] slots = [new(0, null!, new TargetState("a"), new ServedModel("m"), 0), new(1, null!, new TargetState("b"), new ServedModel("m"), 0)];
        scratch.UseSlots(slots, new ModelGroup(0, 0, 2), more: 1);
        scratch.AddEntry(null, null, new TargetState("api"), new ServedModel("m"), 0, null);
        scratch.Requester = new NodeCostFactors("me", 1, 1, DateTimeOffset.UnixEpoch);
        Assert.Equal(3, scratch.Count);
        Assert.Equal("b", scratch.StateAt(1).TargetId);
        Assert.Equal("api", scratch.StateAt(2).TargetId);

        // The router clears before and after every decision: twice in a row is the usual case.
        for (int i = 0; i < 2; i++)
        {
            scratch.Clear();

            Assert.Equal(0, scratch.Count);
            Assert.Equal(0, scratch.SlotCount);
            Assert.Same(ModelGroup.None, scratch.Group);
            Assert.Null(scratch.Requester);
            Assert.Null(scratch.Entries[2].State);
        }

        // Without slots, candidates are entries again: the first one is no longer slot "a".
        scratch.AddEntry(null, null, new TargetState("c"), new ServedModel("m"), 0, null);
        Assert.Equal("c", scratch.StateAt(0).TargetId);
    }
}
