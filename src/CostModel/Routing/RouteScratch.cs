using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// A candidate's verdict after the filters, worst wins: <see cref="Eligible"/>, then
/// <see cref="SoftRejected"/> (panic mode may ignore it), then <see cref="HardRejected"/>.
/// </summary>
internal static class Verdict
{
    public const byte Eligible = 0;
    public const byte SoftRejected = 1;
    public const byte HardRejected = 2;

    /// <summary>The verdict a filter's result means.</summary>
    public static byte Of(in RouteFilterResult result) => result.Passed ? Eligible : result.Soft ? SoftRejected : HardRejected;
}

/// <summary>A candidate with references: API endpoints, and every candidate a custom scorer or filter sees.</summary>
internal struct CandidateEntry
{
    public MeshNode? Node;
    public ApiEndpoint? Endpoint;
    public TargetState State;
    public ServedModel Model;
    public int Hops;
    public TokenPrice? Price;
    public double FailureRate;
    public string? RejectedBy;
    public bool Soft;
    public string? Reason;
}

/// <summary>
/// Per-thread working arrays of one decision, reused (one per routing thread). Candidates 0 to
/// <see cref="SlotCount"/> - 1 are the index's slots of the requested model (no entry written);
/// the rest have entries. Verdicts, costs and totals are plain arrays, written by the pricing and
/// read by the picker.
/// </summary>
internal sealed class RouteScratch
{
    private const int InitialCapacity = 64;

    private CandidateSlot[] _slots = [];
    private int _start;
    private long _groupView = -1;
    private string? _groupModel;
    private int _groupIndex;

    public CandidateEntry[] Entries = new CandidateEntry[InitialCapacity];
    public byte[] Verdicts = new byte[InitialCapacity];
    public double[] Adjusted = new double[InitialCapacity];
    public CostBreakdown[] Costs = new CostBreakdown[InitialCapacity];
    public int[] Near = new int[InitialCapacity];
    public int[] FollowUps = new int[InitialCapacity];
    public int Count;
    public int SlotCount;

    /// <summary>The routing node's own factors for this decision (the view's local node), null for none.</summary>
    public NodeCostFactors? Requester;

    /// <summary>How many routers may be placing requests (<see cref="IndexedView.Routers"/>); 0 when not known (a scratch filled by hand), where the picker takes the candidates, as if every one routed.</summary>
    public int Routers;

    /// <summary>This node's rank among the <see cref="Routers"/> (<see cref="IndexedView.RouterRank"/>); read only when <see cref="Routers"/> is known.</summary>
    public int RouterRank;

    /// <summary>The requests per second the other routers report placing (<see cref="IndexedView.OtherRoutedRate"/>); 0 when not known.</summary>
    public double OtherRoutedRate;

    /// <summary>The routers the herd is estimated over: <see cref="Routers"/>, or the candidates when that is not known.</summary>
    public int HerdRouters => Routers > 0 ? Routers : Count;

    /// <summary>The view's candidates of the requested model: the first <see cref="ModelGroup.Count"/> candidates (<see cref="ModelGroup.None"/> when there are none, or the scratch was filled by hand).</summary>
    public ModelGroup Group = ModelGroup.None;

    /// <summary>How many candidates the picker's scan (<see cref="PickerScan.Scan"/>) left in <see cref="Near"/> as maybe near the cheapest.</summary>
    public int MaybeNear;

    public TargetState StateAt(int i) => i < SlotCount ? _slots[_start + i].State : Entries[i].State;

    public ServedModel ModelAt(int i) => i < SlotCount ? _slots[_start + i].Model : Entries[i].Model;

    public bool IsEndpointAt(int i) => i >= SlotCount && Entries[i].Endpoint is not null;

    /// <summary>What the scorer sees of candidate <paramref name="i"/>.</summary>
    public CostCandidate CostCandidateAt(int i)
    {
        if (i < SlotCount)
        {
            CandidateSlot slot = _slots[_start + i];
            return CandidatePricing.CostCandidateOf(slot.Node, null, slot.State, slot.Model, slot.Hops, null) with { RequesterFactors = Requester };
        }

        return CandidatePricing.CostCandidateOf(in Entries[i]) with { RequesterFactors = Requester };
    }

    /// <summary>Takes the index's slots of one model (<paramref name="group"/>) as the first candidates, with room for <paramref name="more"/> entries after them.</summary>
    public void UseSlots(CandidateSlot[] slots, ModelGroup group, int more)
    {
        Reserve(group.Count + more);
        _slots = slots;
        _start = group.Start;
        Group = group;
        SlotCount = group.Count;
        Count = group.Count;
    }

    public void AddEntry(MeshNode? node, ApiEndpoint? endpoint, TargetState state, ServedModel model, int hops, TokenPrice? price)
    {
        Reserve(Count + 1);
        Entries[Count++] = new CandidateEntry { Node = node, Endpoint = endpoint, State = state, Model = model, Hops = hops, Price = price };
    }

    /// <summary>
    /// The view's candidates for <paramref name="model"/>. A thread's requests mostly name the
    /// same model, often through the same string: the last lookup is remembered by the view's id
    /// and the string's reference (not the view itself, which may be replaced), saving a
    /// case-insensitive hash and comparison per decision.
    /// </summary>
    public ModelGroup GroupOf(IndexedView view, string model)
    {
        if (_groupView == view.Id && ReferenceEquals(_groupModel, model))
        {
            return _groupIndex < 0 ? ModelGroup.None : view.Listed[_groupIndex];
        }

        ModelGroup group = view.Groups.TryGetValue(model, out ModelGroup? found) ? found : ModelGroup.None;
        _groupView = view.Id;
        _groupModel = model;
        _groupIndex = group.Index;
        return group;
    }

    /// <summary>
    /// Forgets the decision's candidates and drops their references, so the scratch does not keep old
    /// views alive. The router clears before and after every decision, so each reference is written
    /// only when it is set (a reference store costs a write barrier; the fast path adds no entries).
    /// </summary>
    public void Clear()
    {
        if (Count > SlotCount)
        {
            Array.Clear(Entries, SlotCount, Count - SlotCount);
        }

        if (_slots.Length != 0)
        {
            _slots = [];
        }

        if (!ReferenceEquals(Group, ModelGroup.None))
        {
            Group = ModelGroup.None;
        }

        _start = 0;
        SlotCount = 0;
        Count = 0;
        Requester = null;
        Routers = 0;
        RouterRank = 0;
        OtherRoutedRate = 0;
    }

    private void Reserve(int capacity)
    {
        if (capacity > Entries.Length)
        {
            int size = Math.Max(capacity, Entries.Length * 2);
            Array.Resize(ref Entries, size);
            Array.Resize(ref Verdicts, size);
            Array.Resize(ref Adjusted, size);
            Array.Resize(ref Costs, size);
            Array.Resize(ref Near, size);
            Array.Resize(ref FollowUps, size);
        }
    }
}
