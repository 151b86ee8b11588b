using System.Buffers;
using System.Text;
using CostModel.Factors;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using CostModel.Telemetry;

namespace CostModel.Gossip;

/// <content>
/// Receiving: open, check every record, prove the sender, then merge into the view.
/// </content>
public sealed partial class GossipAdapter
{
    /// <summary>Opens, checks and (from a proven, fresh sender) merges one message.</summary>
    /// <param name="payload">The message as received.</param>
    /// <param name="from">The sender.</param>
    /// <param name="held">The message's hold record when it is being judged again after its sender answered a challenge; null for a message just received.</param>
    /// <param name="owedEcho">For a held message: the challenge that came with the sender's answer, echoed in any sync reply (replies may overtake the separate echo).</param>
    /// <returns>True when the message was merged.</returns>
    private bool ReceiveCore(ReadOnlySpan<byte> payload, string from, HeldMessage? held, Cookie? owedEcho = null)
    {
        Settings s = _settings;
        if (held is null)
        {
            _metrics.GossipReceived();
            lock (_view.Gate)
            {
                _stats = _stats with { Received = _stats.Received + 1 };
            }
        }

        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        try
        {
            WireRejection rejection = WireCodec.TryOpen(payload, s.Options.Mtu, s.ClusterHash, s.Keyring, scratch, out WireMessage message);
            if (rejection != WireRejection.None)
            {
                Reject(rejection, from);
                return false;
            }

            DateTimeOffset now = _time.GetUtcNow();
            rejection = Inspect(message.Body, s, now, out Inspection inspection);
            if (rejection != WireRejection.None)
            {
                // Checks run before merging: one bad record refuses the whole message.
                Reject(rejection, from);
                return false;
            }

            long nowMs = ClockMilliseconds();
            long offsetMs = held?.OffsetMs ?? nowMs - message.SenderClock;
            bool fresh;
            List<HeldMessage>? released = null;
            lock (_view.Gate)
            {
                if (held is not null)
                {
                    fresh = _proofs.IsFresh(from, offsetMs);
                }
                else if (inspection.Echo is { } echo && _proofs.IsValidEcho(from, echo, nowMs))
                {
                    released = _proofs.Prove(from, offsetMs, nowMs);
                    fresh = true;
                    _metrics.GossipProof("proven");
                }
                else
                {
                    fresh = _proofs.TryAcceptFresh(from, offsetMs, nowMs);
                    if (!fresh && inspection.Echo is not null)
                    {
                        _metrics.GossipRejected("bad-echo");
                    }
                }

                if (!fresh && held is null && (inspection.HasNews || message.Type == MessageType.SyncRequest))
                {
                    if (_proofs.TryHold(from, payload, offsetMs, nowMs))
                    {
                        _stats = _stats with { Held = _stats.Held + 1 };
                        _metrics.GossipProof("held");
                    }
                    else
                    {
                        _metrics.BoundExceeded("gossip-held-per-sender");
                    }
                }
            }

            if (!fresh)
            {
                if (held is not null)
                {
                    // Written long before the sender's answer to the challenge: a replay.
                    Reject("stale-sender-clock", from);
                    return false;
                }

                Log.GossipUnproven(_logger, from);
                SendChallenge(from, inspection.Challenge, s, nowMs);
                return false;
            }

            Merge(message.Body, s, now, from);
            if (message.Type == MessageType.SyncRequest)
            {
                ReplyWithFullState(from, inspection.Challenge ?? owedEcho, s, now);
            }
            else if (inspection.Challenge is { } challenge)
            {
                SendEcho(from, challenge, s);
            }

            if (released is not null)
            {
                foreach (HeldMessage waiting in released)
                {
                    ReceiveCore(waiting.Bytes, from, waiting, inspection.Challenge);
                }
            }

            return true;
        }
        finally
        {
            scratch.AsSpan(0, payload.Length).Clear();
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>The first pass: every record framed, in range and within bounds; what the message asks and answers.</summary>
    private WireRejection Inspect(ReadOnlySpan<byte> body, Settings s, DateTimeOffset now, out Inspection inspection)
    {
        inspection = default;
        long nowTicks = now.UtcTicks;
        long maxGeneration = now.ToUnixTimeMilliseconds() + s.MaxGenerationLeadMilliseconds;
        Span<char> id = stackalloc char[NodeCostFactors.MaxNodeIdLength];
        int records = 0;
        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> record, out bool malformed) || malformed)
        {
            if (malformed)
            {
                return WireRejection.MalformedRecord;
            }

            if (++records > s.Options.MaxRecordsPerMessage)
            {
                return WireRejection.TooManyRecords;
            }

            WireRejection rejection;
            switch ((RecordKind)kind)
            {
                case RecordKind.NodeState:
                    rejection = WireCodec.TryReadState(record, nowTicks, id, out _, out WireNodeState state);
                    if (rejection == WireRejection.None && state.Generation > maxGeneration)
                    {
                        rejection = WireRejection.GenerationTooFarAhead;
                    }

                    inspection.HasNews = true;
                    break;
                case RecordKind.Capabilities:
                    rejection = ReadCapabilities(record, id, out _, out long generation, out _);
                    if (rejection == WireRejection.None && generation > maxGeneration)
                    {
                        rejection = WireRejection.GenerationTooFarAhead;
                    }

                    inspection.HasNews = true;
                    break;
                case RecordKind.Challenge:
                    rejection = WireCodec.TryReadCookie(record, out Cookie challenge);
                    rejection = rejection == WireRejection.None && inspection.Challenge is not null ? WireRejection.MalformedRecord : rejection;
                    inspection.Challenge = challenge;
                    break;
                case RecordKind.Echo:
                    rejection = WireCodec.TryReadCookie(record, out Cookie echo);
                    rejection = rejection == WireRejection.None && inspection.Echo is not null ? WireRejection.MalformedRecord : rejection;
                    inspection.Echo = echo;
                    break;
                default:
                    // A record kind from a newer version: skipped when merging, not fatal.
                    rejection = WireRejection.None;
                    break;
            }

            if (rejection != WireRejection.None)
            {
                return rejection;
            }
        }

        return WireRejection.None;
    }

    /// <summary>The second pass, over records the first pass found valid: merges states and capabilities.</summary>
    private void Merge(ReadOnlySpan<byte> body, Settings s, DateTimeOffset now, string from)
    {
        long nowTicks = now.UtcTicks;
        Span<char> id = stackalloc char[NodeCostFactors.MaxNodeIdLength];
        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> record, out _))
        {
            WireRejection rejection = WireRejection.None;
            switch ((RecordKind)kind)
            {
                case RecordKind.NodeState:
                    // Most states received in a large mesh are relays of versions already held: those
                    // are counted stale from the record's start, without decoding the rest again.
                    if (WireCodec.TryPeekState(record, id, out int idLength, out long stateGeneration, out long stateVersion) == WireRejection.None
                        && IsHeldState(id[..idLength], stateGeneration, stateVersion))
                    {
                        break;
                    }

                    if (WireCodec.TryReadState(record, nowTicks, id, out idLength, out WireNodeState state) == WireRejection.None)
                    {
                        rejection = MergeState(id[..idLength], ref state, s, now);
                    }

                    break;
                case RecordKind.Capabilities:
                    // Most capabilities received are relays of ones already held: those are counted
                    // stale from the record's start, without decoding (and allocating) their models.
                    if (WireCodec.TryPeekCapabilities(record, id, out idLength, out long peekedGeneration, out long peekedVersion) == WireRejection.None
                        && IsHeldCapabilities(id[..idLength], peekedGeneration, peekedVersion))
                    {
                        break;
                    }

                    if (ReadCapabilities(record, id, out idLength, out long generation, out NodeCapabilities? capabilities) == WireRejection.None)
                    {
                        rejection = MergeCapabilities(id[..idLength], generation, capabilities!, s, now);
                    }

                    break;
                case RecordKind.Challenge or RecordKind.Echo:
                    break;
                default:
                    _metrics.GossipRejected("unknown-record-kind");
                    break;
            }

            if (rejection != WireRejection.None)
            {
                // A valid record this node does not take (an old run, a full view): the rest of the message stands.
                Reject(rejection, from);
            }
        }
    }

    /// <summary>Reads a capabilities record: through the shared interner when there is one (each exact record decoded once per process), else decoded here.</summary>
    private WireRejection ReadCapabilities(ReadOnlySpan<byte> record, Span<char> id, out int idLength, out long generation, out NodeCapabilities? capabilities) =>
        SharedCapabilities is { } shared
            ? shared.TryRead(record, id, out idLength, out generation, out capabilities)
            : WireCodec.TryReadCapabilities(record, id, out idLength, out generation, out capabilities);

    /// <summary>A node id heard of for the first time, as a string: the shared copy when this adapter shares its peers' data (a simulator), else a new one.</summary>
    private string NewNodeId(ReadOnlySpan<char> id) => SharedCapabilities is { } shared ? shared.InternId(id, out _) : new string(id);

    private WireRejection MergeState(ReadOnlySpan<char> id, ref WireNodeState state, Settings s, DateTimeOffset now)
    {
        if (id.SequenceEqual(_selfId))
        {
            return WireRejection.None;
        }

        long observed = WireQuantizer.NewestObservation(state);
        lock (_view.Gate)
        {
            bool joined;
            if (!_peers.TryFind(id, out int slot))
            {
                string nodeId = NewNodeId(id);
                if (_tombstones.TryGetValue(nodeId, out Tombstone buried))
                {
                    RunOrder order = Order(buried.Generation, buried.Version, buried.ObservedTicks, knownAlive: false, state, observed);
                    if (order != RunOrder.Newer)
                    {
                        // The removed run, or a relay of something older: it stays out.
                        return WireRejection.OldGeneration;
                    }
                }

                // Only a node heard of just now may take the place of a weak entry in a full view.
                bool alive = now.UtcTicks - observed <= s.Options.MaxSilence.Ticks;
                if (TryAdmitLocked(nodeId, s, now, mayEvict: alive, out slot) is var refused and not WireRejection.None)
                {
                    return refused;
                }

                joined = true;
            }
            else if (!_peers[slot].HasState)
            {
                joined = true;
            }
            else
            {
                ref readonly PeerRecord known = ref _peers[slot];
                RunOrder order = Order(known.State.Generation, known.State.Version, WireQuantizer.NewestObservation(known.State), known.Liveness == NodeLiveness.Alive, state, observed);
                if (order == RunOrder.Stale)
                {
                    // A replay, a duplicate, a reordered older message or a relay of a superseded run: the newest state stays.
                    _stats = _stats with { Stale = _stats.Stale + 1 };
                    return WireRejection.None;
                }

                if (order == RunOrder.LowerWhileAlive)
                {
                    return WireRejection.OldGeneration;
                }

                joined = order == RunOrder.Restarted;
                if (joined)
                {
                    // The node restarted: its old capabilities no longer hold until new ones arrive.
                    ref PeerRecord restarted = ref _peers[slot];
                    restarted.Detector = PhiWindow.Start(s.Phi);
                    restarted.StatesThisRun = 0;
                    if (restarted.CapabilitiesGeneration != state.Generation)
                    {
                        restarted.Capabilities = null;
                        _relays.Set(slot, capabilities: true, 0);
                    }
                }
            }

            ref PeerRecord node = ref _peers[slot];
            _tombstones.Remove(node.NodeId);
            node.State = state;
            node.HasState = true;
            node.StatesThisRun++;
            _relays.Set(slot, capabilities: false, RetransmitLimit(s));
            node.Detector.Heartbeat(s.Phi, _time.GetTimestamp());
            LivenessDecision back = LivenessPolicy.OnHeartbeat(node.Liveness);
            node.Liveness = back.Next;
            ScheduleLivenessLocked(slot, s.Liveness.NextChange(node.Liveness, node.Detector, s.Phi));
            node.Changed = true;
            _stats = _stats with { Merged = _stats.Merged + 1 };
            _metrics.GossipMerged("state");

            // Ages travel, not times (each hop adds what it held the state; the wire's transit
            // itself is not seen): a clock set back makes no negative age.
            long age = Math.Max(0, now.UtcTicks - observed);
            _metrics.GossipStateAge(age / (double)TimeSpan.TicksPerSecond);
            if (_freshness.Merged(age, s.Options.MaxSilence.Ticks))
            {
                _stats = _stats with { MergedLate = _stats.MergedLate + 1 };
            }
            MeshChangeKind? change = joined ? MeshChangeKind.Joined
                : back.Change ?? (_view.HasChangeSubscribers ? MeshChangeKind.Updated : null);
            TellViewLocked(in node, change, now);
            return WireRejection.None;
        }
    }

    /// <summary>How an incoming state stands against what is known of its node.</summary>
    private enum RunOrder
    {
        /// <summary>Not newer: ignored.</summary>
        Stale,

        /// <summary>A newer version of the same run.</summary>
        Newer,

        /// <summary>A new run (a restart, whichever way its generation moved).</summary>
        Restarted,

        /// <summary>A lower generation while the known run is alive: not taken.</summary>
        LowerWhileAlive,
    }

    /// <summary>
    /// Orders a state against the known one without trusting anyone's wall clock: within a run
    /// (generation) versions order; across runs the state observed later (by this node's clock,
    /// from the ages) is the newer run, so a node whose clock was corrected backwards comes back.
    /// A lower generation does not replace a run still alive here: two processes with one id
    /// settle on the later start instead of flapping.
    /// </summary>
    private static RunOrder Order(long knownGeneration, long knownVersion, long knownObserved, bool knownAlive, in WireNodeState incoming, long incomingObserved)
    {
        if (incoming.Generation == knownGeneration)
        {
            return incoming.Version > knownVersion ? RunOrder.Newer : RunOrder.Stale;
        }

        if (incomingObserved <= knownObserved)
        {
            return RunOrder.Stale;
        }

        return incoming.Generation < knownGeneration && knownAlive ? RunOrder.LowerWhileAlive : RunOrder.Restarted;
    }

    /// <summary>
    /// True when <see cref="MergeState"/> would take a state of this generation and version as nothing
    /// new without looking further (this node's own, or an older or equal version of the run held);
    /// counts it as it would. A state of another run is left to <see cref="MergeState"/> (runs are
    /// ordered by their observation times, which only the full record carries).
    /// </summary>
    private bool IsHeldState(ReadOnlySpan<char> id, long generation, long version)
    {
        if (id.SequenceEqual(_selfId))
        {
            return true;
        }

        lock (_view.Gate)
        {
            if (!_peers.TryFind(id, out int slot))
            {
                return false;
            }

            ref readonly PeerRecord node = ref _peers[slot];
            if (!node.HasState || generation != node.State.Generation || version > node.State.Version)
            {
                return false;
            }

            _stats = _stats with { Stale = _stats.Stale + 1 };
            return true;
        }
    }

    /// <summary>
    /// True when <see cref="MergeCapabilities"/> would take capabilities with this generation and
    /// version as nothing new (this node's own, or stale against what is held); counts them as it would.
    /// </summary>
    private bool IsHeldCapabilities(ReadOnlySpan<char> id, long generation, long version)
    {
        if (id.SequenceEqual(_selfId))
        {
            return true;
        }

        lock (_view.Gate)
        {
            if (!_peers.TryFind(id, out int slot) || !IsStaleCapabilities(_peers[slot], generation, version))
            {
                return false;
            }

            _stats = _stats with { Stale = _stats.Stale + 1 };
            return true;
        }
    }

    private static bool IsStaleCapabilities(in PeerRecord node, long generation, long version) =>
        (node.HasState && generation != node.State.Generation)
        || (node.Capabilities is { } known && (generation < node.CapabilitiesGeneration
            || (generation == node.CapabilitiesGeneration && version <= known.Version)));

    private WireRejection MergeCapabilities(ReadOnlySpan<char> id, long generation, NodeCapabilities capabilities, Settings s, DateTimeOffset now)
    {
        if (id.SequenceEqual(_selfId))
        {
            return WireRejection.None;
        }

        lock (_view.Gate)
        {
            if (!_peers.TryFind(id, out int slot))
            {
                string nodeId = NewNodeId(id);
                if (_tombstones.TryGetValue(nodeId, out Tombstone buried) && generation == buried.Generation)
                {
                    return WireRejection.OldGeneration;
                }

                // Capabilities alone prove nothing about liveness: they never push another node out.
                if (TryAdmitLocked(nodeId, s, now, mayEvict: false, out slot) is var refused and not WireRejection.None)
                {
                    return refused;
                }
            }

            ref PeerRecord node = ref _peers[slot];
            if (IsStaleCapabilities(node, generation, capabilities.Version))
            {
                _stats = _stats with { Stale = _stats.Stale + 1 };
                return WireRejection.None;
            }

            node.Capabilities = SharedCapabilities?.Intern(generation, capabilities) ?? capabilities;
            node.CapabilitiesGeneration = generation;
            node.CapabilitiesHeardAt = _time.GetTimestamp();
            if (!node.HasState)
            {
                ScheduleLivenessLocked(slot, node.CapabilitiesHeardAt + CapabilitiesForgetAfter(s) + 1);
            }

            _relays.Set(slot, capabilities: true, RetransmitLimit(s));
            node.Changed = true;
            _stats = _stats with { Merged = _stats.Merged + 1 };
            _metrics.GossipMerged("capabilities");
            TellViewLocked(in node, node.HasState ? MeshChangeKind.Updated : null, now);
            return WireRejection.None;
        }
    }

    /// <summary>
    /// Adds a node to the adapter and the view; in a full view, may first remove the weakest gossip
    /// entry. Refused (<see cref="WireRejection.HostEntry"/>) while the host's own entry holds the id
    /// (<see cref="IMeshViewWriter.Upsert"/>): the host's description stands, and no other node is
    /// pushed out to make room for one that already has a place.
    /// </summary>
    private WireRejection TryAdmitLocked(string nodeId, Settings s, DateTimeOffset now, bool mayEvict, out int slot)
    {
        if (_view.ContainsLocked(nodeId))
        {
            slot = RelayQueue.NoSlot;
            return WireRejection.HostEntry;
        }

        byte[] utf8;
        if (SharedCapabilities is { } shared)
        {
            shared.InternId(nodeId, out utf8);
        }
        else
        {
            utf8 = Encoding.UTF8.GetBytes(nodeId);
        }

        // Found by id only once the view took it (after any eviction), as the id dictionary's order follows.
        slot = _peers.Reserve(nodeId, utf8, PhiWindow.Start(s.Phi));
        if (!_view.TryAddEntryLocked(nodeId, _peers, slot) && !(mayEvict && EvictWeakestLocked(now) && _view.TryAddEntryLocked(nodeId, _peers, slot)))
        {
            _peers.Remove(slot);
            _metrics.BoundExceeded("mesh-nodes");
            slot = RelayQueue.NoSlot;
            return WireRejection.ViewFull;
        }

        _peers.Index(slot);
        return WireRejection.None;
    }

    /// <summary>
    /// Makes room in a full view: removes the gossip entry with the weakest claim to its place,
    /// dead before suspect before heard of only through capabilities before alive but never heard
    /// again after its first state (what a burst of forged ids leaves), the longest silent first.
    /// A node alive and heard more than once is never pushed out.
    /// </summary>
    private bool EvictWeakestLocked(DateTimeOffset now)
    {
        int weakest = RelayQueue.NoSlot;
        int weakestRank = int.MaxValue;
        foreach (int slot in _peers.Slots)
        {
            ref readonly PeerRecord node = ref _peers[slot];
            if (node.Released)
            {
                // The host's entry holds the id's place in the view: forgetting gossip's record frees none.
                continue;
            }

            int rank = node.Liveness switch
            {
                NodeLiveness.Dead => 0,
                NodeLiveness.Suspect => 1,
                _ when !node.HasState => 2,
                _ when node.StatesThisRun <= 1 => 3,
                _ => int.MaxValue,
            };
            if (rank < weakestRank || (rank == weakestRank && rank != int.MaxValue && node.LastHeardTicks < _peers[weakest].LastHeardTicks))
            {
                weakest = slot;
                weakestRank = rank;
            }
        }

        if (weakest == RelayQueue.NoSlot || weakestRank == int.MaxValue)
        {
            return false;
        }

        string weakestId = _peers[weakest].NodeId;
        _relays.RemoveNode(weakest);
        _peers.Remove(weakest);
        _view.RemoveEntryLocked(weakestId, _peers, weakest);
        AddChangeLocked(new MeshChange(weakestId, MeshChangeKind.Removed, now));
        _metrics.BoundExceeded("mesh-evicted");
        return true;
    }

    /// <summary>How long (in timestamp units) a node heard of only through its capabilities stays in the view.</summary>
    private long CapabilitiesForgetAfter(Settings s) =>
        (long)((s.Liveness.Settings.DeadAfter + s.Liveness.Settings.RemoveAfter).TotalSeconds * _time.TimestampFrequency);

    private void CheckLivenessLocked(Settings s, DateTimeOffset now)
    {
        long timestamp = _time.GetTimestamp();
        List<int>? removed = null;
        long forgetAfter = CapabilitiesForgetAfter(s);

        // No node's liveness can change before its deadline: only the nodes due are looked at, each
        // once a round (a node looked at and not changed is queued again under its deadline now).
        // Each node is queued at most once, so each is looked at at most once; they come out by
        // deadline, then slot (LivenessQueue), which is the order of the changes and removals below.
        _livenessDue.Clear();
        while (_peers.LivenessQueue.TryDequeueDue(timestamp, out int due))
        {
            _livenessDue.Add(due);
        }

        if (_livenessDue.Count > 0)
        {
            _livenessPasses++;
            _livenessChecks += _livenessDue.Count;
        }

        foreach (int slot in _livenessDue)
        {
            ref PeerRecord node = ref _peers[slot];
            if (!node.HasState)
            {
                // Heard of only through its capabilities (its states lost or never sent): it holds a
                // place in the bounded view, so it goes when a silent node with state would be removed.
                if (timestamp - node.CapabilitiesHeardAt > forgetAfter)
                {
                    (removed ??= []).Add(slot);
                }
                else
                {
                    ScheduleLivenessLocked(slot, node.CapabilitiesHeardAt + forgetAfter + 1);
                }

                continue;
            }

            LivenessDecision decision = s.Liveness.Decide(node.Liveness, node.Detector, s.Phi, timestamp);
            if (decision.Change is { } change)
            {
                node.Liveness = decision.Next;
                node.Changed = true;
                TellViewLocked(in node, change, now);
                if (decision.Remove)
                {
                    (removed ??= []).Add(slot);
                    continue;
                }
            }

            ScheduleLivenessLocked(slot, s.Liveness.NextChange(node.Liveness, node.Detector, s.Phi));
        }

        _livenessDue.Clear();

        ExpireTombstonesLocked(s, now);
        long nowMs = ClockMilliseconds();
        int expired = _proofs.Expire(nowMs, s.ProofIdleMilliseconds);
        for (int i = 0; i < expired; i++)
        {
            _metrics.GossipRejected("unproven-sender");
        }

        if (removed is null)
        {
            return;
        }

        foreach (int slot in removed)
        {
            string nodeId = _peers[slot].NodeId;
            _relays.RemoveNode(slot);

            // The view's entry goes with the record unless the host has written its own under the id since.
            _view.RemoveEntryLocked(nodeId, _peers, slot);

            // A tombstone keeps a removed node's last run out while peers may still relay it; one that never sent a state has none to keep out.
            if (_peers[slot].HasState)
            {
                Bury(_peers[slot], s, now);
            }

            _peers.Remove(slot);
        }
    }

    /// <summary>
    /// Queues the node in <paramref name="slot"/> to have its liveness looked at from <paramref name="deadline"/>
    /// (timestamp ticks) when that is earlier than the deadline it is queued under; a later deadline
    /// is left to be found when the earlier one comes due. The node keeps one place in the queue.
    /// </summary>
    private void ScheduleLivenessLocked(int slot, long deadline) => _peers.LivenessQueue.Schedule(slot, deadline);

    /// <summary>Makes every node due now (new liveness settings move every deadline): they come out in slot order.</summary>
    private void ScheduleEveryNodeLocked() => _peers.LivenessQueue.QueueOnly(_peers.Slots, long.MinValue);

    private void Bury(in PeerRecord node, Settings s, DateTimeOffset now)
    {
        var tombstone = new Tombstone(node.State.Generation, node.State.Version, WireQuantizer.NewestObservation(node.State), now.UtcTicks);
        if (_tombstones.TryAdd(node.NodeId, tombstone))
        {
            _tombstoneOrder.Enqueue(node.NodeId);
        }
        else
        {
            _tombstones[node.NodeId] = tombstone;
        }

        // Bounded like the view: the oldest tombstones go first.
        while (_tombstoneOrder.Count > s.Options.MaxNodes && _tombstoneOrder.TryDequeue(out string? oldest))
        {
            _tombstones.Remove(oldest);
        }
    }

    private void ExpireTombstonesLocked(Settings s, DateTimeOffset now)
    {
        // Buried in order, so the oldest are at the front; a re-buried id waits behind older ones (at most one lifetime late).
        while (_tombstoneOrder.TryPeek(out string? oldest)
            && (!_tombstones.TryGetValue(oldest, out Tombstone buried) || now.UtcTicks - buried.BuriedTicks > s.TombstoneLifetime.Ticks))
        {
            _tombstoneOrder.Dequeue();
            _tombstones.Remove(oldest);
        }
    }

    private void Reject(WireRejection why, string from) => Reject(ReasonOf(why), from);

    private void Reject(string reason, string from)
    {
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
        WireRejection.OtherProtocol => "other-protocol",
        WireRejection.UnknownMessageType => "unknown-message-type",
        WireRejection.ReservedFlags => "reserved-flags",
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
        WireRejection.HostEntry => "host-entry",
        _ => "none",
    };

    /// <summary>What the first pass learned of a message.</summary>
    private struct Inspection
    {
        /// <summary>It carries states or capabilities.</summary>
        public bool HasNews;

        /// <summary>The sender challenges this node.</summary>
        public Cookie? Challenge;

        /// <summary>The sender answers this node's challenge.</summary>
        public Cookie? Echo;
    }

    /// <summary>What is kept of a removed node's last run, so relays of it stay out.</summary>
    private readonly record struct Tombstone(long Generation, long Version, long ObservedTicks, long BuriedTicks);
}
