using CostModel.Gossip.Wire;
using CostModel.Mesh;

namespace CostModel.Gossip;

/// <content>
/// Sending: dissemination of relayed updates and full-state replies.
/// </content>
public sealed partial class GossipAdapter
{
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
}
