using System.Reactive.Subjects;
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
public sealed class GossipAdapter : IGossipAdapter, IDisposable
{
    private const int MaxTrackedPeers = 4_096;

    private readonly ICostCollector _collector;
    private readonly MeshView _view;
    private readonly ICostScorer _scorer;
    private readonly TimeProvider _time;
    private readonly CostModelMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Subject<GossipMessage> _outgoing = new();
    private readonly Dictionary<string, GossipNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GossipNode>.AlternateLookup<ReadOnlySpan<char>> _nodesBySpan;
    private readonly Dictionary<string, long> _tombstones = new(StringComparer.Ordinal);
    private readonly Queue<string> _tombstoneOrder = new();
    private readonly Dictionary<string, long> _lastSyncReply = new(StringComparer.Ordinal);
    private readonly List<MeshChange> _pendingChanges = [];
    private readonly List<(GossipNode Node, bool Capabilities)> _candidates = [];
    private readonly IDisposable? _optionsSubscription;
    private readonly byte[] _selfIdUtf8;
    private readonly string _selfId;

    private volatile Settings _settings;
    private SignificanceGate _gate;
    private ITimer? _timer;
    private NodeCostFactors? _local;
    private NodeCapabilities _capabilities;
    private WireNodeState _self;
    private bool _selfPublished;
    private long _selfVersion;
    private int _selfTransmits;
    private int _selfCapabilityTransmits;
    private long _nextSampleTicks;
    private GossipStatistics _stats;
    private int _disposed;

    /// <summary>Creates the adapter (usually through <c>AddGossip()</c> on the CostModel builder).</summary>
    /// <param name="collector">This node's collector.</param>
    /// <param name="view">The mesh view the router reads.</param>
    /// <param name="scorer">Prices the reference request that decides what is a significant change.</param>
    /// <param name="options">Node id, collection interval and gossip options.</param>
    /// <param name="time">The clock.</param>
    /// <param name="metrics">Counters.</param>
    /// <param name="logger">Debug logs of every rejection; null for none.</param>
    /// <exception cref="ArgumentException">The node id is longer than 64 UTF-8 bytes, or the options are invalid.</exception>
    public GossipAdapter(
        ICostCollector collector,
        MeshView view,
        ICostScorer scorer,
        IOptionsMonitor<CostModelOptions> options,
        TimeProvider time,
        CostModelMetrics metrics,
        ILogger<GossipAdapter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(collector);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(metrics);
        _collector = collector;
        _view = view;
        _scorer = scorer;
        _time = time;
        _metrics = metrics;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _nodesBySpan = _nodes.GetAlternateLookup<ReadOnlySpan<char>>();

        CostModelOptions current = options.CurrentValue;
        _selfId = current.NodeId;
        _selfIdUtf8 = Encoding.UTF8.GetBytes(_selfId);
        if (_selfIdUtf8.Length > WireFormat.MaxNodeIdBytes)
        {
            throw new ArgumentException($"The node id '{_selfId}' is {_selfIdUtf8.Length} UTF-8 bytes; gossip carries at most {WireFormat.MaxNodeIdBytes}.", nameof(options));
        }

        _capabilities = new NodeCapabilities(_selfId, 0);
        _settings = Settings.From(current, time);
        _gate = new SignificanceGate(scorer, _settings.Publish);
        _optionsSubscription = options.OnChange(OnOptionsChanged);
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

    /// <summary>Starts the timer. Idempotent.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        lock (_view.Gate)
        {
            _timer ??= _time.CreateTimer(static state => ((GossipAdapter)state!).Tick(), this, TimeSpan.Zero, _settings.Options.Interval);
        }
    }

    /// <summary>Sets what this node serves; published at once (capabilities change seldom and travel on change).</summary>
    /// <param name="capabilities">This node's capabilities (its node id must be this node's).</param>
    /// <exception cref="ArgumentException">The capabilities describe another node, or do not fit one message.</exception>
    public void SetCapabilities(NodeCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        if (!string.Equals(capabilities.NodeId, _selfId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Capabilities of '{capabilities.NodeId}' given to node '{_selfId}'.", nameof(capabilities));
        }

        Settings s = _settings;
        byte[] probe = new byte[s.Options.Mtu];
        if (!WireCodec.TryWriteCapabilities(probe.AsSpan(0, s.Options.Mtu - s.Overhead), _selfIdUtf8, 0, capabilities, out _))
        {
            throw new ArgumentException($"The capabilities do not fit one {s.Options.Mtu}-byte message; serve fewer models or relays, or shorten their ids.", nameof(capabilities));
        }

        NodeCostFactors? local;
        lock (_view.Gate)
        {
            _capabilities = capabilities with { Version = Math.Max(capabilities.Version, _capabilities.Version + 1) };
            _selfCapabilityTransmits = RetransmitLimit(s);
            _self.CapabilitiesVersion = _capabilities.Version;
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
        if (budget < s.Overhead + WireCodec.StateRecordBytes(1))
        {
            return 0;
        }

        lock (_view.Gate)
        {
            return WriteDisseminationLocked(destination[..budget], s, _time.GetUtcNow().UtcTicks);
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
            int at = WireCodec.WriteHeader(message, MessageType.SyncRequest, s.ClusterHash, s.Keyring);
            int end = message.Length - TrailerBytes(s);
            if (_selfPublished && WireCodec.TryWriteState(message[at..end], _selfIdUtf8, _self, now, out int written))
            {
                at += written;
            }

            if (WireCodec.TryWriteCapabilities(message[at..end], _selfIdUtf8, _self.Generation, _capabilities, out written))
            {
                at += written;
            }

            _stats = _stats with { Sent = _stats.Sent + 1 };
            _metrics.GossipSent("sync-request");
            return WireCodec.Seal(message, at, s.Keyring);
        }
    }

    /// <inheritdoc />
    public void Receive(ReadOnlySpan<byte> payload, string from)
    {
        from ??= "unknown";
        try
        {
            ReceiveCore(payload, from);
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
    }

    /// <summary>Runs one round now: sample if due, publish if significant, relay (push), check liveness. The timer calls it.</summary>
    internal void Tick()
    {
        if (_disposed != 0)
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
            if (_nodes.TryGetValue(nodeId, out GossipNode? node))
            {
                node.State.Version = 0;
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
        _optionsSubscription?.Dispose();
        _outgoing.OnCompleted();
        _outgoing.Dispose();
    }

    private void TickCore()
    {
        Settings s = _settings;
        DateTimeOffset now = _time.GetUtcNow();
        long nowTicks = now.UtcTicks;

        NodeCostFactors? sampled = null;
        if (nowTicks >= Volatile.Read(ref _nextSampleTicks))
        {
            sampled = _collector.Collect();
            Volatile.Write(ref _nextSampleTicks, nowTicks + s.SampleIntervalTicks);
        }

        bool published = false;
        lock (_view.Gate)
        {
            if (sampled is not null)
            {
                _local = sampled;
            }

            if (_local is { } local && (sampled is not null || now >= _gate.NextDueAt))
            {
                PublishReason reason = _gate.Evaluate(local, now);
                if (reason != PublishReason.None)
                {
                    PublishLocked(local, reason, s);
                    published = true;
                }
            }

            CheckLivenessLocked(s, now);
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
                _outgoing.OnNext(new GossipMessage(buffer.AsMemory(0, length), null));
            }
        }
    }

    private bool HasPendingTransmits()
    {
        lock (_view.Gate)
        {
            if (_selfTransmits > 0 || _selfCapabilityTransmits > 0)
            {
                return true;
            }

            foreach (GossipNode node in _nodes.Values)
            {
                if (node.StateTransmits > 0 || node.CapabilityTransmits > 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private void PublishLocked(NodeCostFactors local, PublishReason reason, Settings s)
    {
        if (local.Generation > WireFormat.MaxGeneration)
        {
            throw new InvalidOperationException($"Generation {local.Generation} does not fit 48 bits.");
        }

        if (_selfPublished && local.Generation != _self.Generation)
        {
            _selfVersion = 0;
        }

        WireQuantizer.FromFactors(local, _capabilities.Version, ref _self);
        _self.Version = ++_selfVersion;
        _selfPublished = true;
        _selfTransmits = RetransmitLimit(s);

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

    private void ReceiveCore(ReadOnlySpan<byte> payload, string from)
    {
        Settings s = _settings;
        _metrics.GossipReceived();
        WireRejection rejection = WireCodec.TryOpen(payload, s.Options.Mtu, s.ClusterHash, s.Keyring, out WireMessage message);
        DateTimeOffset now = _time.GetUtcNow();
        long nowTicks = now.UtcTicks;
        if (rejection != WireRejection.None)
        {
            lock (_view.Gate)
            {
                _stats = _stats with { Received = _stats.Received + 1 };
            }

            Reject(rejection, from);
            return;
        }

        Span<char> id = stackalloc char[NodeCostFactors.MaxNodeIdLength];
        ReadOnlySpan<byte> body = message.Body;
        int records = 0;
        lock (_view.Gate)
        {
            _stats = _stats with { Received = _stats.Received + 1 };
        }

        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> record, out bool malformed) || malformed)
        {
            if (malformed)
            {
                Reject(WireRejection.MalformedRecord, from);
                break;
            }

            if (++records > s.Options.MaxRecordsPerMessage)
            {
                Reject(WireRejection.TooManyRecords, from);
                break;
            }

            switch ((RecordKind)kind)
            {
                case RecordKind.NodeState:
                    rejection = WireCodec.TryReadState(record, nowTicks, id, out int idLength, out WireNodeState state);
                    if (rejection == WireRejection.None)
                    {
                        rejection = MergeState(id[..idLength], ref state, s, now);
                    }

                    break;
                case RecordKind.Capabilities:
                    rejection = WireCodec.TryReadCapabilities(record, id, out idLength, out long generation, out NodeCapabilities? capabilities);
                    if (rejection == WireRejection.None)
                    {
                        rejection = MergeCapabilities(id[..idLength], generation, capabilities!, s, now);
                    }

                    break;
                default:
                    // A record kind from a newer version: skipped, not fatal.
                    _metrics.GossipRejected("unknown-record-kind");
                    rejection = WireRejection.None;
                    break;
            }

            if (rejection != WireRejection.None)
            {
                Reject(rejection, from);
            }
        }

        if (message.Type == MessageType.SyncRequest)
        {
            ReplyWithFullState(from, s, now);
        }
    }

    private WireRejection MergeState(ReadOnlySpan<char> id, ref WireNodeState state, Settings s, DateTimeOffset now)
    {
        if (id.SequenceEqual(_selfId))
        {
            return WireRejection.None;
        }

        if (state.Generation > now.ToUnixTimeMilliseconds() + s.MaxGenerationLeadMilliseconds)
        {
            return WireRejection.GenerationTooFarAhead;
        }

        lock (_view.Gate)
        {
            if (!TryGetOrAddLocked(id, state.Generation, s, out GossipNode? node, out WireRejection refused))
            {
                return refused;
            }

            if (node.HasState && (state.Generation < node.State.Generation
                || (state.Generation == node.State.Generation && state.Version <= node.State.Version)))
            {
                // A replay, a duplicate, a reordered older message or an old generation: the newest state stays.
                _stats = _stats with { Stale = _stats.Stale + 1 };
                return WireRejection.None;
            }

            bool joined = !node.HasState;
            if (node.HasState && state.Generation > node.State.Generation)
            {
                // The node restarted: its old capabilities no longer hold until new ones arrive.
                joined = true;
                node.Detector = new PhiAccrualDetector(s.Liveness.Settings, _time);
                if (node.CapabilitiesGeneration < state.Generation)
                {
                    node.Capabilities = null;
                }
            }

            node.State = state;
            node.HasState = true;
            node.StateTransmits = RetransmitLimit(s);
            node.Detector.Heartbeat(_time.GetTimestamp());
            LivenessDecision back = LivenessPolicy.OnHeartbeat(node.Liveness);
            node.Liveness = back.Next;
            node.MarkChanged();
            _view.InvalidateLocked();
            _stats = _stats with { Merged = _stats.Merged + 1 };
            _metrics.GossipMerged("state");
            if (joined)
            {
                _pendingChanges.Add(new MeshChange(node.NodeId, MeshChangeKind.Joined, now));
            }
            else if (back.Change is { } change)
            {
                _pendingChanges.Add(new MeshChange(node.NodeId, change, now));
            }
            else if (_view.HasChangeSubscribers)
            {
                _pendingChanges.Add(new MeshChange(node.NodeId, MeshChangeKind.Updated, now));
            }

            return WireRejection.None;
        }
    }

    private WireRejection MergeCapabilities(ReadOnlySpan<char> id, long generation, NodeCapabilities capabilities, Settings s, DateTimeOffset now)
    {
        if (id.SequenceEqual(_selfId))
        {
            return WireRejection.None;
        }

        if (generation > now.ToUnixTimeMilliseconds() + s.MaxGenerationLeadMilliseconds)
        {
            return WireRejection.GenerationTooFarAhead;
        }

        lock (_view.Gate)
        {
            if (!TryGetOrAddLocked(id, generation, s, out GossipNode? node, out WireRejection refused))
            {
                return refused;
            }

            if ((node.HasState && generation < node.State.Generation)
                || (node.Capabilities is { } known && (generation < node.CapabilitiesGeneration
                    || (generation == node.CapabilitiesGeneration && capabilities.Version <= known.Version))))
            {
                _stats = _stats with { Stale = _stats.Stale + 1 };
                return WireRejection.None;
            }

            node.Capabilities = capabilities;
            node.CapabilitiesGeneration = generation;
            node.CapabilityTransmits = RetransmitLimit(s);
            node.MarkChanged();
            _view.InvalidateLocked();
            _stats = _stats with { Merged = _stats.Merged + 1 };
            _metrics.GossipMerged("capabilities");
            if (node.HasState)
            {
                _pendingChanges.Add(new MeshChange(node.NodeId, MeshChangeKind.Updated, now));
            }

            return WireRejection.None;
        }
    }

    private bool TryGetOrAddLocked(ReadOnlySpan<char> id, long generation, Settings s, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GossipNode? node, out WireRejection refused)
    {
        refused = WireRejection.None;
        if (_nodesBySpan.TryGetValue(id, out node))
        {
            return true;
        }

        string nodeId = new(id);
        if (_tombstones.TryGetValue(nodeId, out long buried) && generation <= buried)
        {
            // A removed node's old generation never comes back.
            refused = WireRejection.OldGeneration;
            return false;
        }

        node = new GossipNode(nodeId, Encoding.UTF8.GetBytes(nodeId), new PhiAccrualDetector(s.Liveness.Settings, _time));
        if (!_view.TryAddSourceLocked(node))
        {
            _metrics.BoundExceeded("mesh-nodes");
            refused = WireRejection.ViewFull;
            node = null;
            return false;
        }

        _tombstones.Remove(nodeId);
        _nodes.Add(nodeId, node);
        return true;
    }

    private void CheckLivenessLocked(Settings s, DateTimeOffset now)
    {
        long timestamp = _time.GetTimestamp();
        List<GossipNode>? removed = null;
        foreach (GossipNode node in _nodes.Values)
        {
            if (!node.HasState)
            {
                continue;
            }

            LivenessDecision decision = s.Liveness.Decide(node.Liveness, node.Detector, timestamp);
            if (decision.Change is not { } change)
            {
                continue;
            }

            node.Liveness = decision.Next;
            node.MarkChanged();
            _view.InvalidateLocked();
            _pendingChanges.Add(new MeshChange(node.NodeId, change, now));
            if (decision.Remove)
            {
                (removed ??= []).Add(node);
            }
        }

        if (removed is null)
        {
            return;
        }

        foreach (GossipNode node in removed)
        {
            _nodes.Remove(node.NodeId);
            _view.RemoveLocked(node.NodeId);
            Bury(node.NodeId, node.State.Generation, s);
        }
    }

    private void Bury(string nodeId, long generation, Settings s)
    {
        if (_tombstones.TryAdd(nodeId, generation))
        {
            _tombstoneOrder.Enqueue(nodeId);
        }
        else
        {
            _tombstones[nodeId] = Math.Max(_tombstones[nodeId], generation);
        }

        // Bounded like the view: the oldest tombstones go first.
        while (_tombstoneOrder.Count > s.Options.MaxNodes && _tombstoneOrder.TryDequeue(out string? oldest))
        {
            _tombstones.Remove(oldest);
        }
    }

    // Writes one Gossip message with the updates relayed fewest times so far (this node's first).
    private int WriteDisseminationLocked(Span<byte> destination, Settings s, long nowTicks)
    {
        _candidates.Clear();
        foreach (GossipNode node in _nodes.Values)
        {
            if (node.StateTransmits > 0 && node.HasState)
            {
                _candidates.Add((node, false));
            }

            if (node.CapabilityTransmits > 0 && node.Capabilities is not null)
            {
                _candidates.Add((node, true));
            }
        }

        if (_candidates.Count == 0 && _selfTransmits <= 0 && _selfCapabilityTransmits <= 0)
        {
            return 0;
        }

        _candidates.Sort(static (a, b) => Transmits(b).CompareTo(Transmits(a)));
        int at = WireCodec.WriteHeader(destination, MessageType.Gossip, s.ClusterHash, s.Keyring);
        int headerEnd = at;
        int end = destination.Length - TrailerBytes(s);
        int records = 0;
        if (_selfTransmits > 0 && _selfPublished && WireCodec.TryWriteState(destination[at..end], _selfIdUtf8, _self, nowTicks, out int written))
        {
            at += written;
            _selfTransmits--;
            records++;
        }

        if (_selfCapabilityTransmits > 0 && WireCodec.TryWriteCapabilities(destination[at..end], _selfIdUtf8, _self.Generation, _capabilities, out written))
        {
            at += written;
            _selfCapabilityTransmits--;
            records++;
        }

        foreach ((GossipNode node, bool capabilities) in _candidates)
        {
            if (records >= s.Options.MaxRecordsPerMessage)
            {
                break;
            }

            if (capabilities)
            {
                if (WireCodec.TryWriteCapabilities(destination[at..end], node.NodeIdUtf8, node.CapabilitiesGeneration, node.Capabilities!, out written))
                {
                    at += written;
                    node.CapabilityTransmits--;
                    records++;
                }
            }
            else if (WireCodec.TryWriteState(destination[at..end], node.NodeIdUtf8, node.State, nowTicks, out written))
            {
                at += written;
                node.StateTransmits--;
                records++;
            }
        }

        if (at == headerEnd)
        {
            return 0;
        }

        _stats = _stats with { Sent = _stats.Sent + 1 };
        _metrics.GossipSent("gossip");
        return WireCodec.Seal(destination, at, s.Keyring);
    }

    private static int Transmits((GossipNode Node, bool Capabilities) item) =>
        item.Capabilities ? item.Node.CapabilityTransmits : item.Node.StateTransmits;

    private void ReplyWithFullState(string to, Settings s, DateTimeOffset now)
    {
        var messages = new List<byte[]>();
        lock (_view.Gate)
        {
            long nowTicks = now.UtcTicks;
            if (_lastSyncReply.TryGetValue(to, out long last) && nowTicks - last < s.Options.SyncReplyInterval.Ticks)
            {
                _metrics.GossipRejected("sync-rate-limited");
                return;
            }

            if (_lastSyncReply.Count >= MaxTrackedPeers)
            {
                _lastSyncReply.Clear();
            }

            _lastSyncReply[to] = nowTicks;
            var writer = new FullStateWriter(s, messages);
            if (_selfPublished)
            {
                writer.Add((d) => WireCodec.TryWriteState(d, _selfIdUtf8, _self, nowTicks, out int n) ? n : 0);
            }

            writer.Add((d) => WireCodec.TryWriteCapabilities(d, _selfIdUtf8, _self.Generation, _capabilities, out int n) ? n : 0);
            foreach (GossipNode node in _nodes.Values)
            {
                if (node.HasState && node.Liveness != NodeLiveness.Dead)
                {
                    writer.Add((d) => WireCodec.TryWriteState(d, node.NodeIdUtf8, node.State, nowTicks, out int n) ? n : 0);
                }

                if (node.Capabilities is { } capabilities)
                {
                    writer.Add((d) => WireCodec.TryWriteCapabilities(d, node.NodeIdUtf8, node.CapabilitiesGeneration, capabilities, out int n) ? n : 0);
                }
            }

            writer.Finish();
            _stats = _stats with { Sent = _stats.Sent + messages.Count };
        }

        foreach (byte[] message in messages)
        {
            _metrics.GossipSent("sync-reply");
            _outgoing.OnNext(new GossipMessage(message, to));
        }
    }

    private void Reject(WireRejection why, string from)
    {
        string reason = ReasonOf(why);
        lock (_view.Gate)
        {
            _stats = _stats with { Rejected = _stats.Rejected + 1 };
        }

        _metrics.GossipRejected(reason);
        Log.GossipRejected(_logger, from, reason);
    }

    internal static string ReasonOf(WireRejection why) => why switch
    {
        WireRejection.TooShort => "too-short",
        WireRejection.TooLong => "too-long",
        WireRejection.BadMagic => "bad-magic",
        WireRejection.NewerProtocol => "newer-protocol",
        WireRejection.UnknownMessageType => "unknown-message-type",
        WireRejection.OtherCluster => "other-cluster",
        WireRejection.Unauthenticated => "unauthenticated",
        WireRejection.UnexpectedAuthentication => "unexpected-authentication",
        WireRejection.UnknownKey => "unknown-key",
        WireRejection.BadTag => "bad-tag",
        WireRejection.BadChecksum => "bad-checksum",
        WireRejection.MalformedRecord => "malformed-record",
        WireRejection.TooManyRecords => "too-many-records",
        WireRejection.BadNodeId => "bad-node-id",
        WireRejection.OutOfRange => "out-of-range",
        WireRejection.GenerationTooFarAhead => "generation-too-far-ahead",
        WireRejection.OldGeneration => "old-generation",
        WireRejection.ViewFull => "view-full",
        _ => "none",
    };

    private void FlushChanges()
    {
        MeshChange[] changes;
        lock (_view.Gate)
        {
            if (_pendingChanges.Count == 0)
            {
                return;
            }

            changes = [.. _pendingChanges];
            _pendingChanges.Clear();
        }

        foreach (MeshChange change in changes)
        {
            if (change.Kind != MeshChangeKind.Updated)
            {
                string kind = change.Kind.ToString();
                Log.MeshChanged(_logger, change.NodeId, kind);
                _metrics.MeshChanged(kind);
            }

            _view.Publish(change);
        }
    }

    private int RetransmitLimit(Settings s) =>
        s.Options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(_nodes.Count + 2));

    private static int TrailerBytes(Settings s) => s.Keyring.IsEnabled ? GossipKeyring.TagBytes : WireFormat.ChecksumBytes;

    private void OnOptionsChanged(CostModelOptions options, string? name)
    {
        try
        {
            Settings next = Settings.From(options, _time);
            lock (_view.Gate)
            {
                _settings = next;
                _gate = new SignificanceGate(_scorer, next.Publish);
            }
        }
        catch (ArgumentException ex)
        {
            // Validation refuses bad options at start; a reload the validator did not see keeps the last good settings.
            Log.GossipRoundFailed(_logger, ex);
            _metrics.GossipRejected("options-invalid");
        }
    }

    private sealed class FullStateWriter(Settings s, List<byte[]> messages)
    {
        private byte[]? _buffer;
        private int _at;
        private int _records;

        public void Add(WriteRecord write)
        {
            for (int attempt = 0; attempt < 2; attempt++)
            {
                if (_buffer is null)
                {
                    _buffer = new byte[s.Options.Mtu];
                    _at = WireCodec.WriteHeader(_buffer, MessageType.SyncReply, s.ClusterHash, s.Keyring);
                    _records = 0;
                }

                int end = _buffer.Length - TrailerBytes(s);
                int written = _records < s.Options.MaxRecordsPerMessage ? write(_buffer.AsSpan(_at, end - _at)) : 0;
                if (written > 0)
                {
                    _at += written;
                    _records++;
                    return;
                }

                if (_records == 0)
                {
                    return;
                }

                Finish();
            }
        }

        public void Finish()
        {
            if (_buffer is null || _records == 0)
            {
                return;
            }

            int length = WireCodec.Seal(_buffer, _at, s.Keyring);
            messages.Add(_buffer.AsSpan(0, length).ToArray());
            _buffer = null;
        }
    }

    private delegate int WriteRecord(Span<byte> destination);

    // 5: the default 5 s heartbeat gives the detector's default 1 s deviation floor.
    private const int MinDeviationPerInterval = 5;

    private sealed record Settings(
        GossipOptions Options,
        GossipKeyring Keyring,
        byte[] ClusterHash,
        int Overhead,
        long SampleIntervalTicks,
        long MaxGenerationLeadMilliseconds,
        LivenessPolicy Liveness,
        PublishSettings Publish)
    {
        public static Settings From(CostModelOptions options, TimeProvider time)
        {
            GossipOptions g = options.Gossip;
            GossipKeyring keyring = GossipKeyring.FromBase64(g.Keys);
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
            return new Settings(g, keyring, hash, WireFormat.Overhead(keyring.IsEnabled), options.Collection.SampleInterval.Ticks,
                (long)g.MaxGenerationLead.TotalMilliseconds, new LivenessPolicy(liveness), publish);
        }
    }
}

/// <summary>Counts of a gossip adapter's traffic since it was created.</summary>
/// <param name="Received">Messages handed to <see cref="IGossipAdapter.Receive"/>.</param>
/// <param name="Rejected">Messages or records refused (by any check).</param>
/// <param name="Merged">Records that changed the view.</param>
/// <param name="Stale">Records older than what the view had (replays, duplicates, reordering): ignored.</param>
/// <param name="Published">Publications of this node's factors.</param>
/// <param name="Sent">Messages written for the host to send.</param>
public readonly record struct GossipStatistics(long Received, long Rejected, long Merged, long Stale, long Published, long Sent);
