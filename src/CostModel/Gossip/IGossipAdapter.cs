namespace CostModel.Gossip;

/// <summary>
/// The seam between the library and the host's transport: the host moves bytes, the adapter
/// decides what they say and what to believe.
/// </summary>
public interface IGossipAdapter
{
    /// <summary>Push: payloads the adapter wants sent (on significant change and as heartbeats). Each is at most the configured MTU.</summary>
    IObservable<ReadOnlyMemory<byte>> Outgoing { get; }

    /// <summary>Pull: writes states that fit into <paramref name="destination"/> for the host's own gossip round.</summary>
    /// <param name="destination">The space the host offers; its length is the byte budget.</param>
    /// <returns>Bytes written (0 when nothing fits or nothing is worth sending).</returns>
    int WritePayload(Span<byte> destination);

    /// <summary>Hands bytes received from a peer to the adapter. Never throws: bad input is counted and dropped.</summary>
    /// <param name="payload">The bytes as received.</param>
    /// <param name="from">The peer's address or id, for logs and rate limits.</param>
    void Receive(ReadOnlySpan<byte> payload, string from);
}
