using CostModel.Gossip;

namespace CostModel.Testing.Gossip;

/// <summary>
/// A gossip adapter attached to an <see cref="InMemoryNetwork"/> endpoint, wired the way a host
/// wires one to its transport (made by <see cref="InMemoryNetwork.Attach"/>).
/// </summary>
/// <remarks>
/// What the network delivers to the address goes to <see cref="IGossipAdapter.Receive"/>. Each
/// <see cref="IGossipAdapter.Outgoing"/> message goes to its <see cref="GossipMessage.To"/>, or,
/// without one, to <see cref="Fanout"/> random other endpoints. <see cref="GossipRound"/> is the
/// host's periodic pull; the network has no timer of its own for it, so a test or simulator calls
/// it on its own schedule.
/// </remarks>
public sealed class GossipEndpoint : IDisposable
{
    /// <summary>The default fanout: 3 peers, memberlist's <c>GossipNodes</c> default.</summary>
    public const int DefaultFanout = 3;

    private readonly InMemoryNetwork _network;
    private readonly IDisposable _subscription;
    private int _disposed;
    private byte[]? _roundBuffer;
    private List<string>? _roundPeers;

    internal GossipEndpoint(InMemoryNetwork network, string address, IGossipAdapter adapter, int fanout)
    {
        _network = network;
        Address = address;
        Adapter = adapter;
        Fanout = fanout;
        _subscription = adapter.Outgoing.Subscribe(OnOutgoing);
    }

    /// <summary>The endpoint's address.</summary>
    public string Address { get; }

    /// <summary>The attached adapter.</summary>
    public IGossipAdapter Adapter { get; }

    /// <summary>How many random peers a message without an addressee, and each gossip round, goes to.</summary>
    public int Fanout { get; }

    /// <summary>
    /// One host gossip round: pulls <see cref="IGossipAdapter.WritePayload"/> with the network's
    /// default MTU (<see cref="LinkConditions.Mtu"/> of <see cref="InMemoryNetwork.DefaultConditions"/>)
    /// as the budget, and sends what it wrote to <see cref="Fanout"/> random other endpoints.
    /// </summary>
    /// <returns>How many messages were sent: 0 when the adapter wrote nothing or there is no other endpoint.</returns>
    public int GossipRound()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int mtu = _network.DefaultConditions.Mtu;

        // One buffer per endpoint, reused: Send copies the bytes before it returns. A round started
        // while this one is sending (from a receive callback) takes a fresh buffer.
        byte[] buffer = Interlocked.Exchange(ref _roundBuffer, null) is { } reused && reused.Length == mtu ? reused : new byte[mtu];
        try
        {
            int written = WriteRound(buffer);
            return written <= 0 ? 0 : SendRound(buffer.AsSpan(0, written));
        }
        finally
        {
            Volatile.Write(ref _roundBuffer, buffer);
        }
    }

    /// <summary>
    /// The first half of <see cref="GossipRound"/>: the adapter's round written into
    /// <paramref name="buffer"/> (cleared first, so that what is sent never depends on an earlier
    /// round's bytes), nothing sent. Touches this endpoint's adapter only, so the endpoints of one
    /// network may write at once (the simulator's gossip rounds on several cores).
    /// </summary>
    /// <param name="buffer">The round's space: the network's default MTU long (the adapter's own MTU limits it further).</param>
    /// <returns>Bytes written; 0 when there is nothing to send.</returns>
    internal int WriteRound(byte[] buffer)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        buffer.AsSpan().Clear();
        return Adapter.WritePayload(buffer);
    }

    /// <summary>The second half of <see cref="GossipRound"/>: <paramref name="payload"/> sent to <see cref="Fanout"/> random other endpoints.</summary>
    /// <param name="payload">What <see cref="WriteRound"/> wrote; nothing is sent when it is empty.</param>
    /// <returns>How many messages were sent.</returns>
    internal int SendRound(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return 0;
        }

        // The peer list is reused like the buffer (a round per node every 200 ms adds up in a large mesh).
        List<string> peers = Interlocked.Exchange(ref _roundPeers, null) ?? new List<string>(Fanout);
        _network.PickPeers(Address, Fanout, peers);
        foreach (string peer in peers)
        {
            _network.Send(Address, peer, payload);
        }

        int sent = peers.Count;
        Volatile.Write(ref _roundPeers, peers);
        return sent;
    }

    /// <summary>Sends <see cref="IGossipAdapter.WriteSyncRequest"/>'s bytes to a seed, as a joining node does.</summary>
    /// <param name="seed">The seed's address.</param>
    /// <exception cref="ArgumentException">The adapter's MTU is larger than the network's default MTU.</exception>
    public void SendSyncRequest(string seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(seed);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        byte[] buffer = NewBuffer();
        int written = Adapter.WriteSyncRequest(buffer);
        _network.Send(Address, seed, buffer.AsSpan(0, written));
    }

    /// <summary>Stops sending the adapter's messages and removes the endpoint from the network.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _subscription.Dispose();
        _network.RemoveEndpoint(Address);
    }

    // A fresh buffer per call: a receive callback may start another round on this endpoint while one is sending.
    private byte[] NewBuffer() => new byte[_network.DefaultConditions.Mtu];

    private void OnOutgoing(GossipMessage message)
    {
        if (message.To is { } to)
        {
            _network.Send(Address, to, message.Payload.Span);
            return;
        }

        _network.SendToPeers(Address, Fanout, message.Payload.Span);
    }
}
