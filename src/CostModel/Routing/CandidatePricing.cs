using System.Runtime.CompilerServices;
using CostModel.Budgets;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// Filters and prices the candidates of one decision into the thread's scratch: a verdict, a cost
/// and the total the picker compares (the cost plus the expected cost of retries) per candidate.
/// Two ways to the same figures: the full path (every filter through its interface, the scorer's
/// <see cref="ICostScorer.Score"/> per candidate), taken with an explanation, a custom filter or a
/// custom scorer; and the fast path (the built-in filters' tests called directly, the built-in
/// scorer's per-candidate pricing over node terms prepared once per snapshot). See
/// <c>docs/routing.md</c>, "Fast path".
/// </summary>
internal sealed class CandidatePricing(ICostScorer scorer, CandidateIndex index)
{
    /// <summary>0.9: a node failing more than this share of requests still gets a finite expected cost.</summary>
    internal const double MaxFailureRate = 0.9;

    // Set when the scorer is the built-in one: the fast path prices with its prepared node terms.
    private readonly DefaultCostScorer? _defaultScorer = scorer as DefaultCostScorer;

    /// <summary>True when a decision without an explanation takes the fast path under <paramref name="settings"/>.</summary>
    public bool FastPathFor(RouterSettings settings) => _defaultScorer is not null && settings.Plan is not null;

    /// <summary>Fills <paramref name="scratch"/> with the candidates of <paramref name="request"/>, their verdicts, costs and totals.</summary>
    public void Evaluate(RouteScratch scratch, IndexedView view, EndpointList endpoints, RouterSettings settings, RequestProfile request, bool explain, DateTimeOffset now, long stamp)
    {
        scratch.Requester = view.Local?.Factors;
        scratch.Routers = view.Routers;
        scratch.RouterRank = view.RouterRank;
        scratch.OtherRoutedRate = view.OtherRoutedRate;
        if (!explain && settings.Plan is { } plan && _defaultScorer is { } fast)
        {
            EvaluateFast(scratch, view, endpoints, plan, fast, request, settings, now, stamp);
        }
        else
        {
            EvaluateFull(scratch, view, endpoints, settings, request, now, stamp);
        }
    }

    /// <summary>
    /// The affinity key's incumbent holds the conversation's earlier turns in its KV cache: it is
    /// priced again for prefilling only the rest (every other candidate prefills the whole prompt).
    /// One candidate, through the configured scorer, on either path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void CreditPromptCache(RouteScratch scratch, RequestProfile request, string incumbentId, RouterSettings settings, DateTimeOffset now, long stamp)
    {
        for (int i = 0; i < scratch.Count; i++)
        {
            if (scratch.Verdicts[i] != Verdict.HardRejected && !scratch.IsEndpointAt(i) && string.Equals(scratch.StateAt(i).TargetId, incumbentId, StringComparison.Ordinal))
            {
                CostBreakdown cost = scorer.Score(scratch.CostCandidateAt(i) with { HoldsPromptCache = true }, request, now);
                scratch.Costs[i] = cost;
                scratch.Adjusted[i] = AdjustedTotal(in cost, FailureRate(scratch.StateAt(i), stamp, settings), settings.FailureCostSeconds) + settings.Slowdown.ExtraDollars(scratch.StateAt(i), in cost, stamp);
                return;
            }
        }
    }

    /// <summary>What the scorer sees of a candidate with an entry.</summary>
    internal static CostCandidate CostCandidateOf(in CandidateEntry entry) => CostCandidateOf(entry.Node, entry.Endpoint, entry.State, entry.Model, entry.Hops, entry.Price);

    /// <summary>What the scorer sees of a candidate: the work placed since the node's snapshot, the learned decode speed.</summary>
    internal static CostCandidate CostCandidateOf(MeshNode? node, ApiEndpoint? endpoint, TargetState state, ServedModel model, int hops, TokenPrice? price)
    {
        NodeCostFactors? factors = node?.Factors;
        return new CostCandidate
        {
            TargetId = state.TargetId,
            Model = model,
            Factors = factors,
            IsLocal = node?.IsLocal ?? false,
            RelayHops = hops,
            PlacedRequests = factors is null ? state.InFlight : state.PlacedSince(factors.Generation, factors.Version),
            ObservedRttSeconds = endpoint?.RttSeconds,
            ObservedDecodeTokensPerSecond = state.DecodeTokensPerSecond > 0 ? state.DecodeTokensPerSecond : null,
            Price = price,
        };
    }

    /// <summary>The target's recent failure rate, capped at <see cref="MaxFailureRate"/>.</summary>
    internal static double FailureRate(TargetState state, long stamp, RouterSettings settings) =>
        Math.Min(MaxFailureRate, state.FailureRateAt(stamp, settings.FailureMemoryTicks));

    /// <summary>
    /// The total the picker compares: the cost plus the expected cost of retries at the target's
    /// recent failure rate, each failure retried at the same cost and costing
    /// <paramref name="failureCostSeconds"/> more of the request's value of time
    /// (<see cref="RoutingOptions.FailureCost"/>): p / (1 - p) failures are expected before a success.
    /// </summary>
    internal static double AdjustedTotal(in CostBreakdown cost, double failure, double failureCostSeconds)
    {
        double total = cost.TotalDollars;
        return failure > 0
            ? total + (((total - cost.QualityDollars) + (failureCostSeconds * cost.ValueOfTimeDollarsPerSecond)) * failure / (1 - failure))
            : total;
    }

    /// <summary>
    /// The complete path: every candidate through every configured filter (by interface) and the
    /// configured scorer. Used with an explanation, a custom filter or a custom scorer; the reference the fast path must match.
    /// </summary>
    private void EvaluateFull(RouteScratch scratch, IndexedView view, EndpointList endpoints, RouterSettings settings, RequestProfile request, DateTimeOffset now, long stamp)
    {
        // Candidates: the model's slots, copied as one version of the index (a node's snapshot replaced meanwhile means copying again).
        ModelGroup group = scratch.GroupOf(view, request.Model);
        scratch.Group = group;
        long sequence;
        do
        {
            sequence = view.BeginRead(index.Writers);
            scratch.Count = 0;
            for (int s = group.Start; s < group.Start + group.Count; s++)
            {
                CandidateSlot slot = view.Slots[s];
                scratch.AddEntry(slot.Node, null, slot.State, slot.Model, slot.Hops, null);
            }
        }
        while (!view.EndRead(sequence));

        AddEndpoints(scratch, endpoints, request);

        // Filters and scores.
        for (int i = 0; i < scratch.Count; i++)
        {
            ref CandidateEntry entry = ref scratch.Entries[i];
            var candidate = new RouteCandidate
            {
                TargetId = entry.State.TargetId,
                Node = entry.Node,
                Endpoint = entry.Endpoint,
                Model = entry.Model,
                RelayHops = entry.Hops,
                Ejected = entry.State.IsEjected(stamp),
            };
            CostBreakdown cost = default;
            double adjusted = 0;
            Reject(ref entry, settings.PreScore, in candidate, request, now);
            if (entry.RejectedBy is null || entry.Soft)
            {
                cost = scorer.Score(scratch.CostCandidateAt(i), request, now);
                candidate = candidate with { Cost = cost };
                Reject(ref entry, settings.PostScore, in candidate, request, now);
                entry.FailureRate = FailureRate(entry.State, stamp, settings);
                adjusted = AdjustedTotal(in cost, entry.FailureRate, settings.FailureCostSeconds) + settings.Slowdown.ExtraDollars(entry.State, in cost, stamp);
            }

            scratch.Costs[i] = cost;
            scratch.Adjusted[i] = adjusted;
            scratch.Verdicts[i] = entry.RejectedBy is null ? Verdict.Eligible : entry.Soft ? Verdict.SoftRejected : Verdict.HardRejected;
        }
    }

    private static void Reject(ref CandidateEntry entry, IRouteFilter[] filters, in RouteCandidate candidate, RequestProfile request, DateTimeOffset now)
    {
        foreach (IRouteFilter filter in filters)
        {
            if (entry.RejectedBy is not null && !entry.Soft)
            {
                return;
            }

            RouteFilterResult result = filter.Evaluate(in candidate, request, now);
            if (!result.Passed && (entry.RejectedBy is null || !result.Soft))
            {
                // A hard rejection overrides an earlier soft one: panic mode must respect it.
                entry.RejectedBy = filter.Name;
                entry.Soft = result.Soft;
                entry.Reason = result.Reason;
            }
        }
    }

    /// <summary>
    /// The fast path: the candidates of the requested model from the view's per-model index, the
    /// built-in filters called directly, and the built-in scorer's per-candidate pricing over terms
    /// prepared once per snapshot (node), per view and options (model) and per request. The same
    /// code as the full path, so it gives the same decisions and costs (see docs/routing.md). It
    /// writes no references per candidate (no GC write barriers): verdicts, costs and totals go to
    /// plain arrays, and the candidate itself is found again through the index.
    /// </summary>
    private void EvaluateFast(RouteScratch scratch, IndexedView view, EndpointList endpoints, FilterPlan plan, DefaultCostScorer fast, RequestProfile request, RouterSettings settings, DateTimeOffset now, long stamp)
    {
        TimeSpan maxSnapshotAge = plan.Liveness?.MaxSnapshotAge ?? TimeSpan.MaxValue;
        PreparedTerms candidateTerms = index.Terms(view, fast, plan, maxSnapshotAge.Ticks, now);
        BandwidthEstimator bandwidth = fast.Bandwidth;
        SpendCapFilter? spendCaps = plan.SpendCaps is { } caps && caps.Active ? caps : null;
        ModelGroup group = scratch.GroupOf(view, request.Model);
        int count = group.Count;
        scratch.UseSlots(view.Slots, group, endpoints.Endpoints.Length);

        // One version of the terms: a node's snapshot written in place meanwhile means pricing again.
        long sequence;
        do
        {
            sequence = view.BeginRead(index.Writers);
            ReadOnlySpan<CandidateTerms> prepared = candidateTerms.Candidates.AsSpan(group.Start, count);
            var r = new RequestTerms(request, candidateTerms.Options, requesterLink: DefaultCostScorer.RequesterLinkOf(scratch.Requester, now, candidateTerms.Options));
            var inputs = new NodeInputs(r, plan, spendCaps, bandwidth.Prior, now.UtcTicks, ContextLengthFilter.Tokens(request), stamp, settings.FailureMemoryTicks, settings.FailureCostSeconds, settings.Slowdown);
            PriceNodes(prepared, in inputs, scratch.Verdicts.AsSpan(0, count), scratch.Adjusted.AsSpan(0, count), scratch.Costs.AsSpan(0, count), scratch.FollowUps.AsSpan(0, count));
        }
        while (!view.EndRead(sequence));

        // API endpoints are few: they keep an entry each (liveness passes them).
        if (endpoints.Endpoints.Length > 0)
        {
            EvaluateEndpointsFast(scratch, endpoints, plan, fast, spendCaps, request, settings, now, stamp);
        }
    }

    /// <summary>
    /// The fast path's loop over the mesh nodes of the requested model: filters, pricing and the
    /// adjusted total of each, with only what it reads in <paramref name="inputs"/>. The loop makes
    /// no call: a candidate that needs one (its target failed before, so its retries are priced in,
    /// or showed a slowdown, so its excess latency is;
    /// the scorer excluded it, or a spend cap is set, so the filters after scoring judge it) is
    /// noted in <paramref name="followUps"/> and finished after the loop. A call in the loop would
    /// make the JIT keep the loop's values in memory instead of registers, which costs more than
    /// the pricing itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PriceNodes(ReadOnlySpan<CandidateTerms> prepared, in NodeInputs inputs, Span<byte> verdicts, Span<double> adjusted, Span<CostBreakdown> costs, Span<int> followUps)
    {
        // The outputs sliced to the candidates' length: the JIT then checks no bound per candidate.
        verdicts = verdicts[..prepared.Length];
        adjusted = adjusted[..prepared.Length];
        costs = costs[..prepared.Length];
        followUps = followUps[..prepared.Length];
        int noted = 0;
        for (int i = 0; i < prepared.Length; i++)
        {
            ref readonly CandidateTerms candidate = ref prepared[i];
            TargetState state = candidate.State;

            // Filters before scoring: each test, mapped through its filter's own verdict (worst wins).
            // The liveness verdict was worked out with the view; only the snapshot's age is live.
            byte verdict = inputs.NowUtcTicks > candidate.StaleAfterUtcTicks ? candidate.StaleVerdict : candidate.FreshVerdict;
            if (ContextLengthFilter.ExceedsLimit(candidate.ContextLimit, inputs.Tokens))
            {
                verdict = Math.Max(verdict, inputs.ContextExceeded);
            }

            if (state.IsEjected(inputs.Stamp))
            {
                verdict = Math.Max(verdict, inputs.Ejected);
            }

            verdicts[i] = verdict;
            if (verdict != Verdict.HardRejected)
            {
                // A local node has no link (its network term is zero whatever the sample). The
                // node's snapshot was seen when the view was prepared (TargetState.See).
                BandwidthEstimator.Sample link = candidate.Link?.Current ?? inputs.Prior;
                ref CostBreakdown cost = ref costs[i];
                adjusted[i] = DefaultCostScorer.PriceNode(out cost, in candidate.Target, in inputs.Request, link.SecondsPerBit, link.Samples, state.PlacedSinceSeen, state.DecodeSecondsPerToken, inputs.NowUtcTicks);
                if (state.RaisedByOutcomes || cost.Exclusion != CostExclusion.None || inputs.SpendCaps is not null)
                {
                    followUps[noted++] = i;
                }
            }
        }

        for (int k = 0; k < noted; k++)
        {
            int i = followUps[k];
            ref readonly CostBreakdown cost = ref costs[i];
            TargetState state = prepared[i].State;

            // The expected cost of retries (a target that never failed has none).
            if (state.HasFailures)
            {
                adjusted[i] = WithRetries(in cost, state, inputs.Stamp, inputs.FailureMemoryTicks, inputs.FailureCostSeconds);
            }

            // The latency beyond its predictions that a slowed target showed (docs/routing.md, "Slowdown detection").
            adjusted[i] += inputs.Slowdown.ExtraDollars(state, in cost, inputs.Stamp);

            // Filters after scoring.
            if (cost.Exclusion != CostExclusion.None || inputs.SpendCaps is not null)
            {
                verdicts[i] = Math.Max(verdicts[i], PostScoreVerdict(inputs.Plan, inputs.SpendCaps, in cost));
            }
        }
    }

    /// <summary>The adjusted total of a priced candidate whose target has failed before.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double WithRetries(in CostBreakdown cost, TargetState state, long stamp, double memoryTicks, double failureCostSeconds) =>
        AdjustedTotal(in cost, Math.Min(MaxFailureRate, state.FailureRateAt(stamp, memoryTicks)), failureCostSeconds);

    /// <summary>The verdict of the filters after scoring (cost constraints, spend caps) on a priced candidate.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte PostScoreVerdict(FilterPlan plan, SpendCapFilter? spendCaps, in CostBreakdown cost)
    {
        byte verdict = plan.Exclusion(cost.Exclusion);
        return spendCaps is not null && spendCaps.Exceeds(in cost) ? Math.Max(verdict, plan.OverSpendCap) : verdict;
    }

    /// <summary>
    /// The API endpoints of the requested model: the built-in filters' tests, and the built-in
    /// scorer's endpoint pricing over terms prepared per endpoint list (their prices), options and
    /// bandwidth entries; the same arithmetic as <see cref="DefaultCostScorer.Score"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EvaluateEndpointsFast(RouteScratch scratch, EndpointList endpoints, FilterPlan plan, DefaultCostScorer fast, SpendCapFilter? spendCaps, RequestProfile request, RouterSettings settings, DateTimeOffset now, long stamp)
    {
        byte[] verdicts = scratch.Verdicts;
        double[] adjusted = scratch.Adjusted;
        CostBreakdown[] costs = scratch.Costs;
        EndpointTerms terms = endpoints.Terms(fast);
        var r = new RequestTerms(request, terms.Options, requesterLink: DefaultCostScorer.RequesterLinkOf(scratch.Requester, now, terms.Options));
        long tokens = ContextLengthFilter.Tokens(request);
        for (int e = 0; e < endpoints.Endpoints.Length; e++)
        {
            ApiEndpoint endpoint = endpoints.Endpoints[e];
            if (!string.Equals(endpoint.Model, request.Model, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            TargetState state = endpoints.States[e];
            int i = scratch.Count;
            scratch.AddEntry(null, endpoint, state, endpoints.Models[e], 0, endpoints.Prices[e]);
            byte verdict = ContextLengthFilter.Exceeds(endpoints.Models[e].ContextTokens, tokens) ? plan.ContextExceeded : Verdict.Eligible;
            if (state.IsEjected(stamp))
            {
                verdict = Math.Max(verdict, plan.Ejected);
            }

            if (verdict != Verdict.HardRejected)
            {
                ref CostBreakdown cost = ref costs[i];
                (double secondsPerBit, int samples) = fast.Bandwidth.Link(terms.Links[e]);
                cost = DefaultCostScorer.PriceEndpoint(in terms.Models[e], in r, terms.Options, false, 0, endpoint.RttSeconds, secondsPerBit, samples, state.DecodeSecondsPerToken, endpoints.Prices[e]);
                verdict = Math.Max(verdict, plan.Exclusion(cost.Exclusion));
                if (spendCaps is not null && spendCaps.Exceeds(in cost))
                {
                    verdict = Math.Max(verdict, plan.OverSpendCap);
                }

                adjusted[i] = AdjustedTotal(in cost, FailureRate(state, stamp, settings), settings.FailureCostSeconds) + settings.Slowdown.ExtraDollars(state, in cost, stamp);
            }

            verdicts[i] = verdict;
        }
    }

    private static void AddEndpoints(RouteScratch scratch, EndpointList endpoints, RequestProfile request)
    {
        for (int e = 0; e < endpoints.Endpoints.Length; e++)
        {
            ApiEndpoint endpoint = endpoints.Endpoints[e];
            if (string.Equals(endpoint.Model, request.Model, StringComparison.OrdinalIgnoreCase))
            {
                scratch.AddEntry(null, endpoint, endpoints.States[e], endpoints.Models[e], 0, endpoints.Prices[e]);
            }
        }
    }

    /// <summary>What <see cref="PriceNodes"/> reads besides the candidates: the same for every candidate of one decision.</summary>
    private readonly struct NodeInputs(in RequestTerms request, FilterPlan plan, SpendCapFilter? spendCaps, BandwidthEstimator.Sample prior, long nowUtcTicks, long tokens, long stamp, double failureMemoryTicks, double failureCostSeconds, Slowdown slowdown)
    {
        public readonly RequestTerms Request = request;
        public readonly FilterPlan Plan = plan;
        public readonly SpendCapFilter? SpendCaps = spendCaps;
        public readonly BandwidthEstimator.Sample Prior = prior;
        public readonly long NowUtcTicks = nowUtcTicks;
        public readonly long Tokens = tokens;
        public readonly long Stamp = stamp;
        public readonly double FailureMemoryTicks = failureMemoryTicks;
        public readonly double FailureCostSeconds = failureCostSeconds;
        public readonly Slowdown Slowdown = slowdown;
        public readonly byte ContextExceeded = plan.ContextExceeded;
        public readonly byte Ejected = plan.Ejected;
    }
}
