using System.Runtime.CompilerServices;
using CostModel.Budgets;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CostModel.Routing;

/// <summary>
/// candidates -> filters -> scorer -> picker. Candidates are mesh nodes serving the model
/// (directly or through relays) and configured API endpoints; cheap filters run before scoring,
/// cost-based ones after; if only soft filters rejected everything, every candidate that passed the
/// hard ones is considered (panic). The picker keeps an affinity key's incumbent within the
/// hysteresis band, otherwise picks the cheapest, choosing among near-equals by power of two
/// choices on in-flight work. Two ways to the same decision: the full path (every filter through
/// its interface, the scorer's <see cref="ICostScorer.Score"/> per candidate), taken with an
/// explanation, a custom filter or a custom scorer; and the fast path (the built-in filters' tests
/// called directly, the built-in scorer's per-candidate pricing over node terms prepared once per
/// snapshot). See <c>docs/routing.md</c>, "Fast path".
/// <para>
/// What it remembers per target (in-flight work, learned speed, failures, ejection) is kept only
/// while the target is listed: a node that leaves the view (a <see cref="MeshChangeKind.Removed"/>
/// change, or a view snapshot that no longer lists it) or an endpoint dropped from the options is
/// forgotten, with the affinity entries that pointed at it; its leases in flight still complete
/// and release cleanly, and a node that comes back starts fresh. The state table is thus bounded
/// by the view's own bound (see <see cref="MaxTargetStates"/>).
/// </para>
/// </summary>
internal sealed class DefaultRouter : IRouter, IDisposable
{
    // A node failing more than this share of requests still gets a finite expected cost.
    private const double MaxFailureRate = 0.9;

    // Decode speed is learned only from the part of the latency not predicted as network and prefill;
    // at least this share of the latency is attributed to decode.
    private const double MinDecodeShareOfLatency = 0.05;

    /// <summary>
    /// 1,048,576 targets remembered at most: the state table holds the nodes of the current view and
    /// the configured endpoints, so the view's own cap bounds it (<see cref="MeshView.MaxNodes"/>, 4,096
    /// by default; <c>Gossip:MaxNodes</c> is at most 1,000,000). This ceiling is for a host's own
    /// <see cref="IMeshView"/> that lists more: its further nodes are routed with a state kept only for
    /// that view (what they learn is lost when the view changes), counted as the bound <c>target-states</c>.
    /// </summary>
    internal const int MaxTargetStates = 1 << 20;

    [ThreadStatic]
    private static Scratch? t_scratch;

    private readonly IMeshView _view;
    private readonly ICostScorer _scorer;

    // Set when the scorer is the built-in one: the fast path prices with its prepared node terms.
    private readonly DefaultCostScorer? _defaultScorer;
    private readonly IPriceCatalog _prices;
    private readonly SpendTracker _spend;
    private readonly IRouteFilter[] _allFilters;
    private readonly TimeProvider _time;
    private readonly CostModelMetrics _metrics;
    private readonly IRandomSource _random;
    private readonly HerdSpread _herd;
    private readonly LeaseTable _leases;
    private readonly AffinityTable _affinity = new();

    // One state per listed target (nodes of the current view, configured endpoints); see the class remarks.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TargetState> _states = new(StringComparer.Ordinal);
    private readonly SafePublisher<RouteDecision> _decisions;
    private readonly IDisposable? _subscription;
    private readonly IDisposable _removals;
    private readonly Lock _cacheGate = new();

    // The endpoints' states as last configured (under _cacheGate): those of an endpoint dropped from the options are forgotten.
    private TargetState[] _endpointStates = [];

    private volatile Settings _settings;
    private volatile ViewCache _viewCache = ViewCache.Empty;
    private volatile EndpointCache _endpointCache = EndpointCache.Empty;
    private long _nextSweep;

    public DefaultRouter(
        IMeshView view,
        ICostScorer scorer,
        IPriceCatalog prices,
        SpendTracker spend,
        IEnumerable<IRouteFilter> filters,
        IOptionsMonitor<RoutingOptions> options,
        TimeProvider time,
        CostModelMetrics metrics,
        IRandomSource random,
        ILogger<DefaultRouter>? logger = null)
    {
        _view = view;
        _scorer = scorer;
        _defaultScorer = scorer as DefaultCostScorer;
        _prices = prices;
        _spend = spend;
        _allFilters = [.. filters];
        _time = time;
        _metrics = metrics;
        _random = random;
        _leases = new LeaseTable(RoutingDefaults.MaxLeases, OnReleased);
        _herd = new HerdSpread(time);
        _settings = BuildSettings(options.CurrentValue);
        _subscription = options.OnChange(o =>
        {
            _settings = BuildSettings(o);
            _endpointCache = EndpointCache.Empty;
        });
        _nextSweep = time.GetTimestamp();
        _decisions = new SafePublisher<RouteDecision>("router.decisions", metrics, logger);
        metrics.ObserveRouter(() => _leases.Active, () => _affinity.Count, () => _states.Count);
        // The library's own view says who leaves without an event per update; a host's view is
        // followed through its change stream (and, whatever it says, through its snapshots).
        _removals = view is MeshView own
            ? own.ListenForRemovals(OnRemoved)
            : view.Changes.Subscribe(new RemovalObserver(this));
    }

    public IObservable<RouteDecision> Decisions => _decisions;

    public int ActiveLeases => _leases.Active;

    internal int AffinityKeys => _affinity.Count;

    public int InFlight(string targetId)
    {
        ArgumentNullException.ThrowIfNull(targetId);
        return _states.TryGetValue(targetId, out TargetState? s) ? s.InFlight : 0;
    }

    /// <summary>The targets whose state is remembered.</summary>
    internal int TargetStates => _states.Count;

    /// <summary>True when the target's state is remembered.</summary>
    internal bool Remembers(string targetId) => _states.ContainsKey(targetId);

    /// <summary>True when a decision without an explanation takes the fast path (built-in scorer and filters only).</summary>
    internal bool FastPathEnabled => _defaultScorer is not null && _settings.Fast is not null;

    public void Dispose()
    {
        _subscription?.Dispose();
        _removals.Dispose();
        _decisions.Dispose();
    }

    public RouteDecision Route(RequestProfile request, RouteExplanation? explanation = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.CachedPromptTokens > request.InputTokens)
        {
            throw new ArgumentException($"CachedPromptTokens ({request.CachedPromptTokens}) exceeds InputTokens ({request.InputTokens}): the cached tokens are part of the prompt.", nameof(request));
        }

        Settings settings = _settings;
        DateTimeOffset now = _time.GetUtcNow();
        long stamp = _time.GetTimestamp();
        _herd.Arrived();
        if (stamp >= Volatile.Read(ref _nextSweep))
        {
            Sweep(stamp, settings);
        }

        explanation?.Reset(request);
        Scratch scratch = t_scratch ??= new Scratch();
        scratch.Clear();
        ViewCache view = CurrentView();
        EndpointCache endpoints = CurrentEndpoints(settings);
        if (explanation is null && settings.Fast is { } fast && _defaultScorer is { } scorer)
        {
            EvaluateFast(scratch, view, endpoints, fast, scorer, request, settings, now, stamp);
        }
        else
        {
            EvaluateFull(scratch, view, endpoints, settings, request, now, stamp);
        }

        // The affinity key's incumbent, looked up once: its cache is credited, then the picker weighs it.
        string? incumbentId = request.AffinityKey is { } key ? _affinity.Get(key, stamp, settings.AffinityTtlTicks) : null;
        if (incumbentId is not null && request.CachedPromptTokens > 0)
        {
            CreditPromptCache(scratch, request, incumbentId, settings, now, stamp);
        }

        return Decide(scratch, request, incumbentId, explanation, settings, stamp);
    }

    /// <summary>
    /// The affinity key's incumbent holds the conversation's earlier turns in its KV cache: it is
    /// priced again for prefilling only the rest (every other candidate prefills the whole prompt).
    /// One candidate, through the configured scorer, on either path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CreditPromptCache(Scratch scratch, RequestProfile request, string incumbentId, Settings settings, DateTimeOffset now, long stamp)
    {
        for (int i = 0; i < scratch.Count; i++)
        {
            if (scratch.Verdicts[i] != HardRejected && !scratch.IsEndpointAt(i) && string.Equals(scratch.StateAt(i).TargetId, incumbentId, StringComparison.Ordinal))
            {
                CostBreakdown cost = _scorer.Score(scratch.CostCandidateAt(i) with { HoldsPromptCache = true }, request, now);
                scratch.Costs[i] = cost;
                scratch.Adjusted[i] = AdjustedTotal(in cost, FailureRate(scratch.StateAt(i), stamp, settings));
                return;
            }
        }
    }

    /// <summary>The picker and what follows it, the same for both paths: panic, the cheapest, affinity and spread, the lease, the explanation, the stream.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private RouteDecision Decide(Scratch scratch, RequestProfile request, string? incumbentId, RouteExplanation? explanation, Settings settings, long stamp)
    {
        int count = scratch.Count;
        ReadOnlySpan<byte> verdicts = scratch.Verdicts.AsSpan(0, count);
        int eligible = verdicts.Count(Eligible);
        RouteNotes flags = RouteNotes.None;
        bool panic = eligible == 0 && verdicts.Contains(SoftRejected);
        if (panic)
        {
            flags |= RouteNotes.Panic;
            _metrics.RoutePanic();
        }

        // The cheapest eligible (or, in panic, soft-rejected) candidate, the first of equals, and
        // those that may be its near-equals.
        byte admit = panic ? SoftRejected : Eligible;
        RoutingOptions o = settings.Options;
        int best = PickerScan.Scan(verdicts, scratch.Adjusted, admit, o.SpreadTolerance, o.HysteresisEpsilonDollars, scratch.Near, out scratch.MaybeNear);

        int chosen = best >= 0 ? Pick(scratch, best, admit, incumbentId, settings, ref flags) : -1;
        if (chosen < 0)
        {
            flags |= RouteNotes.NoRoute;
            _metrics.NoRoute();
            return Publish(scratch, explanation, new RouteDecision { Flags = flags, CandidateCount = count, FilteredCount = count }, incumbentId);
        }

        return Publish(scratch, explanation, Place(scratch, chosen, request, settings, stamp, flags, count - eligible, incumbentId), incumbentId);
    }

    /// <summary>Fills the explanation, clears the scratch and streams the decision.</summary>
    private RouteDecision Publish(Scratch scratch, RouteExplanation? explanation, in RouteDecision decision, string? incumbentId)
    {
        if (explanation is not null)
        {
            Explain(scratch, explanation, decision.TargetId, decision.Flags, incumbentId);
        }

        scratch.Clear();

        // Serialised with other routing threads' decisions; a subscriber's exception is caught there,
        // so the lease taken above reaches the caller, who releases it.
        if (_decisions.HasObservers)
        {
            _decisions.Publish(decision);
        }

        return decision;
    }

    /// <summary>Places the request on the chosen candidate: its lease and the affinity key.</summary>
    private RouteDecision Place(Scratch scratch, int chosen, RequestProfile request, Settings settings, long stamp, RouteNotes flags, int filtered, string? incumbentId)
    {
        ref readonly CostBreakdown cost = ref scratch.Costs[chosen];
        TargetState state = scratch.StateAt(chosen);
        int prefillTokens = string.Equals(state.TargetId, incumbentId, StringComparison.Ordinal) && !scratch.IsEndpointAt(chosen)
            ? request.InputTokens - request.CachedPromptTokens
            : request.InputTokens;
        double prefillSeconds = prefillTokens / Math.Max(scratch.ModelAt(chosen).PrefillTokensPerSecond ?? ScoringDefaults.PrefillTokensPerSecondPrior, 1e-9);
        var info = new LeaseInfo(
            stamp + (long)(settings.Options.LeaseTimeout.TotalSeconds * _time.TimestampFrequency),
            cost.NetworkLatencySeconds + prefillSeconds,
            cost.ApiDollars,
            cost.EnergyDollars + cost.NetworkDollars);
        if (!_leases.TryAcquire(state, in info, out RouteLease lease))
        {
            _metrics.BoundExceeded("leases");
        }

        if (request.AffinityKey is { } key && !_affinity.Set(key, state, stamp, settings.AffinityTtlTicks, settings.Options.MaxAffinityKeys))
        {
            _metrics.BoundExceeded("affinity-keys");
        }

        _metrics.Decision(state.TargetId, flags);
        return new RouteDecision
        {
            TargetId = state.TargetId,
            IsApiEndpoint = scratch.IsEndpointAt(chosen),
            Cost = cost,
            Lease = lease,
            Flags = flags,
            CandidateCount = scratch.Count,
            FilteredCount = filtered,
        };
    }

    private static void Explain(Scratch scratch, RouteExplanation explanation, string? chosen, RouteNotes flags, string? incumbentId)
    {
        for (int i = 0; i < scratch.Count; i++)
        {
            ref Entry entry = ref scratch.Entries[i];
            explanation.Add(new CandidateExplanation(entry.State.TargetId, scratch.Costs[i], scratch.Adjusted[i], entry.FailureRate, entry.RejectedBy, entry.Soft, entry.Reason));
        }

        explanation.Finish(chosen, flags, incumbentId);
    }

    /// <summary>
    /// The complete path: every candidate through every configured filter (by interface) and the
    /// configured scorer. Used with an explanation, a custom filter or a custom scorer; the reference the fast path must match.
    /// </summary>
    private void EvaluateFull(Scratch scratch, ViewCache view, EndpointCache endpoints, Settings settings, RequestProfile request, DateTimeOffset now, long stamp)
    {
        // Candidates.
        for (int n = 0; n < view.Nodes.Count; n++)
        {
            foreach (Offer offer in view.Offers[n])
            {
                if (string.Equals(offer.Model.ModelId, request.Model, StringComparison.OrdinalIgnoreCase))
                {
                    scratch.AddEntry(view.Nodes[n], null, view.States[n], offer.Model, offer.Hops, null);
                }
            }
        }

        AddEndpoints(scratch, endpoints, request);

        // Filters and scores.
        for (int i = 0; i < scratch.Count; i++)
        {
            ref Entry entry = ref scratch.Entries[i];
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
                cost = _scorer.Score(CostCandidateOf(in entry), request, now);
                candidate = candidate with { Cost = cost };
                Reject(ref entry, settings.PostScore, in candidate, request, now);
                entry.FailureRate = FailureRate(entry.State, stamp, settings);
                adjusted = AdjustedTotal(in cost, entry.FailureRate);
            }

            scratch.Costs[i] = cost;
            scratch.Adjusted[i] = adjusted;
            scratch.Verdicts[i] = entry.RejectedBy is null ? Eligible : entry.Soft ? SoftRejected : HardRejected;
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
    private void EvaluateFast(Scratch scratch, ViewCache view, EndpointCache endpoints, FastPlan plan, DefaultCostScorer scorer, RequestProfile request, Settings settings, DateTimeOffset now, long stamp)
    {
        TimeSpan maxSnapshotAge = plan.Liveness?.MaxSnapshotAge ?? TimeSpan.MaxValue;
        PreparedTerms candidateTerms = CurrentTerms(view, scorer, plan, maxSnapshotAge.Ticks, now);
        ScoringOptions o = candidateTerms.Options;
        var r = new RequestTerms(request, o);
        BandwidthEstimator bandwidth = scorer.Bandwidth;
        SpendCapFilter? spendCaps = plan.SpendCaps is { } caps && caps.Active ? caps : null;
        ModelGroup group = scratch.GroupOf(view, request.Model);
        Slot[] slots = group.Slots;
        int count = slots.Length;
        scratch.UseSlots(slots, endpoints.Endpoints.Length);
        ReadOnlySpan<CandidateTerms> prepared = candidateTerms.Candidates.AsSpan(group.Start, count);

        var inputs = new NodeInputs(r, plan, spendCaps, bandwidth.Prior, now.UtcTicks, ContextLengthFilter.Tokens(request), stamp, settings.FailureMemoryTicks);
        PriceNodes(prepared, in inputs, scratch.Verdicts.AsSpan(0, count), scratch.Adjusted.AsSpan(0, count), scratch.Costs.AsSpan(0, count), scratch.FollowUps.AsSpan(0, count));

        // API endpoints are few: the full scorer prices them, and they keep an entry each (liveness passes them).
        if (endpoints.Endpoints.Length > 0)
        {
            EvaluateEndpointsFast(scratch, endpoints, plan, scorer, spendCaps, request, settings, now, stamp);
        }
    }

    /// <summary>
    /// The fast path's loop over the mesh nodes of the requested model: filters, pricing and the
    /// adjusted total of each, with only what it reads in <paramref name="inputs"/>. The loop makes
    /// no call: a candidate that needs one (its target failed before, so its retries are priced in;
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
            if (verdict != HardRejected)
            {
                // A local node has no link (its network term is zero whatever the sample). The
                // node's snapshot was seen when the view was prepared (TargetState.See).
                BandwidthEstimator.Sample link = candidate.Link?.Current ?? inputs.Prior;
                ref CostBreakdown cost = ref costs[i];
                adjusted[i] = DefaultCostScorer.PriceNode(out cost, in candidate.Target, in inputs.Request, link.SecondsPerBit, link.Samples, state.PlacedSinceSeen, state.DecodeSecondsPerToken, inputs.NowUtcTicks);
                if (state.HasFailures || cost.Exclusion != CostExclusion.None || inputs.SpendCaps is not null)
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
                adjusted[i] = WithRetries(in cost, state, inputs.Stamp, inputs.FailureMemoryTicks);
            }

            // Filters after scoring.
            if (cost.Exclusion != CostExclusion.None || inputs.SpendCaps is not null)
            {
                verdicts[i] = Math.Max(verdicts[i], PostScoreVerdict(inputs.Plan, inputs.SpendCaps, in cost));
            }
        }
    }

    /// <summary>The adjusted total of a priced candidate whose target has failed before.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double WithRetries(in CostBreakdown cost, TargetState state, long stamp, double memoryTicks) =>
        AdjustedTotal(in cost, Math.Min(MaxFailureRate, state.FailureRateAt(stamp, memoryTicks)));

    /// <summary>The verdict of the filters after scoring (cost constraints, spend caps) on a priced candidate.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte PostScoreVerdict(FastPlan plan, SpendCapFilter? spendCaps, in CostBreakdown cost)
    {
        byte verdict = plan.Exclusion(cost.Exclusion);
        return spendCaps is not null && spendCaps.Exceeds(in cost) ? Math.Max(verdict, plan.OverSpendCap) : verdict;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EvaluateEndpointsFast(Scratch scratch, EndpointCache endpoints, FastPlan plan, DefaultCostScorer scorer, SpendCapFilter? spendCaps, RequestProfile request, Settings settings, DateTimeOffset now, long stamp)
    {
        byte[] verdicts = scratch.Verdicts;
        double[] adjusted = scratch.Adjusted;
        CostBreakdown[] costs = scratch.Costs;
        int first = scratch.Count;
        AddEndpoints(scratch, endpoints, request);
        for (int i = first; i < scratch.Count; i++)
        {
            ref Entry entry = ref scratch.Entries[i];
            byte verdict = ContextLengthFilter.Exceeds(entry.Model.ContextTokens, ContextLengthFilter.Tokens(request)) ? plan.ContextExceeded : Eligible;
            if (entry.State.IsEjected(stamp))
            {
                verdict = Math.Max(verdict, plan.Ejected);
            }

            if (verdict != HardRejected)
            {
                ref CostBreakdown cost = ref costs[i];
                cost = scorer.Score(CostCandidateOf(in entry), request, now);
                verdict = Math.Max(verdict, plan.Exclusion(cost.Exclusion));
                if (spendCaps is not null && spendCaps.Exceeds(in cost))
                {
                    verdict = Math.Max(verdict, plan.OverSpendCap);
                }

                adjusted[i] = AdjustedTotal(in cost, FailureRate(entry.State, stamp, settings));
            }

            verdicts[i] = verdict;
        }
    }

    private static void AddEndpoints(Scratch scratch, EndpointCache endpoints, RequestProfile request)
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

    /// <summary>What the scorer sees of a candidate (full path and endpoints).</summary>
    private static CostCandidate CostCandidateOf(in Entry entry) => CostCandidateOf(entry.Node, entry.Endpoint, entry.State, entry.Model, entry.Hops, entry.Price);

    private static CostCandidate CostCandidateOf(MeshNode? node, ApiEndpoint? endpoint, TargetState state, ServedModel model, int hops, TokenPrice? price)
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

    private static double FailureRate(TargetState state, long stamp, Settings settings) =>
        Math.Min(MaxFailureRate, state.FailureRateAt(stamp, settings.FailureMemoryTicks));

    /// <summary>The total the picker compares: the cost plus the expected cost of retries at the target's recent failure rate.</summary>
    private static double AdjustedTotal(in CostBreakdown cost, double failure)
    {
        double total = cost.TotalDollars;
        return failure > 0 ? total + ((total - cost.QualityDollars) * failure / (1 - failure)) : total;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Pick(Scratch scratch, int best, byte admit, string? incumbentId, Settings settings, ref RouteNotes flags)
    {
        RoutingOptions o = settings.Options;
        byte[] verdicts = scratch.Verdicts;
        double[] adjusted = scratch.Adjusted;
        double cheapest = adjusted[best];
        if (incumbentId is not null)
        {
            int incumbent = -1;
            for (int i = 0; i < scratch.Count; i++)
            {
                if (verdicts[i] <= admit && string.Equals(scratch.StateAt(i).TargetId, incumbentId, StringComparison.Ordinal))
                {
                    incumbent = i;
                    break;
                }
            }

            if (incumbent < 0)
            {
                flags |= RouteNotes.StickinessBroken;
                _metrics.AffinityBroken();
            }
            else if (incumbent == best)
            {
                return best;
            }
            else
            {
                double held = adjusted[incumbent];
                if (cheapest < (held * (1 - o.HysteresisBand)) - o.HysteresisEpsilonDollars)
                {
                    flags |= RouteNotes.Switched;
                    _metrics.AffinitySwitched();
                    return best;
                }

                // Within the band, but the incumbent costs more than the bound allows (a long request).
                double penalty = held - cheapest;
                if (penalty > o.AffinityBreakPenaltySeconds * scratch.Costs[incumbent].ValueOfTimeDollarsPerSecond)
                {
                    flags |= RouteNotes.StickinessBroken;
                    _metrics.AffinityBroken();
                    return best;
                }

                flags |= RouteNotes.StickyKept;
                return incumbent;
            }
        }

        // A burst the others may be placing too: drawn from its cheapest spread (HerdSpread).
        int herd = HerdSpread.Draw(verdicts.AsSpan(0, scratch.Count), adjusted, scratch.Costs, admit, best, _herd.ExpectedHerd(scratch.Count), _random, scratch.Near, out int rival, out double share, out double rivalShare);
        if (herd >= 0)
        {
            flags |= RouteNotes.RandomTieBreak;
            return HerdSpread.KeepFirst(scratch.StateAt(herd).InFlight, share, scratch.StateAt(rival).InFlight, rivalShare) ? herd : rival;
        }

        // Near-equals: within the tolerance of the cheapest; power of two choices on in-flight work.
        int[] nearby = scratch.Near;
        int near = PickerScan.Near(verdicts.AsSpan(0, scratch.Count), adjusted, admit, cheapest, o.SpreadTolerance, o.HysteresisEpsilonDollars, nearby, scratch.MaybeNear);

        if (near <= 1)
        {
            return best;
        }

        flags |= RouteNotes.RandomTieBreak;
        int a = nearby[_random.NextInt(near)];
        int b = nearby[_random.NextInt(near - 1)];
        if (b == a)
        {
            b = nearby[near - 1];
        }

        int inFlightA = scratch.StateAt(a).InFlight;
        int inFlightB = scratch.StateAt(b).InFlight;
        return inFlightA != inFlightB ? (inFlightA < inFlightB ? a : b) : (adjusted[a] <= adjusted[b] ? a : b);
    }

    private static void Reject(ref Entry entry, IRouteFilter[] filters, in RouteCandidate candidate, RequestProfile request, DateTimeOffset now)
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

    private void OnReleased(TargetState target, LeaseInfo info, RouteOutcome? outcome)
    {
        if (outcome is not { } o)
        {
            return;
        }

        Settings settings = _settings;
        long stamp = _time.GetTimestamp();
        double decode = 0;
        if (o.Succeeded && o.OutputTokens > 0 && o.LatencySeconds > 0)
        {
            double decodeSeconds = Math.Max(o.LatencySeconds - info.OverheadSeconds, o.LatencySeconds * MinDecodeShareOfLatency);
            decode = o.OutputTokens / decodeSeconds;
        }

        if (o.Succeeded && (info.ApiDollars > 0 || info.OtherMoneyDollars > 0))
        {
            _spend.Record(new CostBreakdown { ApiDollars = info.ApiDollars, EnergyDollars = info.OtherMoneyDollars });
        }

        // The money was spent, but a target that left has nothing more to learn (and is not ejected).
        if (target.IsForgotten)
        {
            return;
        }

        if (target.Learn(in o, decode, stamp, settings.OutcomeDecayTicks, settings.FailureMemoryTicks, settings.Options.EjectionConsecutiveFailures))
        {
            TryEject(target, stamp, settings);
        }
    }

    private void TryEject(TargetState target, long stamp, Settings settings)
    {
        int total = _states.Count;
        int ejected = 0;
        foreach (TargetState state in _states.Values)
        {
            if (state.IsEjected(stamp))
            {
                ejected++;
            }
        }

        int allowed = Math.Max(1, (int)Math.Floor(total * settings.Options.MaxEjectedShare));
        if (ejected >= allowed || ejected >= total - 1)
        {
            _metrics.EjectionRefused();
            return;
        }

        long duration = (long)(settings.Options.EjectionBaseTime.TotalSeconds * (target.TimesEjected + 1) * _time.TimestampFrequency);
        target.Eject(stamp + duration);
        _metrics.Ejected(target.TargetId);
    }

    private void Sweep(long stamp, Settings settings)
    {
        Volatile.Write(ref _nextSweep, stamp + settings.SweepIntervalTicks);
        int expired = _leases.Expire(stamp);
        if (expired > 0)
        {
            _metrics.LeasesExpired(expired);
        }

        // Affinity entries of targets that left, and those past their time to live (otherwise only purged when the table is full).
        _affinity.Purge(stamp, settings.AffinityTtlTicks);
    }

    /// <summary>Forgets a node that left the view, unless an endpoint of the same id is configured (they share the state).</summary>
    private void OnRemoved(string nodeId)
    {
        if (!IsConfiguredEndpoint(nodeId) && _states.TryRemove(nodeId, out TargetState? state))
        {
            state.Forget();
        }
    }

    /// <summary>
    /// Forgets <paramref name="state"/>: out of the table if it is still there (a node that comes back
    /// gets a new state), and marked, so its leases learn nothing and affinity entries on it are purged.
    /// </summary>
    private void Forget(TargetState state)
    {
        _states.TryRemove(new KeyValuePair<string, TargetState>(state.TargetId, state));
        state.Forget();
    }

    private bool IsConfiguredEndpoint(string targetId)
    {
        foreach (ApiEndpoint endpoint in _settings.Options.ApiEndpoints)
        {
            if (string.Equals(endpoint.Id, targetId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Marks the states <paramref name="next"/> lists and forgets those <paramref name="previous"/>
    /// listed that it does not (under the cache lock). Every remembered node state is in the current
    /// view cache, so this keeps the table to the view: O(both views), no lookup by id.
    /// </summary>
    private void ForgetUnlisted(ViewCache previous, ViewCache next)
    {
        foreach (TargetState state in next.States)
        {
            state.ListedInView = next.Id;
        }

        foreach (TargetState state in previous.States)
        {
            if (state.ListedInView != next.Id && !IsConfiguredEndpoint(state.TargetId))
            {
                Forget(state);
            }
        }
    }

    /// <summary>The state of a node of a view being built (under the cache lock); beyond <see cref="MaxTargetStates"/>, one kept only by that view.</summary>
    private TargetState NodeState(string nodeId, int index) =>
        index < MaxTargetStates ? _states.GetOrAdd(nodeId, static id => new TargetState(id)) : new TargetState(nodeId);

    private ViewCache CurrentView()
    {
        IReadOnlyList<MeshNode> nodes = _view.Nodes;
        ViewCache cache = _viewCache;
        if (ReferenceEquals(cache.Nodes, nodes))
        {
            return cache;
        }

        lock (_cacheGate)
        {
            cache = _viewCache;
            if (ReferenceEquals(cache.Nodes, nodes))
            {
                return cache;
            }

            if (nodes.Count > MaxTargetStates)
            {
                _metrics.BoundExceeded("target-states");
            }

            var states = new TargetState[nodes.Count];
            var offers = new Offer[nodes.Count][];
            var groups = new Dictionary<string, List<Slot>>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < nodes.Count; i++)
            {
                MeshNode node = nodes[i];
                states[i] = NodeState(node.NodeId, i);
                var list = new List<Offer>(node.Capabilities.Models.Length + node.Capabilities.Relays.Length);
                foreach (ServedModel model in node.Capabilities.Models)
                {
                    list.Add(new Offer(model, 0));
                }

                foreach (RelayRoute relay in node.Capabilities.Relays)
                {
                    list.Add(new Offer(new ServedModel(relay.ModelId), relay.HopCount));
                }

                offers[i] = [.. list];

                // The per-model index keeps the full path's order: nodes in view order, each node's offers in order.
                foreach (Offer offer in offers[i])
                {
                    if (!groups.TryGetValue(offer.Model.ModelId, out List<Slot>? group))
                    {
                        group = [];
                        groups.Add(offer.Model.ModelId, group);
                    }

                    group.Add(new Slot(i, node, states[i], offer.Model, offer.Hops));
                }
            }

            // Each model's candidates take consecutive places in the prepared terms.
            var indexed = new Dictionary<string, ModelGroup>(StringComparer.OrdinalIgnoreCase);
            var listed = new List<ModelGroup>();
            var all = new List<Slot>();
            foreach ((string model, List<Slot> slots) in groups)
            {
                var group = new ModelGroup(listed.Count, all.Count, [.. slots]);
                indexed.Add(model, group);
                listed.Add(group);
                all.AddRange(slots);
            }

            ViewCache previous = _viewCache;
            cache = new ViewCache(nodes, states, offers, [.. all], indexed, [.. listed]);
            ForgetUnlisted(previous, cache);
            _viewCache = cache;
            return cache;
        }
    }

    /// <summary>
    /// The view's prepared terms, valid now: prepared again when a reading they used has turned
    /// stale (or the clock went back), the scoring options changed, a node's bandwidth entry
    /// appeared or went, or the routing options changed (the filters' verdicts, the maximum
    /// snapshot age). A node whose snapshot, options and validity are unchanged keeps its terms.
    /// </summary>
    private PreparedTerms CurrentTerms(ViewCache view, DefaultCostScorer scorer, FastPlan plan, long maxSnapshotAgeTicks, DateTimeOffset now)
    {
        PreparedTerms? prepared = view.Prepared;
        return prepared is not null && prepared.HoldsFor(scorer, plan, maxSnapshotAgeTicks, now.UtcTicks) ? prepared : PrepareTerms(view, scorer, plan, maxSnapshotAgeTicks, now);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private PreparedTerms PrepareTerms(ViewCache view, DefaultCostScorer scorer, FastPlan plan, long maxSnapshotAgeTicks, DateTimeOffset now)
    {
        long ticks = now.UtcTicks;
        lock (_cacheGate)
        {
            PreparedTerms? prepared = view.Prepared;
            if (prepared is not null && prepared.HoldsFor(scorer, plan, maxSnapshotAgeTicks, ticks))
            {
                return prepared;
            }

            // Membership first: an entry added after this read bumps it and the terms are prepared again.
            ScoringOptions o = scorer.Options;
            long membership = scorer.Bandwidth.Membership;
            int count = view.Nodes.Count;
            var terms = new NodeTerms[count];
            var links = new BandwidthEstimator.Entry?[count];
            long from = long.MinValue;
            long until = long.MaxValue;
            for (int i = 0; i < count; i++)
            {
                MeshNode node = view.Nodes[i];
                view.States[i].See(node.Factors.Generation, node.Factors.Version);
                terms[i] = view.States[i].Prepare(node.Factors, o, now, out long preparedAt, out long preparedUntil);
                links[i] = node.IsLocal ? null : scorer.Bandwidth.Find(node.NodeId);
                from = Math.Max(from, preparedAt);
                until = Math.Min(until, preparedUntil);
            }

            var candidates = new CandidateTerms[view.Slots.Length];
            for (int i = 0; i < candidates.Length; i++)
            {
                Slot slot = view.Slots[i];
                candidates[i] = new CandidateTerms(in slot, new TargetTerms(in terms[slot.NodeIndex], new ModelTerms(slot.Model, o), slot.Node.IsLocal, slot.Hops, null, o), links[slot.NodeIndex], plan, maxSnapshotAgeTicks);
            }

            prepared = new PreparedTerms(o, plan, maxSnapshotAgeTicks, membership, from, until, candidates);
            view.Prepared = prepared;
            return prepared;
        }
    }

    private EndpointCache CurrentEndpoints(Settings settings)
    {
        IPriceTable table = _prices.Current;
        EndpointCache cache = _endpointCache;
        if (ReferenceEquals(cache.Table, table) && ReferenceEquals(cache.Source, settings.Options.ApiEndpoints))
        {
            return cache;
        }

        lock (_cacheGate)
        {
            List<ApiEndpoint> endpoints = settings.Options.ApiEndpoints;
            var states = new TargetState[endpoints.Count];
            var models = new ServedModel[endpoints.Count];
            var prices = new TokenPrice?[endpoints.Count];
            for (int i = 0; i < endpoints.Count; i++)
            {
                ApiEndpoint e = endpoints[i];
                states[i] = _states.GetOrAdd(e.Id, static id => new TargetState(id));
                models[i] = new ServedModel(e.Model)
                {
                    ContextTokens = e.ContextTokens,
                    DecodeTokensPerSecond = e.DecodeTokensPerSecond,
                    PrefillTokensPerSecond = e.PrefillTokensPerSecond,
                    ParameterBillions = e.ParameterBillions,
                    QuantizationBits = e.QuantizationBits,
                };
                prices[i] = _prices.Lookup(e.PriceModel ?? e.Model).Price;
            }

            // An endpoint no longer configured is forgotten, unless a node of the view shares its id.
            foreach (TargetState old in _endpointStates)
            {
                if (Array.IndexOf(states, old) < 0 && old.ListedInView != _viewCache.Id)
                {
                    Forget(old);
                }
            }

            _endpointStates = states;
            cache = new EndpointCache(endpoints, table, [.. endpoints], states, models, prices);
            _endpointCache = cache;
            return cache;
        }
    }

    private Settings BuildSettings(RoutingOptions options)
    {
        var byName = _allFilters.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var chosen = options.Filters.Where(byName.ContainsKey).Select(n => byName[n]).ToArray();
        double frequency = _time.TimestampFrequency;
        return new Settings(
            options,
            [.. chosen.Where(f => !f.NeedsCost)],
            [.. chosen.Where(f => f.NeedsCost)],
            FastPlan.For(chosen),
            (long)(options.AffinityTtl.TotalSeconds * frequency),
            options.OutcomeDecay.TotalSeconds * frequency,
            options.FailureMemory.TotalSeconds * frequency,
            (long)(Math.Max(1, options.LeaseTimeout.TotalSeconds / 4) * frequency));
    }

    private const byte Eligible = 0;
    private const byte SoftRejected = 1;
    private const byte HardRejected = 2;

    /// <summary>What <see cref="PriceNodes"/> reads besides the candidates: the same for every candidate of one decision.</summary>
    private readonly struct NodeInputs(in RequestTerms request, FastPlan plan, SpendCapFilter? spendCaps, BandwidthEstimator.Sample prior, long nowUtcTicks, long tokens, long stamp, double failureMemoryTicks)
    {
        public readonly RequestTerms Request = request;
        public readonly FastPlan Plan = plan;
        public readonly SpendCapFilter? SpendCaps = spendCaps;
        public readonly BandwidthEstimator.Sample Prior = prior;
        public readonly long NowUtcTicks = nowUtcTicks;
        public readonly long Tokens = tokens;
        public readonly long Stamp = stamp;
        public readonly double FailureMemoryTicks = failureMemoryTicks;
        public readonly byte ContextExceeded = plan.ContextExceeded;
        public readonly byte Ejected = plan.Ejected;
    }

    private sealed record Settings(RoutingOptions Options, IRouteFilter[] PreScore, IRouteFilter[] PostScore, FastPlan? Fast, long AffinityTtlTicks, double OutcomeDecayTicks, double FailureMemoryTicks, long SweepIntervalTicks);

    /// <summary>
    /// The configured built-in filters as the fast path applies them: each filter's verdict for every
    /// outcome of its test, asked once from the filter itself (<see cref="Eligible"/> for a filter not
    /// configured). Null when any configured filter is not built in (then every decision takes the full
    /// path). Verdicts combine as "worst wins", so the configured order cannot change the outcome.
    /// </summary>
    private sealed class FastPlan
    {
        private readonly byte[] _exclusion;

        private FastPlan(IRouteFilter[] filters)
        {
            bool context = filters.OfType<ContextLengthFilter>().Any();
            Liveness = filters.OfType<LivenessFilter>().FirstOrDefault();
            bool constraints = filters.OfType<CostConstraintFilter>().Any();
            SpendCaps = filters.OfType<SpendCapFilter>().FirstOrDefault();
            bool ejection = filters.OfType<EjectionFilter>().Any();

            ContextExceeded = context ? Verdict(ContextLengthFilter.Result(true)) : Eligible;
            LivenessVerdicts = new byte[LivenessFilter.Local + 1];
            foreach (int finding in (int[])[LivenessFilter.Alive, LivenessFilter.Dead, LivenessFilter.Suspect, LivenessFilter.Stale, LivenessFilter.Local])
            {
                LivenessVerdicts[finding] = Liveness is null ? Eligible : Verdict(LivenessFilter.Result(finding));
            }
            Ejected = ejection ? Verdict(EjectionFilter.Result(true)) : Eligible;
            OverSpendCap = SpendCaps is null ? Eligible : Verdict(SpendCapFilter.Result(true));
            CostExclusion[] values = Enum.GetValues<CostExclusion>();
            _exclusion = new byte[(int)values.Max() + 1];
            foreach (CostExclusion value in values)
            {
                _exclusion[(int)value] = constraints ? Verdict(CostConstraintFilter.Result(value)) : Eligible;
            }

            ExclusionUnknown = constraints ? Verdict(CostConstraintFilter.Result((CostExclusion)_exclusion.Length)) : Eligible;
        }

        public byte ContextExceeded { get; }

        /// <summary>The liveness filter's verdict by finding (indexed by <see cref="LivenessFilter.Classify"/>).</summary>
        public byte[] LivenessVerdicts { get; }

        /// <summary>The liveness filter, for its maximum snapshot age; null when not configured.</summary>
        public LivenessFilter? Liveness { get; }

        public byte Ejected { get; }

        public SpendCapFilter? SpendCaps { get; }

        public byte OverSpendCap { get; }

        private byte ExclusionUnknown { get; }

        public static FastPlan? For(IRouteFilter[] filters) =>
            filters.All(f => f is ContextLengthFilter or LivenessFilter or CostConstraintFilter or SpendCapFilter or EjectionFilter)
                ? new FastPlan(filters)
                : null;

        public byte Exclusion(CostExclusion exclusion) =>
            (uint)exclusion < (uint)_exclusion.Length ? _exclusion[(int)exclusion] : ExclusionUnknown;

        private static byte Verdict(in RouteFilterResult result) => result.Passed ? Eligible : result.Soft ? SoftRejected : HardRejected;
    }

    private sealed record ViewCache(IReadOnlyList<MeshNode> Nodes, TargetState[] States, Offer[][] Offers, Slot[] Slots, Dictionary<string, ModelGroup> Groups, ModelGroup[] Listed)
    {
        private static long s_lastId;

        public static ViewCache Empty { get; } = new([], [], [], [], new Dictionary<string, ModelGroup>(StringComparer.OrdinalIgnoreCase), []);

        /// <summary>Unique among all routers' views: a thread's scratch remembers its last model lookup by it (<see cref="Scratch.GroupOf"/>) without holding the view.</summary>
        public long Id { get; } = Interlocked.Increment(ref s_lastId);

        /// <summary>The terms last prepared for this view (null until the first fast decision).</summary>
        public PreparedTerms? Prepared { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); }
    }

    /// <summary>One candidate of a model in the per-model index: the node's index in the view, the node, its state, the model as served, relay hops.</summary>
    private readonly record struct Slot(int NodeIndex, MeshNode Node, TargetState State, ServedModel Model, int Hops);

    /// <summary>A model's candidates in the view's index: their slots, and where their prepared terms start.</summary>
    private sealed class ModelGroup(int index, int start, Slot[] slots)
    {
        public static ModelGroup None { get; } = new(-1, 0, []);

        /// <summary>Its place in <see cref="ViewCache.Listed"/>; -1 for <see cref="None"/>.</summary>
        public int Index { get; } = index;

        public int Start { get; } = start;

        public Slot[] Slots { get; } = slots;
    }

    /// <summary>
    /// Everything the fast loop reads for one candidate, in one array: its target's terms (node and
    /// model), its node's bandwidth entry (null for none yet), its state, and what the filters read
    /// from the (immutable) node and model, so the loop does not chase the node and its snapshot.
    /// </summary>
    private readonly struct CandidateTerms(in Slot slot, in TargetTerms target, BandwidthEstimator.Entry? link, FastPlan plan, long maxSnapshotAgeTicks)
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
    private sealed class PreparedTerms(ScoringOptions options, FastPlan plan, long maxSnapshotAgeTicks, long membership, long fromUtcTicks, long untilUtcTicks, CandidateTerms[] candidates)
    {
        public ScoringOptions Options { get; } = options;

        public CandidateTerms[] Candidates { get; } = candidates;

        // The maximum snapshot age is compared by value: the liveness filter reads its options on
        // its own, so a new plan does not mean a new age, nor the reverse.
        public bool HoldsFor(DefaultCostScorer scorer, FastPlan currentPlan, long currentMaxSnapshotAgeTicks, long nowUtcTicks) =>
            nowUtcTicks >= fromUtcTicks && nowUtcTicks <= untilUtcTicks
            && ReferenceEquals(Options, scorer.Options) && membership == scorer.Bandwidth.Membership
            && ReferenceEquals(plan, currentPlan) && maxSnapshotAgeTicks == currentMaxSnapshotAgeTicks;
    }

    private sealed record EndpointCache(List<ApiEndpoint>? Source, IPriceTable? Table, ApiEndpoint[] Endpoints, TargetState[] States, ServedModel[] Models, TokenPrice?[] Prices)
    {
        public static EndpointCache Empty { get; } = new(null, null, [], [], [], []);
    }

    private readonly record struct Offer(ServedModel Model, int Hops);

    /// <summary>Forgets each node the view removes (on the view's writer thread: a lookup and a flag, nothing more).</summary>
    private sealed class RemovalObserver(DefaultRouter router) : IObserver<MeshChange>
    {
        public void OnNext(MeshChange value)
        {
            if (value.Kind == MeshChangeKind.Removed)
            {
                router.OnRemoved(value.NodeId);
            }
        }

        public void OnError(Exception error)
        {
            // The view's stream does not fail; a host's view that does leaves the snapshot check (ForgetUnlisted) to forget nodes.
        }

        public void OnCompleted()
        {
            // The view was disposed: nothing more will be removed.
        }
    }

    /// <summary>A candidate with references: every candidate on the full path, API endpoints on the fast path.</summary>
    private struct Entry
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
    /// Per-thread working arrays, reused. Candidates 0 to <see cref="SlotCount"/> - 1 are the fast
    /// path's index slots (no entry written); the rest have entries. Verdicts, costs and totals are
    /// plain arrays for both paths.
    /// </summary>
    private sealed class Scratch
    {
        private const int InitialCapacity = 64;

        private Slot[] _slots = [];
        private long _groupView = -1;
        private string? _groupModel;
        private int _groupIndex;

        public Entry[] Entries = new Entry[InitialCapacity];
        public byte[] Verdicts = new byte[InitialCapacity];
        public double[] Adjusted = new double[InitialCapacity];
        public CostBreakdown[] Costs = new CostBreakdown[InitialCapacity];
        public int[] Near = new int[InitialCapacity];
        public int[] FollowUps = new int[InitialCapacity];
        public int Count;
        public int SlotCount;

        /// <summary>How many candidates the picker's scan (<see cref="PickerScan.Scan"/>) left in <see cref="Near"/> as maybe near the cheapest.</summary>
        public int MaybeNear;

        public TargetState StateAt(int i) => i < SlotCount ? _slots[i].State : Entries[i].State;

        public ServedModel ModelAt(int i) => i < SlotCount ? _slots[i].Model : Entries[i].Model;

        public bool IsEndpointAt(int i) => i >= SlotCount && Entries[i].Endpoint is not null;

        /// <summary>What the scorer sees of candidate <paramref name="i"/>, on either path.</summary>
        public CostCandidate CostCandidateAt(int i)
        {
            if (i < SlotCount)
            {
                Slot slot = _slots[i];
                return CostCandidateOf(slot.Node, null, slot.State, slot.Model, slot.Hops, null);
            }

            return CostCandidateOf(in Entries[i]);
        }

        /// <summary>Takes the fast path's slots as the first candidates, with room for <paramref name="more"/> entries after them.</summary>
        public void UseSlots(Slot[] slots, int more)
        {
            Reserve(slots.Length + more);
            _slots = slots;
            SlotCount = slots.Length;
            Count = slots.Length;
        }

        public void AddEntry(MeshNode? node, ApiEndpoint? endpoint, TargetState state, ServedModel model, int hops, TokenPrice? price)
        {
            Reserve(Count + 1);
            Entries[Count++] = new Entry { Node = node, Endpoint = endpoint, State = state, Model = model, Hops = hops, Price = price };
        }

        /// <summary>
        /// The view's candidates for <paramref name="model"/>. A thread's requests mostly name the
        /// same model, often through the same string: the last lookup is remembered by the view's id
        /// and the string's reference (not the view itself, which may be replaced), saving a
        /// case-insensitive hash and comparison per decision.
        /// </summary>
        public ModelGroup GroupOf(ViewCache view, string model)
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

        public void Clear()
        {
            // Drop references so the scratch does not keep old views alive.
            Array.Clear(Entries, SlotCount, Count - SlotCount);
            _slots = [];
            SlotCount = 0;
            Count = 0;
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
}
