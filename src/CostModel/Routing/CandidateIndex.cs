using System.Runtime.CompilerServices;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Scoring;
using CostModel.Telemetry;

namespace CostModel.Routing;

/// <summary>A model a node offers: served itself (0 hops) or reached through relays.</summary>
internal readonly record struct ModelOffer(ServedModel Model, int Hops);

/// <summary>One candidate of a model in the per-model index: the node's place in the view, the node, its state, the model as served, relay hops.</summary>
internal readonly record struct CandidateSlot(int NodeIndex, MeshNode Node, TargetState State, ServedModel Model, int Hops);

/// <summary>A model's candidates in the view's index: their slots, and where their prepared terms start.</summary>
internal sealed class ModelGroup(int index, int start, CandidateSlot[] slots)
{
    public static ModelGroup None { get; } = new(-1, 0, []);

    /// <summary>Its place in <see cref="IndexedView.Listed"/>; -1 for <see cref="None"/>.</summary>
    public int Index { get; } = index;

    public int Start { get; } = start;

    public CandidateSlot[] Slots { get; } = slots;
}

/// <summary>One snapshot of the mesh view, indexed: each node's state and offers, and each model's candidates (consecutive slots).</summary>
internal sealed record IndexedView(IReadOnlyList<MeshNode> Nodes, TargetState[] States, ModelOffer[][] Offers, CandidateSlot[] Slots, Dictionary<string, ModelGroup> Groups, ModelGroup[] Listed)
{
    private static long s_lastId;

    public static IndexedView Empty { get; } = new([], [], [], [], new Dictionary<string, ModelGroup>(StringComparer.OrdinalIgnoreCase), []);

    /// <summary>Unique among all routers' views: a thread's scratch remembers its last model lookup by it (<see cref="RouteScratch.GroupOf"/>) without holding the view.</summary>
    public long Id { get; } = Interlocked.Increment(ref s_lastId);

    /// <summary>The terms last prepared for this view (null until the first priced decision).</summary>
    public PreparedTerms? Prepared { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); }
}

/// <summary>The configured API endpoints as last read: their states, their models and their prices from the catalog.</summary>
internal sealed record EndpointList(List<ApiEndpoint>? Source, IPriceTable? Table, ApiEndpoint[] Endpoints, TargetState[] States, ServedModel[] Models, TokenPrice?[] Prices)
{
    public static EndpointList Empty { get; } = new(null, null, [], [], [], []);
}

/// <summary>
/// The candidates: the mesh view indexed by model (rebuilt when the view's snapshot changes), the
/// configured endpoints with their prices (re-read when the options or the price table change), and
/// the terms prepared for them. Keeps the target table to what is listed: a node the view drops and
/// an endpoint the options drop are forgotten.
/// </summary>
internal sealed class CandidateIndex : IDisposable
{
    private readonly IMeshView _view;
    private readonly TargetTable _targets;
    private readonly IPriceCatalog _prices;
    private readonly CostModelMetrics _metrics;
    private readonly Func<RoutingOptions> _options;
    private readonly IDisposable _removals;
    private readonly Lock _gate = new();

    // The endpoints' states as last configured (under _gate): those of an endpoint dropped from the options are forgotten.
    private TargetState[] _endpointStates = [];
    private volatile IndexedView _current = IndexedView.Empty;
    private volatile EndpointList _endpoints = EndpointList.Empty;

    /// <param name="view">The mesh view.</param>
    /// <param name="targets">The router's target table.</param>
    /// <param name="prices">The price catalog for the endpoints.</param>
    /// <param name="metrics">Where bounds exceeded are counted.</param>
    /// <param name="options">The routing options in force (the endpoints configured).</param>
    public CandidateIndex(IMeshView view, TargetTable targets, IPriceCatalog prices, CostModelMetrics metrics, Func<RoutingOptions> options)
    {
        _view = view;
        _targets = targets;
        _prices = prices;
        _metrics = metrics;
        _options = options;

        // The library's own view says who leaves without an event per update; a host's view is
        // followed through its change stream (and, whatever it says, through its snapshots).
        _removals = view is MeshView own
            ? own.ListenForRemovals(OnRemoved)
            : view.Changes.Subscribe(new RemovalObserver(this));
    }

    public void Dispose() => _removals.Dispose();

    /// <summary>Drops the endpoint list, so the next decision reads the options' endpoints again.</summary>
    public void EndpointsChanged() => _endpoints = EndpointList.Empty;

    /// <summary>The view's index, rebuilt when the view's snapshot is a new one.</summary>
    public IndexedView Current()
    {
        IReadOnlyList<MeshNode> nodes = _view.Nodes;
        IndexedView cache = _current;
        if (ReferenceEquals(cache.Nodes, nodes))
        {
            return cache;
        }

        lock (_gate)
        {
            cache = _current;
            if (ReferenceEquals(cache.Nodes, nodes))
            {
                return cache;
            }

            if (nodes.Count > TargetTable.MaxTargetStates)
            {
                _metrics.BoundExceeded("target-states");
            }

            var states = new TargetState[nodes.Count];
            var offers = new ModelOffer[nodes.Count][];
            var groups = new Dictionary<string, List<CandidateSlot>>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < nodes.Count; i++)
            {
                MeshNode node = nodes[i];
                states[i] = _targets.ForNode(node.NodeId, i);
                var list = new List<ModelOffer>(node.Capabilities.Models.Length + node.Capabilities.Relays.Length);
                foreach (ServedModel model in node.Capabilities.Models)
                {
                    list.Add(new ModelOffer(model, 0));
                }

                foreach (RelayRoute relay in node.Capabilities.Relays)
                {
                    list.Add(new ModelOffer(new ServedModel(relay.ModelId), relay.HopCount));
                }

                offers[i] = [.. list];

                // The per-model index keeps the view's order: nodes in view order, each node's offers in order.
                foreach (ModelOffer offer in offers[i])
                {
                    if (!groups.TryGetValue(offer.Model.ModelId, out List<CandidateSlot>? group))
                    {
                        group = [];
                        groups.Add(offer.Model.ModelId, group);
                    }

                    group.Add(new CandidateSlot(i, node, states[i], offer.Model, offer.Hops));
                }
            }

            // Each model's candidates take consecutive places in the prepared terms.
            var indexed = new Dictionary<string, ModelGroup>(StringComparer.OrdinalIgnoreCase);
            var listed = new List<ModelGroup>();
            var all = new List<CandidateSlot>();
            foreach ((string model, List<CandidateSlot> slots) in groups)
            {
                var group = new ModelGroup(listed.Count, all.Count, [.. slots]);
                indexed.Add(model, group);
                listed.Add(group);
                all.AddRange(slots);
            }

            IndexedView previous = _current;
            cache = new IndexedView(nodes, states, offers, [.. all], indexed, [.. listed]);
            ForgetUnlisted(previous, cache);
            _current = cache;
            return cache;
        }
    }

    /// <summary>
    /// The view's prepared terms, valid now: prepared again when a reading they used has turned
    /// stale (or the clock went back), the scoring options changed, a node's bandwidth entry
    /// appeared or went, or the routing options changed (the filters' verdicts, the maximum
    /// snapshot age). A node whose snapshot, options and validity are unchanged keeps its terms.
    /// </summary>
    public PreparedTerms Terms(IndexedView view, DefaultCostScorer scorer, FilterPlan plan, long maxSnapshotAgeTicks, DateTimeOffset now)
    {
        PreparedTerms? prepared = view.Prepared;
        return prepared is not null && prepared.HoldsFor(scorer, plan, maxSnapshotAgeTicks, now.UtcTicks) ? prepared : Prepare(view, scorer, plan, maxSnapshotAgeTicks, now);
    }

    /// <summary>The configured endpoints, read again when the options or the price table changed.</summary>
    public EndpointList Endpoints(RoutingOptions options)
    {
        IPriceTable table = _prices.Current;
        EndpointList cache = _endpoints;
        if (ReferenceEquals(cache.Table, table) && ReferenceEquals(cache.Source, options.ApiEndpoints))
        {
            return cache;
        }

        lock (_gate)
        {
            List<ApiEndpoint> endpoints = options.ApiEndpoints;
            var states = new TargetState[endpoints.Count];
            var models = new ServedModel[endpoints.Count];
            var prices = new TokenPrice?[endpoints.Count];
            for (int i = 0; i < endpoints.Count; i++)
            {
                ApiEndpoint e = endpoints[i];
                states[i] = _targets.ForEndpoint(e.Id);
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
                if (Array.IndexOf(states, old) < 0 && old.ListedInView != _current.Id)
                {
                    _targets.Forget(old);
                }
            }

            _endpointStates = states;
            cache = new EndpointList(endpoints, table, [.. endpoints], states, models, prices);
            _endpoints = cache;
            return cache;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private PreparedTerms Prepare(IndexedView view, DefaultCostScorer scorer, FilterPlan plan, long maxSnapshotAgeTicks, DateTimeOffset now)
    {
        long ticks = now.UtcTicks;
        lock (_gate)
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
                CandidateSlot slot = view.Slots[i];
                candidates[i] = new CandidateTerms(in slot, new TargetTerms(in terms[slot.NodeIndex], new ModelTerms(slot.Model, o), slot.Node.IsLocal, slot.Hops, null, o), links[slot.NodeIndex], plan, maxSnapshotAgeTicks);
            }

            prepared = new PreparedTerms(o, plan, maxSnapshotAgeTicks, membership, from, until, candidates);
            view.Prepared = prepared;
            return prepared;
        }
    }

    /// <summary>
    /// Marks the states <paramref name="next"/> lists and forgets those <paramref name="previous"/>
    /// listed that it does not (under the gate). Every remembered node state is in the current
    /// index, so this keeps the table to the view: O(both views), no lookup by id.
    /// </summary>
    private void ForgetUnlisted(IndexedView previous, IndexedView next)
    {
        foreach (TargetState state in next.States)
        {
            state.ListedInView = next.Id;
        }

        foreach (TargetState state in previous.States)
        {
            if (state.ListedInView != next.Id && !IsConfiguredEndpoint(state.TargetId))
            {
                _targets.Forget(state);
            }
        }
    }

    /// <summary>Forgets a node that left the view, unless an endpoint of the same id is configured (they share the state).</summary>
    private void OnRemoved(string nodeId)
    {
        if (!IsConfiguredEndpoint(nodeId))
        {
            _targets.Forget(nodeId);
        }
    }

    private bool IsConfiguredEndpoint(string targetId)
    {
        foreach (ApiEndpoint endpoint in _options().ApiEndpoints)
        {
            if (string.Equals(endpoint.Id, targetId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets each node a host's view removes (on the view's writer thread: a lookup and a flag, nothing more).</summary>
    private sealed class RemovalObserver(CandidateIndex index) : IObserver<MeshChange>
    {
        public void OnNext(MeshChange value)
        {
            if (value.Kind == MeshChangeKind.Removed)
            {
                index.OnRemoved(value.NodeId);
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
}
