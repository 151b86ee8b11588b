namespace CostModel.Gossip;

/// <summary>
/// The seam between the library and the host's transport: the host moves bytes, the adapter
/// decides what they say and what to believe.
/// </summary>
/// <remarks>
/// Hosts gossip in one of two ways, and the adapter supports both:
/// <list type="bullet">
/// <item><description><b>Push</b>: subscribe to <see cref="Outgoing"/> and send each message to
/// its <see cref="GossipMessage.To"/> peer, or to a few random peers when it has none.</description></item>
/// <item><description><b>Pull</b>: on the host's own gossip round, call <see cref="WritePayload"/>
/// with the space left in the datagram (like memberlist's <c>GetBroadcasts</c>).</description></item>
/// </list>
/// A joining node sends <see cref="WriteSyncRequest"/>'s bytes to a seed; the seed answers with
/// its full state through <see cref="Outgoing"/>, addressed to the joiner.
/// </remarks>
public interface IGossipAdapter
{
    /// <summary>Push: messages the adapter wants sent (on significant change, as heartbeats, and replies to sync requests). Each is at most the configured MTU.</summary>
    IObservable<GossipMessage> Outgoing { get; }

    /// <summary>Pull: writes one message with the states most worth sending that fit into <paramref name="destination"/>.</summary>
    /// <param name="destination">The space the host offers; its length is the byte budget.</param>
    /// <returns>Bytes written (0 when nothing fits or nothing is worth sending).</returns>
    int WritePayload(Span<byte> destination);

    /// <summary>Writes a sync request (this node's state and a request for the receiver's full state) for a joining node to send to a seed.</summary>
    /// <param name="destination">At least the configured MTU.</param>
    /// <returns>Bytes written.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is smaller than the MTU.</exception>
    int WriteSyncRequest(Span<byte> destination);

    /// <summary>Hands bytes received from a peer to the adapter. Never throws: bad input is counted and dropped.</summary>
    /// <param name="payload">The bytes as received.</param>
    /// <param name="from">The peer's address or id, as the host will accept it back in <see cref="GossipMessage.To"/>.</param>
    /// <returns>
    /// True when the message was accepted: authentic (when keys are configured), well-formed in
    /// every record, and from a sender proven live. False when it was refused, or held until its
    /// sender answers a challenge. A transport must treat only senders of accepted messages as
    /// gossip peers (seeds excepted): anyone can send a datagram.
    /// </returns>
    bool Receive(ReadOnlySpan<byte> payload, string from);
}

/// <summary>A message the adapter asks the host to send.</summary>
/// <param name="Payload">The bytes; the host must not change them.</param>
/// <param name="To">The peer to send to (a reply to a sync request), or null for the host's usual gossip peers.</param>
public readonly record struct GossipMessage(ReadOnlyMemory<byte> Payload, string? To);
