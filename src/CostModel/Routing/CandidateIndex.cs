using System.Collections.Immutable;
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

/// <summary>A model's candidates in the view's index: where their slots (and their prepared terms) start, and how many.</summary>
internal sealed class ModelGroup(int index, int start, int count)
{
    public static ModelGroup None { get; } = new(-1, 0, 0);

    /// <summary>Its place in <see cref="IndexedView.Listed"/>; -1 for <see cref="None"/>.</summary>
    public int Index { get; } = index;

    public int Start { get; } = start;

    public int Count { get; } = count;

    /// <summary>The order of a herd draw over these candidates (built on the first draw; a view's ids never change in place).</summary>
    public HerdStrata.DrawOrder? DrawOrder { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); }
}

/// <summary>
/// The mesh view indexed: each node's place, state and slots, and each model's candidates
/// (consecutive slots). Its shape (which nodes, in which places, offering which models) is fixed;
/// a node's snapshot replaced with the same offers is written in place (its node, its slots' node
/// and model, its prepared terms) inside a write of <see cref="BeginWrite"/>'s sequence, so a
/// reader checks with <see cref="BeginRead"/> and <see cref="EndRead"/> that what it read is one
/// version (a seqlock: readers never wait for each other, and retry only when a write overlapped).
/// </summary>
internal sealed class IndexedView(IReadOnlyList<MeshNode>? source, MeshNode[] nodes, TargetState[] states, Dictionary<string, int> places, int[][] nodeSlots, CandidateSlot[] slots, Dictionary<string, ModelGroup> groups, ModelGroup[] listed)
{
    private static long s_lastId;

    // Odd while a write is in progress; every write adds two.
    private long _sequence;

    public static IndexedView Empty { get; } = new(null, [], [], new Dictionary<string, int>(StringComparer.Ordinal), [], [], new Dictionary<string, ModelGroup>(StringComparer.OrdinalIgnoreCase), []);

    /// <summary>Unique among all routers' views: a thread's scratch remembers its last model lookup by it (<see cref="RouteScratch.GroupOf"/>) without holding the view.</summary>
    public long Id { get; } = Interlocked.Increment(ref s_lastId);

    /// <summary>The snapshot of a host's view this index follows (compared by reference per decision); null for the library's own view, followed node by node.</summary>
    public IReadOnlyList<MeshNode>? Source { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); } = source;

    /// <summary>The node at each place, as last applied (written in place).</summary>
    public MeshNode[] Nodes { get; } = nodes;

    // The routing node's own place (its id keeps its place while this index lives); -1 for none.
    private readonly int _localPlace = Array.FindIndex(nodes, n => n.IsLocal);

    /// <summary>The routing node itself, as last applied (its link is the requester's: <see cref="CostCandidate.RequesterFactors"/>); null when the view lists none.</summary>
    public MeshNode? Local => _localPlace >= 0 ? Nodes[_localPlace] : null;

    /// <summary>The state of the node at each place.</summary>
    public TargetState[] States { get; } = states;

    /// <summary>Node id to place.</summary>
    public Dictionary<string, int> Places { get; } = places;

    /// <summary>For each place, its offers' slots, in the order of its models, then its relays.</summary>
    public int[][] NodeSlots { get; } = nodeSlots;

    /// <summary>Every candidate, each model's consecutively (written in place).</summary>
    public CandidateSlot[] Slots { get; } = slots;

    public Dictionary<string, ModelGroup> Groups { get; } = groups;

    public ModelGroup[] Listed { get; } = listed;

    // Whether the node at each place counts as another router (Routes; never the local node), and how many do.
    private readonly bool[] _routes = new bool[nodes.Length];
    private int _otherRouters;

    // How many of the other routers' ids sort before this node's (ordinal): its rank among the routers.
    private int _routerRank;

    // The rate each place's router reports placing (0 for this node, a node that does not route or does
    // not report a rate), and their sum.
    private readonly double[] _routedRates = new double[nodes.Length];
    private double _otherRoutedRate;

    /// <summary>
    /// How many routers may be placing requests in the mesh: this node and every other node of the
    /// view that routes by its own report (<see cref="Routes"/>), at least 1. The herd of a burst is
    /// estimated over them (<see cref="HerdSpread"/>): a mesh where a few gateways route for many
    /// servers is not priced as if every server routed (docs/routing.md, "How many routers").
    /// </summary>
    public int Routers => 1 + Volatile.Read(ref _otherRouters);

    /// <summary>
    /// This node's rank among the <see cref="Routers"/> by node id (ordinal), 0 to <see cref="Routers"/> - 1:
    /// where its herd draws fall among the routers' (<see cref="HerdStrata"/>). Ranked among the routers,
    /// not the candidates: gateways that serve nothing would all take the same place among the
    /// candidates' ids, and draw alike. 0 when the view does not list this node.
    /// </summary>
    public int RouterRank => Volatile.Read(ref _routerRank);

    /// <summary>
    /// The requests per second the other routers report placing (<see cref="PendingWork.RoutedPerSecond"/>
    /// of every other router that reports one): what a busy router's usual herd is taken from
    /// (<see cref="HerdSpread.BusyHerd"/>).
    /// </summary>
    public double OtherRoutedRate => Volatile.Read(ref _otherRoutedRate);

    /// <summary>
    /// True when <paramref name="node"/> counts as a router: not believed dead (a crashed router places
    /// nothing, one cut off by a partition nothing here), and its <see cref="PendingWork.RoutedPerSecond"/>
    /// is at least <see cref="PendingWork.MinRouterRate"/>, or Unknown (a node of an older version, or a
    /// host's view without it: counted, as every node was before nodes reported it). A node that
    /// reports NotSupported has no router; one below the rate has not routed for about 23 minutes.
    /// </summary>
    /// <param name="node">A node of the view.</param>
    /// <returns>True when it routes.</returns>
    public static bool Routes(MeshNode node)
    {
        Reading<double> rate = node.Factors.Pending.RoutedPerSecond;
        return node.Liveness != NodeLiveness.Dead && (rate.HasValue ? rate.RawValue >= PendingWork.MinRouterRate : rate.Quality != SignalQuality.NotSupported);
    }

    /// <summary>Counts the routers among the nodes as indexed (once, before the index is published).</summary>
    public void CountRouters()
    {
        int others = 0;
        int before = 0;
        for (int place = 0; place < Nodes.Length; place++)
        {
            _routes[place] = !Nodes[place].IsLocal && Routes(Nodes[place]);
            others += _routes[place] ? 1 : 0;
            before += _routes[place] && SortsBeforeLocal(place) ? 1 : 0;
        }

        Volatile.Write(ref _otherRouters, others);
        Volatile.Write(ref _routerRank, before);
        double rate = 0;
        for (int place = 0; place < Nodes.Length; place++)
        {
            _routedRates[place] = RoutedRate(place);
            rate += _routedRates[place];
        }

        Volatile.Write(ref _otherRoutedRate, rate);
    }

    /// <summary>Counts the node at <paramref name="place"/> again after its snapshot was written in place (inside a write).</summary>
    /// <param name="place">The node's place.</param>
    public void RecountRouter(int place)
    {
        double rate = RoutedRate(place);
        if (rate != _routedRates[place])
        {
            // Never below 0 by rounding (the sum of what is left).
            Volatile.Write(ref _otherRoutedRate, Math.Max(_otherRoutedRate - _routedRates[place] + rate, 0));
            _routedRates[place] = rate;
        }

        bool routes = !Nodes[place].IsLocal && Routes(Nodes[place]);
        if (routes != _routes[place])
        {
            _routes[place] = routes;
            Volatile.Write(ref _otherRouters, _otherRouters + (routes ? 1 : -1));
            if (SortsBeforeLocal(place))
            {
                Volatile.Write(ref _routerRank, _routerRank + (routes ? 1 : -1));
            }
        }
    }

    // The rate the router at the place reports placing, counted in OtherRoutedRate: 0 for this node and
    // for a node that does not route or reports no rate (a node of an older version adds no usual herd).
    private double RoutedRate(int place)
    {
        Reading<double> rate = Nodes[place].Factors.Pending.RoutedPerSecond;
        return !Nodes[place].IsLocal && rate.HasValue && Routes(Nodes[place]) ? rate.RawValue : 0;
    }

    // True when the node at the place sorts before this node by id (false without this node in the view).
    private bool SortsBeforeLocal(int place) => _localPlace >= 0 && string.CompareOrdinal(Nodes[place].NodeId, Nodes[_localPlace].NodeId) < 0;

    /// <summary>The terms prepared for this index (null until the first decision priced with the built-in scorer).</summary>
    public PreparedTerms? Prepared { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); }

    /// <summary>The sequence before reading: waits (on the writers' lock) while a write is in progress.</summary>
    public long BeginRead(Lock writers)
    {
        long sequence = Volatile.Read(ref _sequence);
        while ((sequence & 1) != 0)
        {
            // Writers write holding the lock: once it is free, the write is over.
            using (writers.EnterScope())
            {
                sequence = Volatile.Read(ref _sequence);
            }
        }

        return sequence;
    }

    /// <summary>True when nothing was written since <see cref="BeginRead"/> returned <paramref name="sequence"/>: what was read in between is one version.</summary>
    public bool EndRead(long sequence)
    {
        // The reads before this must not move after the sequence's second read (free on x64; a barrier on Arm64).
        Volatile.ReadBarrier();
        return Volatile.Read(ref _sequence) == sequence;
    }

    /// <summary>Starts a write (caller holds the writers' lock).</summary>
    public void BeginWrite() => Interlocked.Increment(ref _sequence);

    /// <summary>Ends a write.</summary>
    public void EndWrite() => Interlocked.Increment(ref _sequence);
}

/// <summary>
/// The configured API endpoints as last read: their states, their models and their prices from the
/// catalog (a new list when the options or the price table change), and their terms.
/// </summary>
internal sealed record EndpointList(List<ApiEndpoint>? Source, IPriceTable? Table, ApiEndpoint[] Endpoints, TargetState[] States, ServedModel[] Models, TokenPrice?[] Prices)
{
    public static EndpointList Empty { get; } = new(null, null, [], [], [], []);

    /// <summary>The terms last prepared for these endpoints (null until the first priced decision).</summary>
    public EndpointTerms? Prepared { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); }

    /// <summary>The endpoints' terms under the scorer's options and bandwidth entries: those prepared before while they hold, otherwise new ones.</summary>
    public EndpointTerms Terms(DefaultCostScorer scorer)
    {
        EndpointTerms? prepared = Prepared;
        if (prepared is not null && prepared.HoldsFor(scorer))
        {
            return prepared;
        }

        prepared = new EndpointTerms(this, scorer);
        Prepared = prepared;
        return prepared;
    }
}

/// <summary>
/// The request-independent terms of each configured endpoint under one set of scoring options: its
/// model's terms and its bandwidth entry (valid while the estimator's membership holds). Immutable;
/// replaced when the options or the bandwidth entries change, as the list itself is when the prices do.
/// </summary>
internal sealed class EndpointTerms
{
    private readonly long _membership;

    public EndpointTerms(EndpointList endpoints, DefaultCostScorer scorer)
    {
        // Membership first: an entry added after this read bumps it and the terms are prepared again.
        _membership = scorer.Bandwidth.Membership;
        Options = scorer.Options;
        Models = new ModelTerms[endpoints.Endpoints.Length];
        Links = new BandwidthEstimator.Entry?[endpoints.Endpoints.Length];
        for (int e = 0; e < Models.Length; e++)
        {
            Models[e] = new ModelTerms(endpoints.Models[e], Options);
            Links[e] = scorer.Bandwidth.Find(endpoints.States[e].TargetId);
        }
    }

    public ScoringOptions Options { get; }

    public ModelTerms[] Models { get; }

    public BandwidthEstimator.Entry?[] Links { get; }

    public bool HoldsFor(DefaultCostScorer scorer) => ReferenceEquals(Options, scorer.Options) && _membership == scorer.Bandwidth.Membership;
}

/// <summary>
/// The candidates: the mesh view indexed by model, the configured endpoints with their prices (read
/// again when the options or the price table change), and the terms prepared for them. A change of
/// one node (a new snapshot with the same offers) is applied in place: that node's slots and terms
/// only. Nodes joining or leaving, or a node's offers changing, rebuild the index. The library's own
/// view says node by node what changed (<see cref="IMeshViewListener"/>), so the index never reads
/// its whole snapshot for an update; a host's view is followed through its snapshots, compared with
/// the last one node by node. Keeps the target table to what is listed: a node the view drops and
/// an endpoint the options drop are forgotten.
/// </summary>
internal sealed class CandidateIndex : IDisposable
{
    private readonly IMeshView _view;
    private readonly MeshView? _own;
    private readonly TargetTable _targets;
    private readonly IPriceCatalog _prices;
    private readonly CostModelMetrics _metrics;
    private readonly Func<RoutingOptions> _options;
    private readonly IDisposable _listening;

    // Writers of the index (and of the endpoint list) hold it; readers never do.
    private readonly Lock _gate = new();

    // The library's view's changes not applied yet, written under its gate: the ids of nodes
    // changed in place, and whether the view was reshaped. _pending is read per decision.
    private HashSet<string> _changed = new(StringComparer.Ordinal);
    private HashSet<string> _applying = new(StringComparer.Ordinal);
    private bool _reshaped = true;
    private volatile bool _pending = true;

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

        // The library's own view says what changes node by node; a host's view is followed through
        // its change stream for removals and through its snapshots for everything.
        if (view is MeshView own)
        {
            _own = own;
            _listening = own.Listen(new Listener(this));
        }
        else
        {
            _listening = view.Changes.Subscribe(new RemovalObserver(this));
        }
    }

    public void Dispose() => _listening.Dispose();

    /// <summary>The lock writers of the index hold (a reader that finds a write in progress waits on it).</summary>
    public Lock Writers => _gate;

    /// <summary>Drops the endpoint list, so the next decision reads the options' endpoints again.</summary>
    public void EndpointsChanged() => _endpoints = EndpointList.Empty;

    /// <summary>The view's index with every change made so far applied (<paramref name="now"/>: the time terms of a changed node are prepared for).</summary>
    public IndexedView Current(DateTimeOffset now)
    {
        IndexedView current = _current;
        if (_own is not null)
        {
            return _pending ? Refresh(now) : current;
        }

        return ReferenceEquals(current.Source, _view.Nodes) ? current : Refresh(now);
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
        return prepared is not null && prepared.HoldsFor(scorer, plan, maxSnapshotAgeTicks, now.UtcTicks) ? prepared : PrepareAll(view, scorer, plan, maxSnapshotAgeTicks, now);
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
    private PreparedTerms PrepareAll(IndexedView view, DefaultCostScorer scorer, FilterPlan plan, long maxSnapshotAgeTicks, DateTimeOffset now)
    {
        lock (_gate)
        {
            PreparedTerms? prepared = view.Prepared;
            if (prepared is not null && prepared.HoldsFor(scorer, plan, maxSnapshotAgeTicks, now.UtcTicks))
            {
                return prepared;
            }

            // In place once there are terms (no allocation when the options or the clock move on).
            view.BeginWrite();
            try
            {
                prepared ??= new PreparedTerms(new CandidateTerms[view.Slots.Length]);
                prepared.PrepareAll(view, scorer, plan, maxSnapshotAgeTicks, now);
                view.Prepared = prepared;
            }
            finally
            {
                view.EndWrite();
            }

            return prepared;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private IndexedView Refresh(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _own is { } own ? ApplyChanges(own, now) : ApplySnapshot(_view.Nodes, now);
        }
    }

    /// <summary>The library's view: the nodes changed since the last call, in place, unless the view was reshaped (caller holds the gate).</summary>
    private IndexedView ApplyChanges(MeshView own, DateTimeOffset now)
    {
        bool reshaped;
        lock (own.Gate)
        {
            (_changed, _applying) = (_applying, _changed);
            reshaped = _reshaped;
            _reshaped = false;
            _pending = false;
        }

        IndexedView current = _current;
        try
        {
            if (!reshaped)
            {
                foreach (string nodeId in _applying)
                {
                    // A node the view shows and the index does not place, or the reverse, means a new shape
                    // (a node the view does not show yet, such as a gossip entry without capabilities, changes nothing).
                    bool placed = current.Places.TryGetValue(nodeId, out int place);
                    MeshNode? node = own.Find(nodeId);
                    if (placed ? node is null || !TryUpdate(current, place, node, now) : node is not null)
                    {
                        reshaped = true;
                        break;
                    }
                }
            }
        }
        finally
        {
            _applying.Clear();
        }

        // A change made after the swap above is applied again by the next decision (the snapshot read here may include it already).
        return reshaped ? Rebuild(_view.Nodes) : current;
    }

    /// <summary>A host's view: a new snapshot with the same nodes in the same places is applied node by node, in place (caller holds the gate).</summary>
    private IndexedView ApplySnapshot(IReadOnlyList<MeshNode> nodes, DateTimeOffset now)
    {
        IndexedView current = _current;
        if (ReferenceEquals(current.Source, nodes))
        {
            return current;
        }

        if (current.Source is not null && nodes.Count == current.Nodes.Length && SamePlaces(current, nodes))
        {
            bool applied = true;
            for (int place = 0; place < nodes.Count && applied; place++)
            {
                applied = TryUpdate(current, place, nodes[place], now);
            }

            if (applied)
            {
                current.Source = nodes;
                return current;
            }
        }

        return Rebuild(nodes);
    }

    private static bool SamePlaces(IndexedView current, IReadOnlyList<MeshNode> nodes)
    {
        for (int place = 0; place < nodes.Count; place++)
        {
            MeshNode node = nodes[place];
            MeshNode known = current.Nodes[place];
            if (!ReferenceEquals(node, known) && !string.Equals(node.NodeId, known.NodeId, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes <paramref name="node"/>, a new snapshot of the node at <paramref name="place"/>, into
    /// the index and its prepared terms; false (nothing written) when its offers differ, so the
    /// index must be rebuilt. Caller holds the gate.
    /// </summary>
    private static bool TryUpdate(IndexedView view, int place, MeshNode node, DateTimeOffset now)
    {
        MeshNode known = view.Nodes[place];
        if (ReferenceEquals(known, node))
        {
            return true;
        }

        if (!SameOffers(known.Capabilities, node.Capabilities) || !string.Equals(known.NodeId, node.NodeId, StringComparison.Ordinal))
        {
            return false;
        }

        view.BeginWrite();
        try
        {
            view.Nodes[place] = node;
            int[] slots = view.NodeSlots[place];
            ImmutableArray<ServedModel> models = node.Capabilities.Models;
            for (int k = 0; k < slots.Length; k++)
            {
                // A relay's model is its id alone, unchanged (SameOffers).
                ref CandidateSlot slot = ref view.Slots[slots[k]];
                slot = slot with { Node = node, Model = k < models.Length ? models[k] : slot.Model };
            }

            view.RecountRouter(place);
            view.Prepared?.PrepareNode(view, place, now);
        }
        finally
        {
            view.EndWrite();
        }

        return true;
    }

    /// <summary>True when two capabilities put a node in the same places of the index: the same models (by the index's comparison) and the same relays, in order.</summary>
    internal static bool SameOffers(NodeCapabilities a, NodeCapabilities b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.Models.Length != b.Models.Length || a.Relays.Length != b.Relays.Length)
        {
            return false;
        }

        for (int k = 0; k < a.Models.Length; k++)
        {
            if (!string.Equals(a.Models[k].ModelId, b.Models[k].ModelId, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        for (int k = 0; k < a.Relays.Length; k++)
        {
            if (!string.Equals(a.Relays[k].ModelId, b.Relays[k].ModelId, StringComparison.Ordinal) || a.Relays[k].HopCount != b.Relays[k].HopCount)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Indexes a whole snapshot (caller holds the gate): a new index, its terms prepared at the next priced decision.</summary>
    private IndexedView Rebuild(IReadOnlyList<MeshNode> nodes)
    {
        if (nodes.Count > TargetTable.MaxTargetStates)
        {
            _metrics.BoundExceeded("target-states");
        }

        var states = new TargetState[nodes.Count];
        var places = new Dictionary<string, int>(nodes.Count, StringComparer.Ordinal);
        var nodeSlots = new int[nodes.Count][];

        // First pass: each model's group, numbered in the order its first offer appears, and how
        // many offers it has; each offer's group number is kept in its node's slot for the second
        // pass. The per-model index keeps the view's order: nodes in view order, each node's offers
        // in order (models, then relays).
        var groupOf = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var counts = new List<int>();
        for (int place = 0; place < nodes.Count; place++)
        {
            MeshNode node = nodes[place];
            states[place] = _targets.ForNode(node.NodeId, place);
            places.TryAdd(node.NodeId, place);
            int[] slots = nodeSlots[place] = new int[node.Capabilities.Models.Length + node.Capabilities.Relays.Length];
            int offer = 0;
            foreach (ServedModel model in node.Capabilities.Models)
            {
                slots[offer++] = Count(groupOf, counts, model.ModelId);
            }

            foreach (RelayRoute relay in node.Capabilities.Relays)
            {
                slots[offer++] = Count(groupOf, counts, relay.ModelId);
            }
        }

        // Each model's candidates take consecutive places, the groups one after the other.
        var listed = new ModelGroup[counts.Count];
        var indexed = new Dictionary<string, ModelGroup>(counts.Count, StringComparer.OrdinalIgnoreCase);
        int total = 0;
        foreach ((string model, int index) in groupOf)
        {
            listed[index] = new ModelGroup(index, total, counts[index]);
            indexed.Add(model, listed[index]);
            total += counts[index];
        }

        // Second pass: each offer written into its group's next place, its node's slot from group number to place.
        var all = new CandidateSlot[total];
        var filled = new int[counts.Count];
        for (int place = 0; place < nodes.Count; place++)
        {
            MeshNode node = nodes[place];
            int[] slots = nodeSlots[place];
            ImmutableArray<ServedModel> models = node.Capabilities.Models;
            for (int offer = 0; offer < slots.Length; offer++)
            {
                int group = slots[offer];
                int at = slots[offer] = listed[group].Start + filled[group]++;
                all[at] = offer < models.Length
                    ? new CandidateSlot(place, node, states[place], models[offer], 0)
                    : RelaySlot(place, node, states[place], node.Capabilities.Relays[offer - models.Length]);
            }
        }

        IndexedView previous = _current;
        var next = new IndexedView(_own is null ? nodes : null, [.. nodes], states, places, nodeSlots, all, indexed, listed);
        next.CountRouters();
        ForgetUnlisted(previous, next);
        _current = next;
        return next;
    }

    /// <summary>Counts one offer of <paramref name="model"/>; a model not seen before gets the next group number.</summary>
    /// <returns>The offer's group number.</returns>
    private static int Count(Dictionary<string, int> groupOf, List<int> counts, string model)
    {
        if (groupOf.TryGetValue(model, out int index))
        {
            counts[index]++;
            return index;
        }

        groupOf.Add(model, counts.Count);
        counts.Add(1);
        return counts.Count - 1;
    }

    /// <summary>A relay's slot: its model is the relayed model's id alone.</summary>
    private static CandidateSlot RelaySlot(int place, MeshNode node, TargetState state, RelayRoute relay) =>
        new(place, node, state, new ServedModel(relay.ModelId), relay.HopCount);

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

    /// <summary>Hears the library's view under its gate: notes what to apply at the next decision, forgets a node that leaves.</summary>
    private sealed class Listener(CandidateIndex index) : IMeshViewListener
    {
        public void NodeChanged(string nodeId)
        {
            index._changed.Add(nodeId);
            index._pending = true;
        }

        public void ViewReshaped()
        {
            index._reshaped = true;
            index._pending = true;
        }

        public void NodeRemoved(string nodeId) => index.OnRemoved(nodeId);
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
