using CostModel.Mesh;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// Everything the pricing loop reads for one candidate, in one array: its target's terms (node and
/// model), its node's bandwidth entry (null for none yet), its state, and what the filters read
/// from the (immutable) node and model, so the loop does not chase the node and its snapshot.
/// </summary>
internal readonly struct CandidateTerms(in CandidateSlot slot, in TargetTerms target, BandwidthEstimator.Entry? link, FilterPlan plan, long maxSnapshotAgeTicks)
{
    // Fields, so the pricing takes them by reference.
    public readonly TargetTerms Target = target;
    public readonly BandwidthEstimator.Entry? Link = link;
    public readonly TargetState State = slot.State;
    public readonly long ContextLimit = ContextLengthFilter.Limit(slot.Model.ContextTokens);

    // The liveness filter's verdict on the node, worked out per snapshot and plan: the snapshot is
    // stale once the clock passes StaleAfterUtcTicks (long.MaxValue: never).
    public readonly long StaleAfterUtcTicks = LivenessFilter.StaleAfter(LivenessFilter.Standing(slot.Node.IsLocal, slot.Node.Liveness), slot.Node.Factors.CapturedAt.UtcTicks, maxSnapshotAgeTicks);
    public readonly byte FreshVerdict = plan.LivenessVerdicts[LivenessFilter.Standing(slot.Node.IsLocal, slot.Node.Liveness)];
    public readonly byte StaleVerdict = plan.LivenessVerdicts[LivenessFilter.Stale];
}

/// <summary>
/// The terms of every candidate of one index (each model's consecutively, in the index's order),
/// with the options, filter plan, bandwidth membership and time span they hold for. Prepared in
/// place: all of them when the options, the plan or the bandwidth entries change or a reading they
/// used turns stale (<see cref="PrepareAll"/>), one node's when its snapshot is replaced
/// (<see cref="PrepareNode"/>). Written only by the index, under its lock and inside a write of the
/// index's sequence (<see cref="IndexedView.BeginWrite"/>), so a reader that saw the same even
/// sequence before and after reading them read one consistent version.
/// </summary>
internal sealed class PreparedTerms(CandidateTerms[] candidates)
{
    public ScoringOptions Options { get; private set; } = null!;

    public CandidateTerms[] Candidates { get; } = candidates;

    private FilterPlan _plan = null!;
    private BandwidthEstimator _bandwidth = null!;
    private long _maxSnapshotAgeTicks;
    private long _membership;

    // The span every candidate's terms hold for: from the latest full preparation's node times,
    // until the first instant a reading any of them used turns stale.
    private long _fromUtcTicks;
    private long _untilUtcTicks;

    // The maximum snapshot age is compared by value: the liveness filter reads its options on
    // its own, so a new plan does not mean a new age, nor the reverse.
    public bool HoldsFor(DefaultCostScorer scorer, FilterPlan currentPlan, long currentMaxSnapshotAgeTicks, long nowUtcTicks) =>
        nowUtcTicks >= _fromUtcTicks && nowUtcTicks <= _untilUtcTicks
        && ReferenceEquals(Options, scorer.Options) && _membership == scorer.Bandwidth.Membership
        && ReferenceEquals(_plan, currentPlan) && _maxSnapshotAgeTicks == currentMaxSnapshotAgeTicks;

    /// <summary>
    /// Prepares every candidate's terms for <paramref name="now"/> (caller writes the index). A node
    /// whose snapshot, options and validity are unchanged keeps its node terms (<see cref="TargetState.Prepare"/>).
    /// </summary>
    public void PrepareAll(IndexedView view, DefaultCostScorer scorer, FilterPlan plan, long maxSnapshotAgeTicks, DateTimeOffset now)
    {
        // Membership first: an entry added after this read bumps it and the terms are prepared again.
        _membership = scorer.Bandwidth.Membership;
        Options = scorer.Options;
        _bandwidth = scorer.Bandwidth;
        _plan = plan;
        _maxSnapshotAgeTicks = maxSnapshotAgeTicks;
        _fromUtcTicks = long.MinValue;
        _untilUtcTicks = long.MaxValue;
        for (int place = 0; place < view.Nodes.Length; place++)
        {
            long preparedAt = Prepare(view, place, now);
            _fromUtcTicks = Math.Max(_fromUtcTicks, preparedAt);
        }
    }

    /// <summary>
    /// Prepares again the terms of the node at <paramref name="place"/> after its snapshot was
    /// replaced (caller writes the index), with the options and plan of the last full preparation.
    /// The span the terms hold for can only shrink: the node's readings may turn stale sooner. (Its
    /// time of preparation is not taken as the start of the span: a reading that is fresh now was
    /// fresh a moment before, so the terms also hold for a decision that read the clock just before
    /// this one; a clock set back is still caught at the next full preparation.)
    /// </summary>
    public void PrepareNode(IndexedView view, int place, DateTimeOffset now) => Prepare(view, place, now);

    private long Prepare(IndexedView view, int place, DateTimeOffset now)
    {
        MeshNode node = view.Nodes[place];
        TargetState state = view.States[place];
        state.See(node.Factors.Generation, node.Factors.Version);
        NodeTerms terms = state.Prepare(node.Factors, Options, now, out long preparedAt, out long preparedUntil);
        BandwidthEstimator.Entry? link = node.IsLocal ? null : _bandwidth.Find(node.NodeId);
        _untilUtcTicks = Math.Min(_untilUtcTicks, preparedUntil);
        foreach (int s in view.NodeSlots[place])
        {
            ref readonly CandidateSlot slot = ref view.Slots[s];
            Candidates[s] = new CandidateTerms(in slot, new TargetTerms(in terms, new ModelTerms(slot.Model, Options), node.IsLocal, slot.Hops, null, Options), link, _plan, _maxSnapshotAgeTicks);
        }

        return preparedAt;
    }
}
