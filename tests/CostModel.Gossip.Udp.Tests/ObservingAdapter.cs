using System.Collections.Concurrent;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// Sits between a transport and a real gossip adapter, changing nothing: it keeps the last gossip
/// payload and sync request the adapter wrote (for an attacker to replay) and which senders the
/// adapter accepted (the only ones the transport may make peers).
/// </summary>
internal sealed class ObservingAdapter(IGossipAdapter inner) : IGossipAdapter
{
    private readonly ConcurrentDictionary<string, bool> _accepted = new(StringComparer.Ordinal);
    private byte[]? _lastPayload;
    private byte[]? _syncRequest;

    public IObservable<GossipMessage> Outgoing => inner.Outgoing;

    /// <summary>The last message a gossip round carried (signed, well-formed: a replay candidate).</summary>
    public byte[]? LastPayload => Volatile.Read(ref _lastPayload);

    /// <summary>The sync request sent to the seeds at start.</summary>
    public byte[]? SyncRequest => Volatile.Read(ref _syncRequest);

    public bool Accepted(string from) => _accepted.ContainsKey(from);

    public int WritePayload(Span<byte> destination)
    {
        int written = inner.WritePayload(destination);
        if (written > 0)
        {
            Volatile.Write(ref _lastPayload, destination[..written].ToArray());
        }

        return written;
    }

    public int WriteSyncRequest(Span<byte> destination)
    {
        int written = inner.WriteSyncRequest(destination);
        Volatile.Write(ref _syncRequest, destination[..written].ToArray());
        return written;
    }

    public bool Receive(ReadOnlySpan<byte> payload, string from)
    {
        bool accepted = inner.Receive(payload, from);
        if (accepted)
        {
            _accepted.TryAdd(from, true);
        }

        return accepted;
    }
}
