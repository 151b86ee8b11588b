using CostModel.Budgets;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CostModel.Routing;

/// <summary>
/// candidates -> filters -> scorer -> picker -> lease, each part in its own class, read in this order:
/// <list type="number">
/// <item><see cref="CandidateIndex"/>: the mesh view indexed by model, the configured endpoints, and the terms prepared for them;</item>
/// <item><see cref="CandidatePricing"/>: each candidate's verdict (the filters, <see cref="FilterPlan"/>), cost and total;</item>
/// <item><see cref="Picker"/>: panic, the cheapest, affinity and hysteresis, the spread among near-equals;</item>
/// <item><see cref="LeaseTable"/> and <see cref="OutcomeLearner"/>: the placed work, and what its outcome teaches;</item>
/// <item>this class: the order of the steps, the affinity table, the lease, the explanation and the decision stream.</item>
/// </list>
/// See <c>docs/routing.md</c>.
/// <para>
/// What it remembers per target (in-flight work, learned speed, failures, ejection; <see cref="TargetTable"/>)
/// is kept only while the target is listed: a node that leaves the view (a <see cref="MeshChangeKind.Removed"/>
/// change, or a view snapshot that no longer lists it) or an endpoint dropped from the options is
/// forgotten, with the affinity entries that pointed at it; its leases in flight still complete
/// and release cleanly, and a node that comes back starts fresh.
/// </para>
/// </summary>
internal sealed class DefaultRouter : IRouter, IDisposable
{
    [ThreadStatic]
    private static RouteScratch? t_scratch;

    private readonly IRouteFilter[] _allFilters;
    private readonly TimeProvider _time;
    private readonly CostModelMetrics _metrics;
    private readonly LeaseTable _leases;
    private readonly SpendTracker _spend;
    private readonly AffinityTable _affinity = new();
    private readonly TargetTable _targets = new();
    private readonly CandidateIndex _index;
    private readonly CandidatePricing _pricing;
    private readonly Picker _picker;
    private readonly HerdSpread _herd;
    private readonly SafePublisher<RouteDecision> _decisions;
    private readonly IDisposable? _subscription;

    private volatile RouterSettings _settings;
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
        ILogger<DefaultRouter>? logger = null,
        RoutedRate? routed = null)
    {
        _allFilters = [.. filters];
        _time = time;
        _metrics = metrics;
        _settings = RouterSettings.Build(options.CurrentValue, _allFilters, time.TimestampFrequency);
        var learner = new OutcomeLearner(_targets, time, metrics, () => _settings);
        _leases = new LeaseTable(RoutingDefaults.MaxLeases, learner.OnCompleted, spend);
        _spend = spend;
        _index = new CandidateIndex(view, _targets, prices, metrics, () => _settings.Options);
        _pricing = new CandidatePricing(scorer, _index);
        _herd = new HerdSpread(time);
        routed?.Attach(() => _herd.Arrivals);
        _picker = new Picker(metrics, random, _herd, new HerdStrata(time));
        _subscription = options.OnChange(o =>
        {
            _settings = RouterSettings.Build(o, _allFilters, _time.TimestampFrequency);
            _index.EndpointsChanged();
        });
        _nextSweep = time.GetTimestamp();
        _decisions = new SafePublisher<RouteDecision>("router.decisions", metrics, logger);
        metrics.ObserveRouter(() => _leases.Active, () => _affinity.Count, () => _targets.Count);
    }

    public IObservable<RouteDecision> Decisions => _decisions;

    public int ActiveLeases => _leases.Active;

    internal int AffinityKeys => _affinity.Count;

    public int InFlight(string targetId)
    {
        ArgumentNullException.ThrowIfNull(targetId);
        return _targets.TryGet(targetId, out TargetState? s) ? s.InFlight : 0;
    }

    /// <summary>The targets whose state is remembered.</summary>
    internal int TargetStates => _targets.Count;

    /// <summary>True when the target's state is remembered.</summary>
    internal bool Remembers(string targetId) => _targets.Remembers(targetId);

    /// <summary>True when a decision without an explanation takes the fast path (built-in scorer and filters only).</summary>
    internal bool FastPathEnabled => _pricing.FastPathFor(_settings);

    public void Dispose()
    {
        _subscription?.Dispose();
        _index.Dispose();
        _decisions.Dispose();
    }

    public RouteDecision Route(RequestProfile request, RouteExplanation? explanation = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.CachedPromptTokens > request.InputTokens)
        {
            throw new ArgumentException($"CachedPromptTokens ({request.CachedPromptTokens}) exceeds InputTokens ({request.InputTokens}): the cached tokens are part of the prompt.", nameof(request));
        }

        RouterSettings settings = _settings;
        DateTimeOffset now = _time.GetUtcNow();
        long stamp = _time.GetTimestamp();
        double rise = _herd.Arrived(now);
        if (stamp >= Volatile.Read(ref _nextSweep))
        {
            Sweep(stamp, settings);
        }

        explanation?.Reset(request);
        RouteScratch scratch = t_scratch ??= new RouteScratch();
        scratch.Clear();

        // Candidates, filters and prices.
        _pricing.Evaluate(scratch, _index.Current(now), _index.Endpoints(settings.Options), settings, request, explanation is not null, now, stamp);

        // The affinity key's incumbent, looked up once: its cache is credited, then the picker weighs it.
        string? incumbentId = request.AffinityKey is { } key ? _affinity.Get(key, stamp, settings.AffinityTtlTicks) : null;
        if (incumbentId is not null && request.CachedPromptTokens > 0)
        {
            _pricing.CreditPromptCache(scratch, request, incumbentId, settings, now, stamp);
        }

        // The pick, then the placement (a herd draw among many candidates weighs the request by its work).
        double work = HerdSpread.WeighsAmong(scratch.Count) ? HerdSpread.Work(request) : 0;
        int chosen = _picker.Choose(scratch, incumbentId, settings.Options, rise, work, out RouteNotes flags, out int eligible);

        // The pick's money is reserved against the spend caps; a pick whose cap another routing thread
        // filled since the candidates were priced is out, and the picker picks again (docs/routing.md, "Spend reservation").
        SpendReservation spend = default;
        while (chosen >= 0 && !TryReserveSpend(scratch, chosen, request, settings, out spend))
        {
            scratch.Verdicts[chosen] = Verdict.HardRejected;
            chosen = _picker.Choose(scratch, incumbentId, settings.Options, rise, work, out flags, out eligible);
        }

        // The decision's notes counted once, whatever the reservations made the picker choose again.
        _picker.Count(flags);

        if (chosen < 0)
        {
            flags |= RouteNotes.NoRoute;
            _metrics.NoRoute();
            return Publish(scratch, explanation, new RouteDecision { Flags = flags, CandidateCount = scratch.Count, FilteredCount = scratch.Count }, incumbentId);
        }

        return Publish(scratch, explanation, Place(scratch, chosen, request, settings, stamp, flags, scratch.Count - eligible, incumbentId, in spend), incumbentId);
    }

    /// <summary>Reserves the money of candidate <paramref name="chosen"/>'s predicted cost; false when a spend cap the router enforces has no room for it.</summary>
    private bool TryReserveSpend(RouteScratch scratch, int chosen, RequestProfile request, RouterSettings settings, out SpendReservation spend)
    {
        spend = SpendReservation.For(in scratch.Costs[chosen], scratch.IsEndpointAt(chosen) ? scratch.Entries[chosen].Price : null, request.OutputTokens);
        return _spend.TryReserve(ref spend, settings.EnforcesSpendCaps);
    }

    /// <summary>Fills the explanation, clears the scratch and streams the decision.</summary>
    private RouteDecision Publish(RouteScratch scratch, RouteExplanation? explanation, in RouteDecision decision, string? incumbentId)
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
    private RouteDecision Place(RouteScratch scratch, int chosen, RequestProfile request, RouterSettings settings, long stamp, RouteNotes flags, int filtered, string? incumbentId, in SpendReservation spend)
    {
        ref readonly CostBreakdown cost = ref scratch.Costs[chosen];
        TargetState state = scratch.StateAt(chosen);
        int prefillTokens = string.Equals(state.TargetId, incumbentId, StringComparison.Ordinal) && !scratch.IsEndpointAt(chosen)
            ? request.InputTokens - request.CachedPromptTokens
            : request.InputTokens;
        ServedModel model = scratch.ModelAt(chosen);
        double prefillSeconds = prefillTokens / Math.Max(model.PrefillTokensPerSecond ?? ScoringDefaults.PrefillTokensPerSecondPrior, 1e-9);
        double decodeSeconds = state.DecodeSecondsPerToken > 0
            ? request.OutputTokens * state.DecodeSecondsPerToken
            : request.OutputTokens / Math.Max(model.DecodeTokensPerSecond ?? ScoringDefaults.DecodeTokensPerSecondPrior, 1e-9);
        double service = prefillSeconds + decodeSeconds;
        var info = new LeaseInfo(
            stamp + settings.LeaseTimeoutTicks,
            cost.NetworkLatencySeconds + prefillSeconds,
            spend,
            cost.LatencySeconds,
            cost.NetworkLatencySeconds,
            PricedService.Of(in cost, model.ParallelSlots ?? 1, service),
            DecodeFromPrior: state.DecodeSecondsPerToken <= 0 && model.DecodeTokensPerSecond is null,
            NetworkFromPrior: LeaseInfo.PricedNetworkOnPrior(in cost));
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

    private static void Explain(RouteScratch scratch, RouteExplanation explanation, string? chosen, RouteNotes flags, string? incumbentId)
    {
        for (int i = 0; i < scratch.Count; i++)
        {
            ref CandidateEntry entry = ref scratch.Entries[i];
            explanation.Add(new CandidateExplanation(entry.State.TargetId, scratch.Costs[i], scratch.Adjusted[i], entry.FailureRate, entry.RejectedBy, entry.Soft, entry.Reason));
        }

        explanation.Finish(chosen, flags, incumbentId);
    }

    /// <summary>Expires leases past their deadline and purges dead affinity entries, once per sweep interval (a quarter of the lease timeout).</summary>
    private void Sweep(long stamp, RouterSettings settings)
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
}
