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

    // The liveness filter's verdict on the node, worked out per view and plan: the snapshot is
    // stale once the clock passes StaleAfterUtcTicks (long.MaxValue: never).
    public readonly long StaleAfterUtcTicks = LivenessFilter.StaleAfter(LivenessFilter.Standing(slot.Node.IsLocal, slot.Node.Liveness), slot.Node.Factors.CapturedAt.UtcTicks, maxSnapshotAgeTicks);
    public readonly byte FreshVerdict = plan.LivenessVerdicts[LivenessFilter.Standing(slot.Node.IsLocal, slot.Node.Liveness)];
    public readonly byte StaleVerdict = plan.LivenessVerdicts[LivenessFilter.Stale];
}

/// <summary>
/// Terms for every candidate of a view (each model's consecutively, in the index's order), with
/// the options, bandwidth membership and time span they hold for.
/// </summary>
internal sealed class PreparedTerms(ScoringOptions options, FilterPlan plan, long maxSnapshotAgeTicks, long membership, long fromUtcTicks, long untilUtcTicks, CandidateTerms[] candidates)
{
    public ScoringOptions Options { get; } = options;

    public CandidateTerms[] Candidates { get; } = candidates;

    // The maximum snapshot age is compared by value: the liveness filter reads its options on
    // its own, so a new plan does not mean a new age, nor the reverse.
    public bool HoldsFor(DefaultCostScorer scorer, FilterPlan currentPlan, long currentMaxSnapshotAgeTicks, long nowUtcTicks) =>
        nowUtcTicks >= fromUtcTicks && nowUtcTicks <= untilUtcTicks
        && ReferenceEquals(Options, scorer.Options) && membership == scorer.Bandwidth.Membership
        && ReferenceEquals(plan, currentPlan) && maxSnapshotAgeTicks == currentMaxSnapshotAgeTicks;
}
