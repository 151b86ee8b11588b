using CostModel.Gossip.Wire;
using CostModel.Mesh;

namespace CostModel.Gossip;

/// <content>
/// Sending: dissemination of relayed updates and full-state replies.
/// </content>
public sealed partial class GossipAdapter
{
    // A message is taken as full after this many records in a row did not fit in what is left of it:
    // records are about 70 to 300 bytes, so a few misses in a row mean the space left is smaller than
    // almost any record, and walking on would cost a look at every queued record for nothing (in a
    // large mesh the queue holds most of the view). Records passed over stay queued for the next message.
    private const int MaxConsecutiveMisses = 4;

    // Capabilities are written first in up to this share of a message's room (1/4): they change
    // rarely (a node's whole life may have one), a node whose capabilities a router lacks is no
    // candidate of it, and in a mesh whose messages are full, new states never stop coming: written
    // after the states of their level, capabilities starved (a 500-node simulated mesh: after 150 s
    // each node knew what 135 to 265 of the 500 served; the test: ConvergenceTests, a busy mesh).
    // A share, not all of the room: when a large mesh starts, every node has every other's
    // capabilities to relay, and the relayed states that carry liveness must still get through.
    private const int CapabilityRoomShare = 4;

    // Writes one Gossip message with the updates relayed fewest times so far (this node's first):
    // capabilities in up to a quarter of the room, then states, then capabilities again in what
    // room is left; each kind from the relay queue's bucket with the most transmits left down, each
    // bucket in the order its records reached it.
    private int WriteDisseminationLocked(Span<byte> destination, Settings s, long nowTicks)
    {
        if (_relays.Count == 0 && _selfTransmits <= 0 && _selfCapabilityTransmits <= 0)
        {
            return 0;
        }

        int at = WireCodec.WriteHeader(destination, MessageType.Gossip, s.ClusterHash, s.Keyring, ClockMilliseconds());
        int headerEnd = at;
        int end = destination.Length - WireFormat.TrailerBytes(s.Keyring.Protection);
        int records = 0;
        if (_selfTransmits > 0 && _selfPublished && WireCodec.TryWriteState(destination[at..end], _selfIdUtf8, _self, nowTicks, out int written))
        {
            at += written;
            _selfTransmits--;
            records++;
        }

        if (_selfCapabilityTransmits > 0 && WireCodec.TryWriteCapabilities(destination[at..end], _selfIdUtf8, _self.State.Generation, _capabilities, out written))
        {
            at += written;
            _selfCapabilityTransmits--;
            records++;
        }

        // Taken from the queue once the message is written, so that a record moved down a bucket is not met again in this message.
        _sent.Clear();
        var capabilityWalk = new RelayWalk(_relays, capabilities: true);
        var stateWalk = new RelayWalk(_relays, capabilities: false);
        WriteRelays(destination, ref at, at + ((end - at) / CapabilityRoomShare), end, ref capabilityWalk, ref records, s, nowTicks);
        WriteRelays(destination, ref at, end, end, ref stateWalk, ref records, s, nowTicks);
        WriteRelays(destination, ref at, end, end, ref capabilityWalk, ref records, s, nowTicks);

        foreach ((int slot, bool capabilities) in _sent)
        {
            _relays.Sent(slot, capabilities);
        }

        if (at == headerEnd)
        {
            return 0;
        }

        _stats = _stats with { Sent = _stats.Sent + 1 };
        _metrics.GossipSent("gossip");
        return WireCodec.Seal(destination, at, s.Keyring);
    }

    /// <summary>
    /// Writes queued records of one kind from where <paramref name="walk"/> stands while the message
    /// has not reached <paramref name="stopAt"/> (a record may run past it, up to <paramref name="end"/>),
    /// holds fewer than the most records, and the last few records fitted. A record that does not fit
    /// stays queued for the next message; after <see cref="MaxConsecutiveMisses"/> in a row the message is full.
    /// </summary>
    private void WriteRelays(Span<byte> destination, ref int at, int stopAt, int end, ref RelayWalk walk, ref int records, Settings s, long nowTicks)
    {
        int misses = 0;
        int slot;
        while ((slot = walk.Current) != RelayQueue.NoSlot && at < stopAt && records < s.Options.MaxRecordsPerMessage && misses < MaxConsecutiveMisses)
        {
            _relayRecordsVisited++;
            int written = 0;
            ref readonly PeerRecord node = ref _peers[slot];
            bool fits = walk.Capabilities
                ? node.Capabilities is { } known && WireCodec.TryWriteCapabilities(destination[at..end], node.NodeIdUtf8, node.CapabilitiesGeneration, known, out written)
                : node.HasState && WireCodec.TryWriteState(destination[at..end], node.NodeIdUtf8, node.State, nowTicks, out written);
            walk.Next();
            if (!fits)
            {
                misses++;
                continue;
            }

            at += written;
            records++;
            misses = 0;
            _sent.Add((slot, walk.Capabilities));
        }
    }

    /// <summary>A walk over the queued records of one kind: the buckets from the most transmits left down, each in order. The queue must not change during the walk.</summary>
    private struct RelayWalk
    {
        private readonly RelayQueue _queue;
        private int _transmits;

        public RelayWalk(RelayQueue queue, bool capabilities)
        {
            _queue = queue;
            Capabilities = capabilities;
            _transmits = queue.Highest + 1;
            Current = RelayQueue.NoSlot;
            NextBucket();
        }

        /// <summary>True for a walk over capabilities, false for states.</summary>
        public bool Capabilities { get; }

        /// <summary>The slot of the record the walk stands at; <see cref="RelayQueue.NoSlot"/> once it has passed the last.</summary>
        public int Current { get; private set; }

        /// <summary>Moves to the next record.</summary>
        public void Next()
        {
            Current = Current != RelayQueue.NoSlot ? _queue.NextOf(Current, Capabilities) : RelayQueue.NoSlot;
            if (Current == RelayQueue.NoSlot)
            {
                NextBucket();
            }
        }

        private void NextBucket()
        {
            while (Current == RelayQueue.NoSlot && --_transmits >= 1)
            {
                Current = _queue.First(_transmits, Capabilities);
            }
        }
    }

    /// <summary>
    /// Answers a proven sender's sync request with this node's full state, in as many messages as
    /// it takes, each carrying the echo of the sender's challenge when it sent one. At most one
    /// reply per sender per <see cref="GossipOptions.SyncReplyInterval"/>, and no more bytes than
    /// the node-wide sync budget allows (the rest reaches the sender by ordinary gossip).
    /// </summary>
    private void ReplyWithFullState(string to, Cookie? echo, Settings s, DateTimeOffset now)
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
            var writer = new FullStateWriter(s, messages, ClockMilliseconds(), echo);
            if (_selfPublished)
            {
                writer.Add((d) => WireCodec.TryWriteState(d, _selfIdUtf8, _self, nowTicks, out int n) ? n : 0);
            }

            writer.Add((d) => WireCodec.TryWriteCapabilities(d, _selfIdUtf8, _self.State.Generation, _capabilities, out int n) ? n : 0);
            foreach (int slot in _peers.Slots)
            {
                // Each write runs at once, within this iteration: the record is read where it stands.
                if (_peers[slot].HasState && _peers[slot].Liveness != NodeLiveness.Dead)
                {
                    writer.Add((d) => WireCodec.TryWriteState(d, _peers[slot].NodeIdUtf8, _peers[slot].State, nowTicks, out int n) ? n : 0);
                }

                if (_peers[slot].Capabilities is { } capabilities)
                {
                    writer.Add((d) => WireCodec.TryWriteCapabilities(d, _peers[slot].NodeIdUtf8, _peers[slot].CapabilitiesGeneration, capabilities, out int n) ? n : 0);
                }
            }

            writer.Finish();
            long nowMs = ClockMilliseconds();
            int allowed = 0;
            while (allowed < messages.Count && _syncReplyBytes.TryTake(messages[allowed].Length, nowMs))
            {
                allowed++;
            }

            if (allowed < messages.Count)
            {
                _metrics.GossipRejected("sync-budget");
                messages.RemoveRange(allowed, messages.Count - allowed);
            }

            _stats = _stats with { Sent = _stats.Sent + messages.Count };
        }

        foreach (byte[] message in messages)
        {
            _metrics.GossipSent("sync-reply");
            Emit(new GossipMessage(message, to));
        }
    }

    /// <summary>
    /// Answers a message from a sender not (or no longer) proven: a challenge for it to echo (at
    /// most one per address per <see cref="SenderProofs.ChallengeInterval"/>), and the echo of its
    /// own challenge when it sent one (never held back by that interval: two nodes meeting
    /// challenge each other at once, and each must answer the other). Small (under 100 bytes)
    /// and within a node-wide budget, so a replayed or forged message from any number of
    /// addresses makes this node send no more than it received, and at most
    /// <see cref="SenderProofs.ChallengesPerSecond"/> messages a second.
    /// </summary>
    private void SendChallenge(string to, Cookie? echo, Settings s, long nowMs)
    {
        byte[] buffer = new byte[WireFormat.Overhead(s.Keyring.Protection) + (2 * WireCodec.CookieRecordBytes)];
        int length;
        bool challenge;
        lock (_view.Gate)
        {
            challenge = _proofs.TryChallenge(to, nowMs);
            bool answer = echo is not null && (challenge || _proofs.TryTakeBudget(nowMs));
            if (!challenge && !answer)
            {
                _metrics.GossipRejected("challenge-rate-limited");
                return;
            }

            int at = WireCodec.WriteHeader(buffer, MessageType.Gossip, s.ClusterHash, s.Keyring, nowMs);
            if (answer && WireCodec.TryWriteCookie(buffer.AsSpan(at), RecordKind.Echo, echo!.Value, out int written))
            {
                at += written;
            }

            if (challenge && WireCodec.TryWriteCookie(buffer.AsSpan(at), RecordKind.Challenge, _proofs.CookieFor(to, nowMs), out int written2))
            {
                at += written2;
            }

            length = WireCodec.Seal(buffer, at, s.Keyring);
            _stats = _stats with { Sent = _stats.Sent + 1, Challenges = _stats.Challenges + (challenge ? 1 : 0) };
        }

        _metrics.GossipSent(challenge ? "challenge" : "echo");
        Emit(new GossipMessage(buffer.AsMemory(0, length), to));
    }

    /// <summary>Answers a proven sender's challenge (it is proving this node in turn).</summary>
    private void SendEcho(string to, Cookie echo, Settings s)
    {
        byte[] buffer = new byte[WireFormat.Overhead(s.Keyring.Protection) + WireCodec.CookieRecordBytes];
        int length;
        lock (_view.Gate)
        {
            int at = WireCodec.WriteHeader(buffer, MessageType.Gossip, s.ClusterHash, s.Keyring, ClockMilliseconds());
            WireCodec.TryWriteCookie(buffer.AsSpan(at), RecordKind.Echo, echo, out int written);
            length = WireCodec.Seal(buffer, at + written, s.Keyring);
            _stats = _stats with { Sent = _stats.Sent + 1 };
        }

        _metrics.GossipSent("echo");
        Emit(new GossipMessage(buffer.AsMemory(0, length), to));
    }

    private sealed class FullStateWriter(Settings s, List<byte[]> messages, long clockMilliseconds, Cookie? echo)
    {
        private byte[]? _buffer;
        private int _at;

        // Records in the current message, the echo included (the receiver's record bound counts it), and how many are states or capabilities.
        private int _records;
        private int _content;

        public void Add(WriteRecord write)
        {
            for (int attempt = 0; attempt < 2; attempt++)
            {
                if (_buffer is null)
                {
                    _buffer = new byte[s.Options.Mtu];
                    _at = WireCodec.WriteHeader(_buffer, MessageType.SyncReply, s.ClusterHash, s.Keyring, clockMilliseconds);
                    _records = 0;
                    _content = 0;
                    if (echo is { } owed && WireCodec.TryWriteCookie(_buffer.AsSpan(_at), RecordKind.Echo, owed, out int echoBytes))
                    {
                        _at += echoBytes;
                        _records++;
                    }
                }

                int end = _buffer.Length - WireFormat.TrailerBytes(s.Keyring.Protection);
                int written = _records < s.Options.MaxRecordsPerMessage ? write(_buffer.AsSpan(_at, end - _at)) : 0;
                if (written > 0)
                {
                    _at += written;
                    _records++;
                    _content++;
                    return;
                }

                if (_content == 0)
                {
                    // Too large even for an empty message: skipped.
                    return;
                }

                Finish();
            }
        }

        public void Finish()
        {
            if (_buffer is null || _content == 0)
            {
                return;
            }

            int length = WireCodec.Seal(_buffer, _at, s.Keyring);
            messages.Add(_buffer.AsSpan(0, length).ToArray());
            _buffer = null;
        }
    }

    private delegate int WriteRecord(Span<byte> destination);
}
