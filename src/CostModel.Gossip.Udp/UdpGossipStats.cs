namespace CostModel.Gossip.Udp;

/// <summary>Counters of a <see cref="UdpGossipTransport"/> since it was created.</summary>
/// <remarks>
/// Receiving: <c>DatagramsReceived = DatagramsDelivered + ReceivedOversize + ReceivedSourceLimited
/// + ReceivedStrangerLimited + ReceivedQueueFull</c> plus those still queued (or skipped at dispose);
/// of those delivered, <see cref="DatagramsRefused"/> were refused by the adapter.
/// </remarks>
public readonly record struct UdpGossipStats
{
    /// <summary>Datagrams the socket accepted for sending.</summary>
    public long DatagramsSent { get; init; }

    /// <summary>Payload bytes of <see cref="DatagramsSent"/>.</summary>
    public long BytesSent { get; init; }

    /// <summary>Datagrams read from the socket, dropped ones included.</summary>
    public long DatagramsReceived { get; init; }

    /// <summary>Payload bytes of <see cref="DatagramsReceived"/> (an oversize datagram counts with the bytes read, which may be fewer than it had).</summary>
    public long BytesReceived { get; init; }

    /// <summary>Datagrams handed to <see cref="IGossipAdapter.Receive"/>.</summary>
    public long DatagramsDelivered { get; init; }

    /// <summary>Received datagrams dropped because they were larger than the MTU.</summary>
    public long ReceivedOversize { get; init; }

    /// <summary>Received datagrams dropped because the queue for the adapter was full (or, from strangers, their half of it).</summary>
    public long ReceivedQueueFull { get; init; }

    /// <summary>Received datagrams dropped because their source's budget was spent: a peer's own (<see cref="UdpGossipOptions.PeerReceiveLimit"/>) or a stranger IP address's (<see cref="UdpGossipOptions.StrangerReceiveLimitPerAddress"/>).</summary>
    public long ReceivedSourceLimited { get; init; }

    /// <summary>Received datagrams from strangers dropped because the budget all strangers share was spent (<see cref="UdpGossipOptions.StrangerReceiveLimit"/>).</summary>
    public long ReceivedStrangerLimited { get; init; }

    /// <summary>Delivered datagrams the adapter refused (or held until their sender answers a challenge): their senders did not become peers by them.</summary>
    public long DatagramsRefused { get; init; }

    /// <summary>Socket errors while receiving (for example ICMP port unreachable reported as a reset); the loop continues.</summary>
    public long ReceiveErrors { get; init; }

    /// <summary>Messages to send dropped because they were larger than the MTU.</summary>
    public long SendOversize { get; init; }

    /// <summary>Messages dropped because their addressee was not an <c>ip:port</c> the socket can reach.</summary>
    public long SendInvalidAddress { get; init; }

    /// <summary>Addressed messages to strangers dropped because that IP address's send budget was spent (<see cref="UdpGossipOptions.StrangerSendLimitPerAddress"/>).</summary>
    public long SendDestinationLimited { get; init; }

    /// <summary>Addressed messages to strangers dropped because the send budget all strangers share was spent (<see cref="UdpGossipOptions.StrangerSendLimit"/>).</summary>
    public long SendStrangerLimited { get; init; }

    /// <summary>Messages and rounds with something to send but no known peer.</summary>
    public long SendNoPeers { get; init; }

    /// <summary>Socket errors while sending.</summary>
    public long SendErrors { get; init; }

    /// <summary>Times the adapter threw, or its <see cref="IGossipAdapter.Outgoing"/> stream failed.</summary>
    public long AdapterErrors { get; init; }

    /// <summary>Seed peers that could not be parsed or resolved at start.</summary>
    public long UnresolvedSeeds { get; init; }

    /// <summary>Senders that became peers because the adapter accepted their message.</summary>
    public long PeersAdmitted { get; init; }

    /// <summary>Peers forgotten after <see cref="UdpGossipOptions.PeerTimeout"/> without an accepted message.</summary>
    public long PeersAgedOut { get; init; }

    /// <summary>Peers forgotten to make room for a new one when the table held <see cref="UdpGossipOptions.MaxPeers"/>.</summary>
    public long PeersEvicted { get; init; }

    /// <summary>Peers known now: resolved seeds and senders whose messages the adapter accepted.</summary>
    public int Peers { get; init; }
}
