using System.Text;
using CostModel.Factors;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using CostModel.Telemetry;

namespace CostModel.Gossip;

/// <content>
/// Receiving: checks, merges into the view, liveness, rejections.
/// </content>
public sealed partial class GossipAdapter
{
    private bool ReceiveCore(ReadOnlySpan<byte> payload, string from)
    {
        Settings s = _settings;
        _metrics.GossipReceived();
        lock (_view.Gate)
        {
            _stats = _stats with { Received = _stats.Received + 1 };
        }

        WireRejection rejection = WireCodec.TryOpen(payload, s.Options.Mtu, s.ClusterHash, s.Keyring, out WireMessage message);
        DateTimeOffset now = _time.GetUtcNow();
        long nowTicks = now.UtcTicks;
        if (rejection != WireRejection.None)
        {
            Reject(rejection, from);
            return false;
        }

        Span<char> id = stackalloc char[NodeCostFactors.MaxNodeIdLength];
        ReadOnlySpan<byte> body = message.Body;
        int records = 0;
        bool accepted = true;
        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> record, out bool malformed) || malformed)
        {
            if (malformed)
            {
                accepted = false;
                Reject(WireRejection.MalformedRecord, from);
                break;
            }

            if (++records > s.Options.MaxRecordsPerMessage)
            {
                accepted = false;
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
                accepted = false;
                Reject(rejection, from);
            }
        }

        if (message.Type == MessageType.SyncRequest)
        {
            ReplyWithFullState(from, s, now);
        }

        return accepted;
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
            node.CapabilitiesHeardAt = _time.GetTimestamp();
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
        long forgetAfter = (long)((s.Liveness.Settings.DeadAfter + s.Liveness.Settings.RemoveAfter).TotalSeconds * _time.TimestampFrequency);
        foreach (GossipNode node in _nodes.Values)
        {
            if (!node.HasState)
            {
                // Heard of only through its capabilities (its states lost or never sent): it holds a
                // place in the bounded view, so it goes when a silent node with state would be removed.
                if (timestamp - node.CapabilitiesHeardAt > forgetAfter)
                {
                    (removed ??= []).Add(node);
                }

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

            // A tombstone keeps a removed node's old states out; one that never sent a state has none to keep out.
            if (node.HasState)
            {
                Bury(node.NodeId, node.State.Generation, s);
            }
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
}
