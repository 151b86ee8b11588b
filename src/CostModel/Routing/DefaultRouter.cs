using System.Reactive.Subjects;
using CostModel.Budgets;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Routing;

/// <summary>
/// candidates -> filters -> scorer -> picker. Candidates are mesh nodes serving the model
/// (directly or through relays) and configured API endpoints; cheap filters run before scoring,
/// cost-based ones after; if only soft filters rejected everything, every candidate that passed the
/// hard ones is considered (panic). The picker keeps an affinity key's incumbent within the
/// hysteresis band, otherwise picks the cheapest, choosing among near-equals by power of two
/// choices on in-flight work. See <c>docs/routing.md</c>.
/// </summary>
internal sealed class DefaultRouter : IRouter, IDisposable
{
    // A node failing more than this share of requests still gets a finite expected cost.
    private const double MaxFailureRate = 0.9;

    // Decode speed is learned only from the part of the latency not predicted as network and prefill;
    // at least this share of the latency is attributed to decode.
    private const double MinDecodeShareOfLatency = 0.05;

    [ThreadStatic]
    private static Scratch? t_scratch;

    private readonly IMeshView _view;
    private readonly ICostScorer _scorer;

    // Set when the scorer is the built-in one: the fast path prices with its prepared node terms.
    private readonly DefaultCostScorer? _defaultScorer;
    private readonly IPriceCatalog _prices;
    private readonly SpendTracker _spend;
    private readonly IRouteFilter[] _allFilters;
    private readonly IOptionsMonitor<CostModelOptions> _options;
    private readonly TimeProvider _time;
    private readonly CostModelMetrics _metrics;
    private readonly IRandomSource _random;
    private readonly LeaseTable _leases;
    private readonly AffinityTable _affinity = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TargetState> _states = new(StringComparer.Ordinal);
    private readonly Subject<RouteDecision> _decisions = new();
    private readonly IDisposable? _subscription;
    private readonly Lock _cacheGate = new();

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
        IOptionsMonitor<CostModelOptions> options,
        TimeProvider time,
        CostModelMetrics metrics,
        IRandomSource random)
    {
        _view = view;
        _scorer = scorer;
        _defaultScorer = scorer as DefaultCostScorer;
        _prices = prices;
        _spend = spend;
        _allFilters = [.. filters];
        _options = options;
        _time = time;
        _metrics = metrics;
        _random = random;
        _leases = new LeaseTable(RoutingDefaults.MaxLeases, OnReleased);
        _settings = BuildSettings(options.CurrentValue.Routing);
        _subscription = options.OnChange(o =>
        {
            _settings = BuildSettings(o.Routing);
            _endpointCache = EndpointCache.Empty;
        });
        _nextSweep = time.GetTimestamp();
    }

    public IObservable<RouteDecision> Decisions => _decisions;

    internal int ActiveLeases => _leases.Active;

    internal int AffinityKeys => _affinity.Count;

    internal int InFlight(string targetId) => _states.TryGetValue(targetId, out TargetState? s) ? s.InFlight : 0;

    /// <summary>True when a decision without an explanation takes the fast path (built-in scorer and filters only).</summary>
    internal bool FastPathEnabled => _defaultScorer is not null && _settings.Fast is not null;

    /// <summary>Test hook: false routes every decision through the full path, as with an explanation.</summary>
    internal bool AllowFastPath { get; set; } = true;

    public void Dispose()
    {
        _subscription?.Dispose();
        _decisions.Dispose();
    }

    public RouteDecision Route(RequestProfile request, RouteExplanation? explanation = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        Settings settings = _settings;
        DateTimeOffset now = _time.GetUtcNow();
        long stamp = _time.GetTimestamp();
        if (stamp >= Volatile.Read(ref _nextSweep))
        {
            Sweep(stamp, settings);
        }

        explanation?.Reset(request);
        Scratch scratch = t_scratch ??= new Scratch();
        scratch.Count = 0;
        ViewCache view = CurrentView();
        EndpointCache endpoints = CurrentEndpoints(settings);

        int eligible;
        int softOnly;
        if (explanation is null && AllowFastPath && settings.Fast is { } fast && _defaultScorer is { } scorer)
        {
            EvaluateFast(scratch, view, endpoints, fast, scorer, request, settings, now, stamp, out eligible, out softOnly);
        }
        else
        {
            EvaluateFull(scratch, view, endpoints, settings, request, now, stamp, out eligible, out softOnly);
        }

        RouteNotes flags = RouteNotes.None;
        bool panic = eligible == 0 && softOnly > 0;
        if (panic)
        {
            flags |= RouteNotes.Panic;
            _metrics.RoutePanic();
        }

        // The cheapest eligible (or, in panic, soft-rejected) candidate.
        int best = -1;
        for (int i = 0; i < scratch.Count; i++)
        {
            ref Entry entry = ref scratch.Entries[i];
            if (IsEligible(in entry, panic) && (best < 0 || entry.Adjusted < scratch.Entries[best].Adjusted))
            {
                best = i;
            }
        }

        string? incumbentId = null;
        int chosen = best;
        if (best >= 0)
        {
            chosen = Pick(scratch, best, panic, request, settings, stamp, ref flags, out incumbentId);
        }

        RouteDecision decision;
        if (chosen < 0)
        {
            flags |= RouteNotes.NoRoute;
            _metrics.NoRoute();
            decision = new RouteDecision { Flags = flags, CandidateCount = scratch.Count, FilteredCount = scratch.Count };
        }
        else
        {
            ref Entry entry = ref scratch.Entries[chosen];
            double prefillSeconds = request.InputTokens / Math.Max(entry.Model.PrefillTokensPerSecond ?? ScoringDefaults.PrefillTokensPerSecondPrior, 1e-9);
            var info = new LeaseInfo(
                stamp + (long)(settings.Options.LeaseTimeout.TotalSeconds * _time.TimestampFrequency),
                entry.Cost.NetworkLatencySeconds + prefillSeconds,
                entry.Cost.ApiDollars,
                entry.Cost.EnergyDollars + entry.Cost.NetworkDollars);
            if (!_leases.TryAcquire(entry.State, in info, out RouteLease lease))
            {
                _metrics.BoundExceeded("leases");
            }

            if (request.AffinityKey is { } key && !_affinity.Set(key, entry.State.TargetId, stamp, settings.AffinityTtlTicks, settings.Options.MaxAffinityKeys))
            {
                _metrics.BoundExceeded("affinity-keys");
            }

            decision = new RouteDecision
            {
                TargetId = entry.State.TargetId,
                IsApiEndpoint = entry.Endpoint is not null,
                Cost = entry.Cost,
                Lease = lease,
                Flags = flags,
                CandidateCount = scratch.Count,
                FilteredCount = scratch.Count - eligible,
            };
            _metrics.Decision(entry.State.TargetId, flags);
        }

        if (explanation is not null)
        {
            for (int i = 0; i < scratch.Count; i++)
            {
                ref Entry entry = ref scratch.Entries[i];
                explanation.Add(new CandidateExplanation(entry.State.TargetId, entry.Cost, entry.Adjusted, entry.FailureRate, entry.RejectedBy, entry.Soft, entry.Reason));
            }

            explanation.Finish(decision.TargetId, flags, incumbentId);
        }

        scratch.Clear();
        _decisions.OnNext(decision);
        return decision;
    }

    /// <summary>
    /// The complete path: every candidate through every configured filter (by interface) and the
    /// configured scorer. Used with an explanation, a custom filter or a custom scorer; the reference the fast path must match.
    /// </summary>
    private void EvaluateFull(Scratch scratch, ViewCache view, EndpointCache endpoints, Settings settings, RequestProfile request, DateTimeOffset now, long stamp, out int eligible, out int softOnly)
    {
        // Candidates.
        for (int n = 0; n < view.Nodes.Count; n++)
        {
            foreach (Offer offer in view.Offers[n])
            {
                if (string.Equals(offer.Model.ModelId, request.Model, StringComparison.OrdinalIgnoreCase))
                {
                    scratch.Add(view.Nodes[n], null, view.States[n], offer.Model, offer.Hops, null);
                }
            }
        }

        AddEndpoints(scratch, endpoints, request);

        // Filters and scores.
        eligible = 0;
        softOnly = 0;
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
            Reject(ref entry, settings.PreScore, in candidate, request, now);
            if (entry.RejectedBy is null || entry.Soft)
            {
                entry.Cost = _scorer.Score(CostCandidateOf(in entry), request, now);
                candidate = candidate with { Cost = entry.Cost };
                Reject(ref entry, settings.PostScore, in candidate, request, now);
                Adjust(ref entry, stamp, settings);
            }

            Count(in entry, ref eligible, ref softOnly);
        }
    }

    /// <summary>
    /// The fast path: the candidates of the requested model from the view's per-model index, the
    /// built-in filters called directly, and the built-in scorer's per-request pricing over node terms
    /// prepared once per snapshot (and again when a reading they used turns stale, the options change
    /// or a node's bandwidth entry appears or goes). The same code as the full path, in the same
    /// order, so it gives the same decisions and costs (see docs/routing.md).
    /// </summary>
    private void EvaluateFast(Scratch scratch, ViewCache view, EndpointCache endpoints, FastPlan plan, DefaultCostScorer scorer, RequestProfile request, Settings settings, DateTimeOffset now, long stamp, out int eligible, out int softOnly)
    {
        PreparedTerms prepared = CurrentTerms(view, scorer, now);
        ScoringOptions o = prepared.Options;
        BandwidthEstimator bandwidth = scorer.Bandwidth;
        TimeSpan maxSnapshotAge = plan.Liveness?.MaxSnapshotAge ?? TimeSpan.MaxValue;
        eligible = 0;
        softOnly = 0;
        if (view.Groups.TryGetValue(request.Model, out Slot[]? slots))
        {
            scratch.Reserve(slots.Length);
            NodeTerms[] terms = prepared.Terms;
            BandwidthEstimator.Entry?[] links = prepared.Bandwidth;
            for (int i = 0; i < slots.Length; i++)
            {
                ref readonly Slot slot = ref slots[i];
                ref Entry entry = ref scratch.Entries[scratch.Count++];
                entry = new Entry { Node = slot.Node, State = slot.State, Model = slot.Model, Hops = slot.Hops };
                RejectFast(ref entry, plan.PreScore, plan, request, now, stamp, maxSnapshotAge);
                if (entry.RejectedBy is null || entry.Soft)
                {
                    (double bitsPerSecond, int samples) = slot.Node.IsLocal ? (0, 0) : bandwidth.Estimate(links[slot.Index]);
                    entry.Cost = DefaultCostScorer.Price(CostCandidateOf(in entry), in terms[slot.Index], bitsPerSecond, samples, request, o);
                    RejectFast(ref entry, plan.PostScore, plan, request, now, stamp, maxSnapshotAge);
                    Adjust(ref entry, stamp, settings);
                }

                Count(in entry, ref eligible, ref softOnly);
            }
        }

        // API endpoints are few: the full scorer prices them.
        int first = scratch.Count;
        AddEndpoints(scratch, endpoints, request);
        for (int i = first; i < scratch.Count; i++)
        {
            ref Entry entry = ref scratch.Entries[i];
            RejectFast(ref entry, plan.PreScore, plan, request, now, stamp, maxSnapshotAge);
            if (entry.RejectedBy is null || entry.Soft)
            {
                entry.Cost = scorer.Score(CostCandidateOf(in entry), request, now);
                RejectFast(ref entry, plan.PostScore, plan, request, now, stamp, maxSnapshotAge);
                Adjust(ref entry, stamp, settings);
            }

            Count(in entry, ref eligible, ref softOnly);
        }
    }

    private static void AddEndpoints(Scratch scratch, EndpointCache endpoints, RequestProfile request)
    {
        for (int e = 0; e < endpoints.Endpoints.Length; e++)
        {
            ApiEndpoint endpoint = endpoints.Endpoints[e];
            if (string.Equals(endpoint.Model, request.Model, StringComparison.OrdinalIgnoreCase))
            {
                scratch.Add(null, endpoint, endpoints.States[e], endpoints.Models[e], 0, endpoints.Prices[e]);
            }
        }
    }

    /// <summary>What the scorer sees of a candidate; both paths build it here.</summary>
    private static CostCandidate CostCandidateOf(in Entry entry)
    {
        NodeCostFactors? factors = entry.Node?.Factors;
        return new CostCandidate
        {
            TargetId = entry.State.TargetId,
            Model = entry.Model,
            Factors = factors,
            IsLocal = entry.Node?.IsLocal ?? false,
            RelayHops = entry.Hops,
            PlacedRequests = factors is null ? entry.State.InFlight : entry.State.PlacedSince(factors.Generation, factors.Version),
            ObservedRttSeconds = entry.Endpoint?.RttSeconds,
            ObservedDecodeTokensPerSecond = entry.State.DecodeTokensPerSecond > 0 ? entry.State.DecodeTokensPerSecond : null,
            Price = entry.Price,
        };
    }

    /// <summary>The total the picker compares: the cost plus the expected cost of retries at the target's recent failure rate.</summary>
    private static void Adjust(ref Entry entry, long stamp, Settings settings)
    {
        double failure = Math.Min(MaxFailureRate, entry.State.FailureRateAt(stamp, settings.OutcomeDecayTicks));
        entry.FailureRate = failure;
        double total = entry.Cost.TotalDollars;
        double retryable = total - entry.Cost.QualityDollars;
        entry.Adjusted = total + (retryable * failure / (1 - failure));
    }

    private static void Count(in Entry entry, ref int eligible, ref int softOnly)
    {
        if (entry.RejectedBy is null)
        {
            eligible++;
        }
        else if (entry.Soft)
        {
            softOnly++;
        }
    }

    private static bool IsEligible(in Entry entry, bool panic) => entry.RejectedBy is null || (panic && entry.Soft);

    private int Pick(Scratch scratch, int best, bool panic, RequestProfile request, Settings settings, long stamp, ref RouteNotes flags, out string? incumbentId)
    {
        RoutingOptions o = settings.Options;
        ref Entry cheapest = ref scratch.Entries[best];
        incumbentId = request.AffinityKey is { } key ? _affinity.Get(key, stamp, settings.AffinityTtlTicks) : null;
        if (incumbentId is not null)
        {
            int incumbent = -1;
            for (int i = 0; i < scratch.Count; i++)
            {
                if (IsEligible(in scratch.Entries[i], panic) && string.Equals(scratch.Entries[i].State.TargetId, incumbentId, StringComparison.Ordinal))
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
                ref Entry held = ref scratch.Entries[incumbent];
                if (cheapest.Adjusted < (held.Adjusted * (1 - o.HysteresisBand)) - o.HysteresisEpsilonDollars)
                {
                    flags |= RouteNotes.Switched;
                    _metrics.AffinitySwitched();
                    return best;
                }

                // Within the band, but the incumbent costs more than the bound allows (a long request).
                double penalty = held.Adjusted - cheapest.Adjusted;
                if (penalty > o.AffinityBreakPenaltySeconds * held.Cost.ValueOfTimeDollarsPerSecond)
                {
                    flags |= RouteNotes.StickinessBroken;
                    _metrics.AffinityBroken();
                    return best;
                }

                flags |= RouteNotes.StickyKept;
                return incumbent;
            }
        }

        // Near-equals: within the tolerance of the cheapest; power of two choices on in-flight work.
        double limit = cheapest.Adjusted + (Math.Abs(cheapest.Adjusted) * o.SpreadTolerance) + o.HysteresisEpsilonDollars;
        int near = 0;
        for (int i = 0; i < scratch.Count; i++)
        {
            if (IsEligible(in scratch.Entries[i], panic) && scratch.Entries[i].Adjusted <= limit)
            {
                scratch.Near[near++] = i;
            }
        }

        if (near <= 1)
        {
            return best;
        }

        flags |= RouteNotes.RandomTieBreak;
        int a = scratch.Near[_random.NextInt(near)];
        int b = scratch.Near[_random.NextInt(near - 1)];
        if (b == a)
        {
            b = scratch.Near[near - 1];
        }

        ref Entry ea = ref scratch.Entries[a];
        ref Entry eb = ref scratch.Entries[b];
        int inFlightA = ea.State.InFlight;
        int inFlightB = eb.State.InFlight;
        return inFlightA != inFlightB ? (inFlightA < inFlightB ? a : b) : (ea.Adjusted <= eb.Adjusted ? a : b);
    }

    private static void Reject(ref Entry entry, IRouteFilter[] filters, in RouteCandidate candidate, RequestProfile request, DateTimeOffset now)
    {
        foreach (IRouteFilter filter in filters)
        {
            if (entry.RejectedBy is not null && !entry.Soft)
            {
                return;
            }

            Apply(ref entry, filter.Name, filter.Evaluate(in candidate, request, now));
        }
    }

    /// <summary>The built-in filters in their configured order, called directly (no candidate struct, no interface call).</summary>
    private static void RejectFast(ref Entry entry, FilterKind[] kinds, FastPlan plan, RequestProfile request, DateTimeOffset now, long stamp, TimeSpan maxSnapshotAge)
    {
        foreach (FilterKind kind in kinds)
        {
            if (entry.RejectedBy is not null && !entry.Soft)
            {
                return;
            }

            switch (kind)
            {
                case FilterKind.ContextLength:
                    Apply(ref entry, RouteFilterNames.ContextLength, ContextLengthFilter.Check(entry.Model, request));
                    break;
                case FilterKind.Liveness:
                    Apply(ref entry, RouteFilterNames.Liveness, LivenessFilter.Check(entry.Node, now, maxSnapshotAge));
                    break;
                case FilterKind.CostConstraints:
                    Apply(ref entry, RouteFilterNames.CostConstraints, CostConstraintFilter.Check(entry.Cost.Exclusion));
                    break;
                case FilterKind.SpendCaps:
                    Apply(ref entry, RouteFilterNames.SpendCaps, plan.SpendCaps!.Check(in entry.Cost));
                    break;
                case FilterKind.Ejection:
                    Apply(ref entry, RouteFilterNames.Ejection, EjectionFilter.Check(entry.State.IsEjected(stamp)));
                    break;
                default:
                    throw new System.Diagnostics.UnreachableException($"Filter kind {kind}.");
            }
        }
    }

    private static void Apply(ref Entry entry, string filter, in RouteFilterResult result)
    {
        if (!result.Passed && (entry.RejectedBy is null || !result.Soft))
        {
            // A hard rejection overrides an earlier soft one: panic mode must respect it.
            entry.RejectedBy = filter;
            entry.Soft = result.Soft;
            entry.Reason = result.Reason;
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

        if (target.Learn(in o, decode, stamp, settings.OutcomeDecayTicks, settings.Options.EjectionConsecutiveFailures))
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
    }

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

            var states = new TargetState[nodes.Count];
            var offers = new Offer[nodes.Count][];
            var groups = new Dictionary<string, List<Slot>>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < nodes.Count; i++)
            {
                MeshNode node = nodes[i];
                states[i] = _states.GetOrAdd(node.NodeId, static id => new TargetState(id));
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

            cache = new ViewCache(nodes, states, offers, groups.ToDictionary(g => g.Key, g => g.Value.ToArray(), StringComparer.OrdinalIgnoreCase));
            _viewCache = cache;
            return cache;
        }
    }

    /// <summary>
    /// The view's prepared node terms, valid now: prepared again when a reading they used has turned
    /// stale (or the clock went back), the scoring options changed, or a node's bandwidth entry
    /// appeared or went. A node whose snapshot, options and validity are unchanged keeps its terms.
    /// </summary>
    private PreparedTerms CurrentTerms(ViewCache view, DefaultCostScorer scorer, DateTimeOffset now)
    {
        long ticks = now.UtcTicks;
        PreparedTerms? prepared = view.Prepared;
        if (prepared is not null && prepared.HoldsFor(scorer, ticks))
        {
            return prepared;
        }

        lock (_cacheGate)
        {
            prepared = view.Prepared;
            if (prepared is not null && prepared.HoldsFor(scorer, ticks))
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
                terms[i] = view.States[i].Prepare(node.Factors, o, now);
                links[i] = node.IsLocal ? null : scorer.Bandwidth.Find(node.NodeId);
                from = Math.Max(from, terms[i].PreparedAtUtcTicks);
                until = Math.Min(until, terms[i].ValidUntilUtcTicks);
            }

            prepared = new PreparedTerms(o, membership, from, until, terms, links);
            view.Prepared = prepared;
            return prepared;
        }
    }

    private EndpointCache CurrentEndpoints(Settings settings)
    {
        PriceTable table = _prices.Current;
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
        IRouteFilter[] preScore = [.. chosen.Where(f => !f.NeedsCost)];
        IRouteFilter[] postScore = [.. chosen.Where(f => f.NeedsCost)];
        return new Settings(
            options,
            preScore,
            postScore,
            FastPlan.For(preScore, postScore),
            (long)(options.AffinityTtl.TotalSeconds * frequency),
            options.OutcomeDecay.TotalSeconds * frequency,
            (long)(Math.Max(1, options.LeaseTimeout.TotalSeconds / 4) * frequency));
    }

    private sealed record Settings(RoutingOptions Options, IRouteFilter[] PreScore, IRouteFilter[] PostScore, FastPlan? Fast, long AffinityTtlTicks, double OutcomeDecayTicks, long SweepIntervalTicks);

    private enum FilterKind
    {
        ContextLength,
        Liveness,
        CostConstraints,
        SpendCaps,
        Ejection,
    }

    /// <summary>The configured filters as built-in kinds, in order; null when any is not built in (then every decision takes the full path).</summary>
    private sealed record FastPlan(FilterKind[] PreScore, FilterKind[] PostScore, LivenessFilter? Liveness, SpendCapFilter? SpendCaps)
    {
        public static FastPlan? For(IRouteFilter[] preScore, IRouteFilter[] postScore)
        {
            FilterKind[]? pre = Kinds(preScore);
            FilterKind[]? post = Kinds(postScore);
            return pre is null || post is null
                ? null
                : new FastPlan(pre, post, preScore.Concat(postScore).OfType<LivenessFilter>().FirstOrDefault(), preScore.Concat(postScore).OfType<SpendCapFilter>().FirstOrDefault());
        }

        private static FilterKind[]? Kinds(IRouteFilter[] filters)
        {
            var kinds = new FilterKind[filters.Length];
            for (int i = 0; i < filters.Length; i++)
            {
                FilterKind? kind = filters[i] switch
                {
                    ContextLengthFilter => FilterKind.ContextLength,
                    LivenessFilter => FilterKind.Liveness,
                    CostConstraintFilter => FilterKind.CostConstraints,
                    SpendCapFilter => FilterKind.SpendCaps,
                    EjectionFilter => FilterKind.Ejection,
                    _ => null,
                };
                if (kind is not { } known)
                {
                    return null;
                }

                kinds[i] = known;
            }

            return kinds;
        }
    }

    private sealed record ViewCache(IReadOnlyList<MeshNode> Nodes, TargetState[] States, Offer[][] Offers, Dictionary<string, Slot[]> Groups)
    {
        public static ViewCache Empty { get; } = new([], [], [], new Dictionary<string, Slot[]>(StringComparer.OrdinalIgnoreCase));

        /// <summary>The node terms last prepared for this view (null until the first fast decision).</summary>
        public PreparedTerms? Prepared { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); }
    }

    /// <summary>One candidate of a model in the per-model index: the node (its index in the view), its state, the model as served, relay hops.</summary>
    private readonly record struct Slot(int Index, MeshNode Node, TargetState State, ServedModel Model, int Hops);

    /// <summary>Node terms for every node of a view (by index), with the options, bandwidth membership and time span they hold for.</summary>
    private sealed class PreparedTerms(ScoringOptions options, long membership, long fromUtcTicks, long untilUtcTicks, NodeTerms[] terms, BandwidthEstimator.Entry?[] bandwidth)
    {
        public ScoringOptions Options { get; } = options;

        public NodeTerms[] Terms { get; } = terms;

        public BandwidthEstimator.Entry?[] Bandwidth { get; } = bandwidth;

        public bool HoldsFor(DefaultCostScorer scorer, long nowUtcTicks) =>
            nowUtcTicks >= fromUtcTicks && nowUtcTicks <= untilUtcTicks
            && ReferenceEquals(Options, scorer.Options) && membership == scorer.Bandwidth.Membership;
    }

    private sealed record EndpointCache(List<ApiEndpoint>? Source, PriceTable? Table, ApiEndpoint[] Endpoints, TargetState[] States, ServedModel[] Models, TokenPrice?[] Prices)
    {
        public static EndpointCache Empty { get; } = new(null, null, [], [], [], []);
    }

    private readonly record struct Offer(ServedModel Model, int Hops);

    private struct Entry
    {
        public MeshNode? Node;
        public ApiEndpoint? Endpoint;
        public TargetState State;
        public ServedModel Model;
        public int Hops;
        public TokenPrice? Price;
        public CostBreakdown Cost;
        public double Adjusted;
        public double FailureRate;
        public string? RejectedBy;
        public bool Soft;
        public string? Reason;
    }

    private sealed class Scratch
    {
        public Entry[] Entries = new Entry[64];
        public int[] Near = new int[64];
        public int Count;

        public void Add(MeshNode? node, ApiEndpoint? endpoint, TargetState state, ServedModel model, int hops, TokenPrice? price)
        {
            if (Count == Entries.Length)
            {
                Array.Resize(ref Entries, Entries.Length * 2);
                Array.Resize(ref Near, Near.Length * 2);
            }

            Entries[Count++] = new Entry { Node = node, Endpoint = endpoint, State = state, Model = model, Hops = hops, Price = price };
        }

        /// <summary>Makes room for <paramref name="more"/> entries beyond <see cref="Count"/>.</summary>
        public void Reserve(int more)
        {
            int needed = Count + more;
            if (needed > Entries.Length)
            {
                int size = Math.Max(needed, Entries.Length * 2);
                Array.Resize(ref Entries, size);
                Array.Resize(ref Near, size);
            }
        }

        public void Clear()
        {
            // Drop references so the scratch does not keep old views alive.
            Array.Clear(Entries, 0, Count);
            Count = 0;
        }
    }
}
