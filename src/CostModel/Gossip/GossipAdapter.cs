using System.Security.Cryptography;
using System.Text;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CostModel.Gossip;

/// <summary>
/// The gossip adapter: publishes this node's factors on significant change (and as heartbeats),
/// relays what it hears, merges what it believes into the <see cref="MeshView"/>, and tracks each
/// node's liveness. The host moves the bytes (<see cref="IGossipAdapter"/>).
/// </summary>
/// <remarks>
/// Call <see cref="Start"/> once the host is wired: a timer on the injected <see cref="TimeProvider"/>
/// then samples the collector, publishes, relays (in push mode) and checks liveness every
/// <see cref="GossipOptions.Interval"/>. Thread-safe: <see cref="Receive"/>, <see cref="WritePayload"/>
/// and the timer may run concurrently. <see cref="Receive"/> allocates nothing for a known node.
/// </remarks>
public sealed partial class GossipAdapter : IGossipAdapter, IDisposable
{
    // 4,096 peers: the view's default cap; the sync-reply rate limit remembers at most this many
    // addresses and starts afresh when full (a flood of forged addresses costs replies, not memory).
    private const int MaxTrackedPeers = 4_096;

    private readonly ICostCollector _collector;
    private readonly MeshView _view;
    private readonly ICostScorer _scorer;
    private readonly TimeProvider _time;
    private readonly CostModelMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SafePublisher<GossipMessage> _outgoing;
    private readonly PeerTable _peers = new();
    private readonly Dictionary<string, Tombstone> _tombstones = new(StringComparer.Ordinal);
    private readonly Queue<string> _tombstoneOrder = new();
    private readonly Dictionary<string, long> _lastSyncReply = new(StringComparer.Ordinal);
    // The changes to log and count (every kind but Updated, which is neither), and whether any change
    // at all waits in the view's queue for FlushChanges to deliver: updates are most changes, and
    // copying each batch of them out to skip them cost an array per received message.
    private readonly List<MeshChange> _pendingChanges = [];
    private bool _changesQueued;
    private readonly List<(int Slot, bool Capabilities)> _sent = [];
    private readonly RelayQueue _relays;
    private readonly IDisposable? _gossipSubscription;
    private readonly IDisposable? _collectionSubscription;
    private readonly IOptionsMonitor<GossipOptions> _gossipOptions;
    private readonly IOptionsMonitor<CollectionOptions> _collectionOptions;
    private readonly byte[] _selfIdUtf8;
    private readonly string _selfId;
    private readonly TrendEstimator _trends;
    private readonly long _startTimestamp;
    private readonly SenderProofs _proofs;
    private readonly TokenBucket _syncReplyBytes;

    private volatile Settings _settings;
    private GossipKeyring? _retiredKeyring;
    private SignificanceGate _gate;
    private ITimer? _timer;
    private NodeCostFactors? _local;
    private NodeCapabilities _capabilities;
    // This node's state as last published, with its groups' exact observation times: each write
    // computes the ages from them afresh (a peer's record keeps only the ages it arrived with).
    private WireOwnState _self;
    private bool _selfPublished;
    private long _selfVersion;

    // The last own generation refused for publishing (logged once each).
    private long _refusedGeneration = -1;

    // Whether the mesh's gossip keeps up, judged from the ages of the states merged (under the view's gate).
    private readonly GossipFreshness _freshness = new();
    private int _selfTransmits;
    private int _selfCapabilityTransmits;
    private long _nextSampleTicks;

    // The nodes due in this liveness round, taken out of the peer table's liveness queue
    // (PeerTable.LivenessQueue: each remote node under the earliest timestamp at which its liveness can
    // change, LivenessPolicy.NextChange) in its order, deadline then slot: a round looks only at the
    // nodes due, not at every node of the view (in a large mesh some node is nearly always due, so a
    // pass over all of them ran nearly every round). Heartbeats only lower a node's deadline there;
    // a later one is found when the earlier comes due.
    private readonly List<int> _livenessDue = [];

    // Work counters for the scale regression tests: rounds that looked at some node's liveness, nodes
    // looked at, and records looked at while filling messages.
    private long _livenessPasses;
    private long _livenessChecks;
    private long _relayRecordsVisited;
    private int _ticking;
    private GossipStatistics _stats;
    private int _disposed;

    /// <summary>Creates the adapter: <c>AddGossip()</c> on the CostModel builder registers it, over the library's own mesh view.</summary>
    /// <param name="collector">This node's collector.</param>
    /// <param name="view">The mesh view the router reads.</param>
    /// <param name="scorer">Prices the reference request that decides what is a significant change.</param>
    /// <param name="gossip">Gossip options, followed live (but for those fixed at start).</param>
    /// <param name="node">This node's identity (fixed at start).</param>
    /// <param name="collection">The sample interval and trend windows, followed live.</param>
    /// <param name="time">The clock.</param>
    /// <param name="metrics">Counters.</param>
    /// <param name="logger">Debug logs of every rejection; null for none.</param>
    /// <exception cref="ArgumentException">The node id is longer than 64 UTF-8 bytes, or the options are invalid.</exception>
    internal GossipAdapter(
        ICostCollector collector,
        MeshView view,
        ICostScorer scorer,
        IOptionsMonitor<GossipOptions> gossip,
        IOptions<CostModelOptions> node,
        IOptionsMonitor<CollectionOptions> collection,
        TimeProvider time,
        CostModelMetrics metrics,
        ILogger<GossipAdapter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(collector);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(gossip);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(metrics);
        _collector = collector;
        _view = view;
        _scorer = scorer;
        _time = time;
        _metrics = metrics;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _outgoing = new SafePublisher<GossipMessage>("gossip.outgoing", metrics, _logger);
        _relays = new RelayQueue(_peers);

        _gossipOptions = gossip;
        _collectionOptions = collection;
        _selfId = node.Value.NodeId;
        _selfIdUtf8 = Encoding.UTF8.GetBytes(_selfId);
        if (_selfIdUtf8.Length > WireFormat.MaxNodeIdBytes)
        {
            throw new ArgumentException($"The node id '{_selfId}' is {_selfIdUtf8.Length} UTF-8 bytes; gossip carries at most {WireFormat.MaxNodeIdBytes}.", nameof(node));
        }

        _capabilities = new NodeCapabilities(_selfId, 0);
        _trends = new TrendEstimator(collection.CurrentValue);
        _settings = Settings.From(gossip.CurrentValue, collection.CurrentValue, time);
        _startTimestamp = time.GetTimestamp();
        _proofs = new SenderProofs(_settings.Options.MaxNodes, 0);
        _syncReplyBytes = new TokenBucket(SyncReplyBytesPerSecond, SyncReplyBytesPerSecond, 1_000, 0);
        LogKeyring(_settings);
        _gate = new SignificanceGate(scorer, _settings.Publish);
        _gossipSubscription = gossip.OnChange((_, _) => OnOptionsChanged());
        _collectionSubscription = collection.OnChange((_, _) => OnOptionsChanged());
    }

    /// <inheritdoc />
    public IObservable<GossipMessage> Outgoing => _outgoing;

    /// <summary>This node's id.</summary>
    public string NodeId => _selfId;

    /// <summary>What this node serves, as gossiped.</summary>
    public NodeCapabilities Capabilities
    {
        get
        {
            lock (_view.Gate)
            {
                return _capabilities;
            }
        }
    }

    /// <summary>Counts of what the adapter received, merged, refused and sent since it was created.</summary>
    public GossipStatistics Statistics
    {
        get
        {
            lock (_view.Gate)
            {
                return _stats;
            }
        }
    }

    /// <summary>
    /// Starts the rounds: sampling this node, publishing, relaying (push) and checking liveness every
    /// <see cref="GossipOptions.Interval"/>. Idempotent. In a Generic Host, <c>AddGossip()</c>'s hosted
    /// service calls it at start and <see cref="Stop"/> at shutdown.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The adapter was disposed.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        lock (_view.Gate)
        {
            _timer ??= _time.CreateTimer(static state => ((GossipAdapter)state!).Tick(), this, TimeSpan.Zero, _settings.Options.Interval);
        }
    }

    /// <summary>Stops the rounds (a round in progress finishes); <see cref="Receive"/> still works. Idempotent; <see cref="Start"/> starts them again.</summary>
    public void Stop()
    {
        ITimer? timer;
        lock (_view.Gate)
        {
            timer = _timer;
            _timer = null;
        }

        timer?.Dispose();
    }

    /// <summary>True while the rounds run.</summary>
    public bool IsRunning
    {
        get
        {
            lock (_view.Gate)
            {
                return _timer is not null;
            }
        }
    }

    /// <summary>
    /// How much work the rounds did, for tests that guard against per-round costs growing with the
    /// mesh: rounds that looked at some node's liveness, nodes whose liveness was looked at, and
    /// queued records looked at while filling messages.
    /// </summary>
    internal (long LivenessPasses, long LivenessChecks, long RelayRecordsVisited) WorkCounters
    {
        get
        {
            lock (_view.Gate)
            {
                return (_livenessPasses, _livenessChecks, _relayRecordsVisited);
            }
        }
    }

    /// <summary>
    /// Capabilities shared with other adapters of this process (the simulator's nodes, each with its
    /// own container): a node's capabilities of one generation and version are then held once, not
    /// once per node that heard them, each exact capabilities record is decoded once, and node ids
    /// are held once with their UTF-8 bytes. Null (the default): each adapter holds its own.
    /// </summary>
    internal CapabilitiesInterner? SharedCapabilities { get; set; }

    /// <summary>Remote nodes in the view by liveness (for the health check): alive, suspect, dead.</summary>
    internal (int Alive, int Suspect, int Dead) PeerLiveness()
    {
        lock (_view.Gate)
        {
            int alive = 0, suspect = 0, dead = 0;
            foreach (int slot in _peers.Slots)
            {
                ref readonly PeerRecord node = ref _peers[slot];
                if (!node.HasState)
                {
                    continue;
                }

                switch (node.Liveness)
                {
                    case NodeLiveness.Alive: alive++; break;
                    case NodeLiveness.Suspect: suspect++; break;
                    default: dead++; break;
                }
            }

            return (alive, suspect, dead);
        }
    }

    /// <summary>Sets what this node serves; published at once (capabilities change seldom and travel on change).</summary>
    /// <param name="capabilities">This node's capabilities (its node id must be this node's).</param>
    /// <exception cref="ArgumentException">The capabilities describe another node, name a model or relay by an id longer than gossip carries (<see cref="WireFormat.MaxTextBytes"/> UTF-8 bytes), or do not fit one message.</exception>
    public void SetCapabilities(NodeCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        if (!string.Equals(capabilities.NodeId, _selfId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Capabilities of '{capabilities.NodeId}' given to node '{_selfId}'.", nameof(capabilities));
        }

        // A model id the factor model takes (128 characters) may be longer on the wire outside ASCII: named,
        // not "does not fit". (A relay's node id is at most 64 characters, 192 bytes: it always fits.)
        IEnumerable<string> ids = capabilities.Models.Select(m => m.ModelId).Concat(capabilities.Relays.Select(r => r.ModelId));
        if (ids.FirstOrDefault(id => System.Text.Encoding.UTF8.GetByteCount(id) > WireFormat.MaxTextBytes) is { } tooLong)
        {
            throw new ArgumentException($"The id '{tooLong}' is {System.Text.Encoding.UTF8.GetByteCount(tooLong)} UTF-8 bytes; gossip carries at most {WireFormat.MaxTextBytes}.", nameof(capabilities));
        }

        Settings s = _settings;
        byte[] probe = new byte[s.Options.Mtu];
        if (!WireCodec.TryWriteCapabilities(probe.AsSpan(0, s.Options.Mtu - WireFormat.Overhead(s.Keyring.Protection)), _selfIdUtf8, 0, capabilities, out _))
        {
            throw new ArgumentException($"The capabilities do not fit one {s.Options.Mtu}-byte message; serve fewer models or relays, or shorten their ids.", nameof(capabilities));
        }

        NodeCostFactors? local;
        lock (_view.Gate)
        {
            _capabilities = capabilities with { Version = Math.Max(capabilities.Version, _capabilities.Version + 1) };
            _selfCapabilityTransmits = SelfTransmitLimit(s);
            _self.State.CapabilitiesVersion = _capabilities.Version;
            local = _local;
        }

        if (local is not null)
        {
            _view.Upsert(new MeshNode(local, _capabilities) { IsLocal = true }, _time.GetUtcNow());
        }
    }

    /// <inheritdoc />
    public int WritePayload(Span<byte> destination)
    {
        Settings s = _settings;
        int budget = Math.Min(destination.Length, s.Options.Mtu);
        if (budget < WireFormat.Overhead(s.Keyring.Protection) + WireCodec.StateRecordBytes(1))
        {
            return 0;
        }

        lock (_view.Gate)
        {
            return WriteDisseminationLocked(destination[..budget], s, _time.GetUtcNow().UtcTicks);
        }
    }

    /// <summary>
    /// Writes this node's latest state and capabilities as one sealed gossip message, for a store
    /// that nodes joining later or outside watchers read (a transport's key-value bucket). Relay
    /// counts and statistics are untouched: it is a copy of what was published, not a new publication.
    /// </summary>
    /// <param name="destination">The space offered; at most the MTU is used.</param>
    /// <returns>Bytes written: 0 when nothing fits, or before this node's first publication.</returns>
    public int WriteState(Span<byte> destination)
    {
        Settings s = _settings;
        Span<byte> message = destination[..Math.Min(destination.Length, s.Options.Mtu)];
        lock (_view.Gate)
        {
            if (!_selfPublished || message.Length < WireFormat.Overhead(s.Keyring.Protection) + WireCodec.StateRecordBytes(1))
            {
                return 0;
            }

            int at = WireCodec.WriteHeader(message, MessageType.Gossip, s.ClusterHash, s.Keyring, ClockMilliseconds());
            int end = message.Length - WireFormat.TrailerBytes(s.Keyring.Protection);
            if (!WireCodec.TryWriteState(message[at..end], _selfIdUtf8, _self, _time.GetUtcNow().UtcTicks, out int written))
            {
                return 0;
            }

            at += written;
            if (WireCodec.TryWriteCapabilities(message[at..end], _selfIdUtf8, _self.State.Generation, _capabilities, out written))
            {
                at += written;
            }

            return WireCodec.Seal(message, at, s.Keyring);
        }
    }

    /// <inheritdoc />
    public int WriteSyncRequest(Span<byte> destination)
    {
        Settings s = _settings;
        if (destination.Length < s.Options.Mtu)
        {
            throw new ArgumentException($"The destination must hold {s.Options.Mtu} bytes (the MTU).", nameof(destination));
        }

        lock (_view.Gate)
        {
            Span<byte> message = destination[..s.Options.Mtu];
            long now = _time.GetUtcNow().UtcTicks;
            int at = WireCodec.WriteHeader(message, MessageType.SyncRequest, s.ClusterHash, s.Keyring, ClockMilliseconds());
            int end = message.Length - WireFormat.TrailerBytes(s.Keyring.Protection);
            if (_selfPublished && WireCodec.TryWriteState(message[at..end], _selfIdUtf8, _self, now, out int written))
            {
                at += written;
            }

            if (WireCodec.TryWriteCapabilities(message[at..end], _selfIdUtf8, _self.State.Generation, _capabilities, out written))
            {
                at += written;
            }

            _stats = _stats with { Sent = _stats.Sent + 1 };
            _metrics.GossipSent("sync-request");
            return WireCodec.Seal(message, at, s.Keyring);
        }
    }

    /// <inheritdoc />
    public bool Receive(ReadOnlySpan<byte> payload, string from)
    {
        from ??= "unknown";
        bool accepted = false;
        try
        {
            accepted = ReceiveCore(payload, from, held: null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The contract: Receive never throws to the host. Any fault here is a bug or an input
            // no check anticipated; it is logged and counted, and nothing half-merged is kept
            // (merges copy whole states under the gate).
            Log.GossipReceiveFailed(_logger, from, ex);
            _metrics.GossipRejected("internal-error");
            lock (_view.Gate)
            {
                _stats = _stats with { Rejected = _stats.Rejected + 1 };
            }
        }

        FlushChanges();
        return accepted;
    }

    /// <summary>Runs one round now: sample if due, publish if significant, relay (push), check liveness. The timer calls it.</summary>
    internal void Tick()
    {
        // A round still running (a slow probe) makes the timer's next call a no-op, not a second round at once.
        if (_disposed != 0 || Interlocked.Exchange(ref _ticking, 1) != 0)
        {
            return;
        }

        try
        {
            TickCore();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A timer callback must not throw (it would end the process); a failing round is logged and the next one runs.
            Log.GossipRoundFailed(_logger, ex);
            _metrics.GossipRejected("round-failed");
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }

        FlushChanges();
    }

    /// <summary>
    /// For benchmarks: forgets the version known for a node, so the next state received from it
    /// counts as newer and is merged (a benchmark cannot precompute an endless run of versions).
    /// </summary>
    internal void RewindVersion(string nodeId)
    {
        lock (_view.Gate)
        {
            if (_peers.TryFind(nodeId, out int slot))
            {
                _peers[slot].State.Version = 0;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _timer?.Dispose();
        _gossipSubscription?.Dispose();
        _collectionSubscription?.Dispose();
        _outgoing.Dispose();

        lock (_view.Gate)
        {
            _retiredKeyring?.Dispose();
            _retiredKeyring = null;
        }
    }

    /// <summary>This node's monotonic clock in milliseconds since the adapter was created: the sender clock its messages carry.</summary>
    private long ClockMilliseconds() => (long)_time.GetElapsedTime(_startTimestamp).TotalMilliseconds;

    /// <summary>
    /// Hands a message (always a fresh array) to <see cref="Outgoing"/>'s subscribers: one
    /// <c>OnNext</c> at a time whichever thread calls (the Rx contract), and a subscriber's exception
    /// is logged and counted, never thrown into the round or the receive that produced the message.
    /// </summary>
    private void Emit(GossipMessage message) => _outgoing.Publish(message);

    private void TickCore()
    {
        Settings s = _settings;
        DateTimeOffset now = _time.GetUtcNow();
        long nowTicks = now.UtcTicks;

        NodeCostFactors? sampled = null;
        if (nowTicks >= Volatile.Read(ref _nextSampleTicks))
        {
            // Trends (battery %/h, load slope) come from the history of samples, as Observe computes them.
            sampled = _trends.Add(_collector.Collect());
            Volatile.Write(ref _nextSampleTicks, nowTicks + s.SampleIntervalTicks);
        }

        bool published = false;
        bool freshnessChanged;
        FreshnessWindow freshness;
        lock (_view.Gate)
        {
            if (sampled is not null)
            {
                _local = sampled;
            }

            if (_local is { } local && (sampled is not null || now >= _gate.NextDueAt))
            {
                if (UnpublishableGeneration(local.Generation, now, s.MaxGenerationLeadMilliseconds) is { } why)
                {
                    // Every peer would refuse the state, and with it the whole message: publish nothing,
                    // say so once per generation (counted at each sample or due heartbeat), and keep the
                    // round's other work (relays, liveness) going.
                    _metrics.GossipRejected("unpublishable-generation");
                    if (local.Generation != _refusedGeneration)
                    {
                        _refusedGeneration = local.Generation;
                        Log.GossipGenerationUnpublishable(_logger, local.Generation, why);
                    }
                }
                else
                {
                    PublishReason reason = _gate.Evaluate(local, now);
                    if (reason != PublishReason.None)
                    {
                        PublishLocked(local, reason, s);
                        published = true;
                    }
                }
            }

            CheckLivenessLocked(s, now);
            freshnessChanged = _freshness.TryClose(nowTicks, out freshness);
        }

        if (freshnessChanged)
        {
            if (_freshness.Behind)
            {
                Log.GossipBehind(_logger, freshness.LateShare, freshness.Merged, s.Options.MaxSilence.TotalSeconds, freshness.MeanAgeSeconds);
            }
            else
            {
                Log.GossipCaughtUp(_logger, freshness.LateShare, freshness.Merged, freshness.MeanAgeSeconds);
            }
        }

        if (sampled is not null)
        {
            _view.Upsert(new MeshNode(sampled, Capabilities) { IsLocal = true }, now);
        }

        if (s.Options.Dissemination == GossipDissemination.Push && (published || HasPendingTransmits()))
        {
            byte[] buffer = new byte[s.Options.Mtu];
            int length;
            lock (_view.Gate)
            {
                length = WriteDisseminationLocked(buffer, s, nowTicks);
            }

            if (length > 0)
            {
                Emit(new GossipMessage(buffer.AsMemory(0, length), null));
            }
        }
    }

    private bool HasPendingTransmits()
    {
        lock (_view.Gate)
        {
            return _selfTransmits > 0 || _selfCapabilityTransmits > 0 || _relays.Count > 0;
        }
    }

    /// <summary>
    /// Why every peer would refuse a state of this node's <paramref name="generation"/> (the receive
    /// path's checks: <c>out-of-range</c>, <c>generation-too-far-ahead</c>), or null when they take it.
    /// A generation is the node's start time in Unix milliseconds (<see cref="Collection.CostCollector"/>
    /// takes it so); a host's own collector may have chosen another number.
    /// </summary>
    /// <param name="generation">The generation.</param>
    /// <param name="now">This node's clock.</param>
    /// <param name="maxLeadMilliseconds">How far ahead of a receiver's clock a generation may be (<see cref="GossipOptions.MaxGenerationLead"/>).</param>
    internal static string? UnpublishableGeneration(long generation, DateTimeOffset now, long maxLeadMilliseconds)
    {
        if (generation == 0)
        {
            return "0 stands for no state on the wire; a generation is the node's start time in Unix milliseconds";
        }

        if (generation > WireFormat.MaxGeneration)
        {
            return "it does not fit the wire's 48 bits; a generation is the node's start time in Unix milliseconds";
        }

        return generation > now.ToUnixTimeMilliseconds() + maxLeadMilliseconds
            ? "it is more than CostModel:Gossip:MaxGenerationLead ahead of this node's clock as Unix milliseconds, which peers refuse (generation-too-far-ahead)"
            : null;
    }

    private void PublishLocked(NodeCostFactors local, PublishReason reason, Settings s)
    {
        if (_selfPublished && local.Generation != _self.State.Generation)
        {
            _selfVersion = 0;
        }

        WireQuantizer.FromFactors(local, _capabilities.Version, ref _self);
        _self.State.Version = ++_selfVersion;
        _selfPublished = true;
        _selfTransmits = SelfTransmitLimit(s);

        // Capabilities ride every heartbeat once, so a peer that missed them catches up within the maximum silence.
        if (reason is PublishReason.Heartbeat or PublishReason.First)
        {
            _selfCapabilityTransmits = Math.Max(_selfCapabilityTransmits, 1);
        }

        _stats = _stats with { Published = _stats.Published + 1 };
        string name = ReasonName(reason);
        _metrics.GossipPublished(name);
        Log.GossipPublished(_logger, _selfVersion, name);
    }

    private static string ReasonName(PublishReason reason) => reason switch
    {
        PublishReason.First => "first",
        PublishReason.Significant => "significant",
        PublishReason.Categorical => "categorical",
        PublishReason.Heartbeat => "heartbeat",
        _ => "none",
    };

    /// <summary>
    /// Tells the view that gossip's record of a node changed (it rebuilds the entry when read; its
    /// listeners, the router's prepared terms among them, hear which node) and queues
    /// <paramref name="change"/> for subscribers, under the view's gate; nothing when the host has
    /// since written or removed the node's entry itself (<see cref="PeerRecord.Released"/>): the view
    /// shows the host's description, and a "dead" or "removed" of gossip's record would misreport it.
    /// </summary>
    private void TellViewLocked(in PeerRecord node, MeshChangeKind? change, DateTimeOffset now)
    {
        if (node.Released)
        {
            return;
        }

        _view.InvalidateLocked(node.NodeId);
        if (change is { } kind)
        {
            AddChangeLocked(new MeshChange(node.NodeId, kind, now));
        }
    }

    /// <summary>Records a change of the view, under its gate: queued there in the order decided (Suspect before Dead), delivered by <see cref="FlushChanges"/>.</summary>
    private void AddChangeLocked(MeshChange change)
    {
        if (change.Kind != MeshChangeKind.Updated)
        {
            _pendingChanges.Add(change);
        }

        _changesQueued = true;
        _view.EnqueueChangeLocked(change);
    }

    /// <summary>Logs and counts the changes recorded, then delivers them to the view's subscribers (outside the gate).</summary>
    private void FlushChanges()
    {
        MeshChange[] changes;
        lock (_view.Gate)
        {
            if (!_changesQueued)
            {
                return;
            }

            _changesQueued = false;
            changes = _pendingChanges.Count == 0 ? [] : [.. _pendingChanges];
            _pendingChanges.Clear();
        }

        foreach (MeshChange change in changes)
        {
            string kind = KindName(change.Kind);
            Log.MeshChanged(_logger, change.NodeId, kind);
            _metrics.MeshChanged(kind);
        }

        _view.DeliverChanges();
    }

    // The kinds' names without boxing the enum (its ToString would, once per change).
    private static string KindName(MeshChangeKind kind) => kind switch
    {
        MeshChangeKind.Joined => nameof(MeshChangeKind.Joined),
        MeshChangeKind.Updated => nameof(MeshChangeKind.Updated),
        MeshChangeKind.Suspect => nameof(MeshChangeKind.Suspect),
        MeshChangeKind.Dead => nameof(MeshChangeKind.Dead),
        MeshChangeKind.Recovered => nameof(MeshChangeKind.Recovered),
        MeshChangeKind.Removed => nameof(MeshChangeKind.Removed),
        _ => kind.ToString(),
    };

    private int RetransmitLimit(Settings s) =>
        s.Options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(_peers.Count + 2));

    /// <summary>This node's own updates go out at least once, even when nothing is relayed (<see cref="GossipOptions.RetransmitMultiplier"/> 0).</summary>
    private int SelfTransmitLimit(Settings s) => Math.Max(1, RetransmitLimit(s));

    /// <summary>Says how messages are protected: at Debug with keys, as a warning without (anyone who reaches this node can read and forge the mesh's state).</summary>
    private void LogKeyring(Settings s)
    {
        if (s.Keyring.IsEnabled)
        {
            Log.GossipKeyring(_logger, s.Keyring.Count, s.Keyring.Protection == WireProtection.Encrypted ? "AES-256-GCM" : "HMAC-SHA256, not encrypted");
        }
        else
        {
            Log.GossipUnauthenticated(_logger);
        }
    }

    private void OnOptionsChanged()
    {
        try
        {
            Settings next = Settings.From(_gossipOptions.CurrentValue, _collectionOptions.CurrentValue, _time);
            LogKeyring(next);
            lock (_view.Gate)
            {
                // The keyring replaced now may still be in use by a round or a receive that read the
                // old settings; the one replaced before it cannot be, and its keys are freed.
                _retiredKeyring?.Dispose();
                _retiredKeyring = ReferenceEquals(_settings.Keyring, next.Keyring) ? null : _settings.Keyring;
                _settings = next;
                _gate = new SignificanceGate(_scorer, next.Publish);

                // New thresholds move every deadline: the next round looks at every node again.
                ScheduleEveryNodeLocked();
            }
        }
        catch (ArgumentException ex)
        {
            // Validation refuses bad options at start; a reload the validator did not see keeps the last good settings.
            Log.GossipOptionsRefused(_logger, ex);
            _metrics.GossipRejected("options-invalid");
        }
    }

    // 5: the default 5 s heartbeat gives the detector's default 1 s deviation floor.
    private const int MinDeviationPerInterval = 5;

    /// <summary>
    /// 1 MiB a second (and as much at once) of full-state replies, node-wide: the full state of a
    /// 4,096-node mesh is about 330 KB, of a typical 50-node mesh about 5 KB, so joins are never
    /// held back in practice, while replayed sync requests cannot make a node send more.
    /// </summary>
    private const double SyncReplyBytesPerSecond = 1 << 20;

    private sealed record Settings(
        GossipOptions Options,
        GossipKeyring Keyring,
        byte[] ClusterHash,
        long SampleIntervalTicks,
        long MaxGenerationLeadMilliseconds,
        long ProofIdleMilliseconds,
        TimeSpan TombstoneLifetime,
        LivenessPolicy Liveness,
        PhiParameters Phi,
        PublishSettings Publish)
    {
        /// <exception cref="ArgumentException">The options are invalid, or name no key without <see cref="GossipOptions.AllowUnauthenticated"/>.</exception>
        public static Settings From(GossipOptions g, CollectionOptions collection, TimeProvider time)
        {
            if (g.Keys.Count == 0 && !g.AllowUnauthenticated)
            {
                throw new ArgumentException(GossipOptions.NoKeyMessage, nameof(g));
            }

            GossipKeyring keyring = GossipKeyring.FromBase64(g.Keys, g.Encrypt);
            byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(g.ClusterId))[..WireFormat.ClusterHashBytes];
            // The detector's tolerances scale with the heartbeat interval: one missed heartbeat
            // costs no suspicion, and the deviation floor is a fifth of the interval (1 s at the
            // default 5 s), so a mesh configured to beat faster also suspects faster.
            var liveness = new LivenessSettings
            {
                PhiThreshold = g.PhiThreshold,
                MaxSilence = g.MaxSilence,
                DeadAfter = g.DeadAfter,
                RemoveAfter = g.RemoveAfter,
                AcceptableHeartbeatPause = g.MaxSilence,
                MinStandardDeviation = g.MaxSilence / MinDeviationPerInterval,
            };
            var publish = new PublishSettings
            {
                Threshold = g.SignificanceThreshold,
                MinInterval = g.MinPublishInterval,
                MaxSilence = g.MaxSilence,
            };
            // A proven sender silent this long would be removed from the view; a tombstone lasts as
            // long, because every peer removes a silent node within that time of its last
            // heartbeat too, so nothing relays its last run after it.
            TimeSpan forgetAfter = g.DeadAfter + g.RemoveAfter;
            return new Settings(g, keyring, hash, collection.SampleInterval.Ticks,
                (long)g.MaxGenerationLead.TotalMilliseconds, (long)forgetAfter.TotalMilliseconds, forgetAfter, new LivenessPolicy(liveness), PhiParameters.For(liveness, time), publish);
        }
    }
}
