namespace CostModel.Gossip.Udp;

/// <summary>Counters of a <see cref="UdpGossipTransport"/> since it was created.</summary>
/// <remarks>
/// Receiving: <c>DatagramsReceived = DatagramsDelivered + ReceivedOversize + ReceivedQueueFull</c>
/// plus those still queued (or skipped at dispose).
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

    /// <summary>Received datagrams dropped because the queue for the adapter was full.</summary>
    public long ReceivedQueueFull { get; init; }

    /// <summary>Socket errors while receiving (for example ICMP port unreachable reported as a reset); the loop continues.</summary>
    public long ReceiveErrors { get; init; }

    /// <summary>Messages to send dropped because they were larger than the MTU.</summary>
    public long SendOversize { get; init; }

    /// <summary>Messages dropped because their addressee was not an <c>ip:port</c> the socket can reach.</summary>
    public long SendInvalidAddress { get; init; }

    /// <summary>Messages and rounds with something to send but no known peer.</summary>
    public long SendNoPeers { get; init; }

    /// <summary>Socket errors while sending.</summary>
    public long SendErrors { get; init; }

    /// <summary>Times the adapter threw, or its <see cref="IGossipAdapter.Outgoing"/> stream failed.</summary>
    public long AdapterErrors { get; init; }

    /// <summary>Seed peers that could not be parsed or resolved at start.</summary>
    public long UnresolvedSeeds { get; init; }

    /// <summary>Peers known now: resolved seeds and addresses heard from.</summary>
    public int Peers { get; init; }
}
