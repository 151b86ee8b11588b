using System.Net;
using System.Net.Sockets;

namespace CostModel.Gossip.Udp;

/// <summary>
/// An address gossip may go to or come from, parsed once: the socket form for sending, the
/// <c>ip:port</c> text the adapter sees, and the IP address budgets are kept by. A gossip peer
/// once in the <see cref="PeerTable"/>; a stranger otherwise.
/// </summary>
internal sealed class Peer(SocketAddress address, string text, IPAddress host, bool isSeed)
{
    public SocketAddress Address { get; } = address;

    public string Text { get; } = text;

    /// <summary>The IP address, an IPv4-mapped IPv6 one written as IPv4: what per-address budgets are keyed by.</summary>
    public IPAddress Host { get; } = host;

    public bool IsSeed { get; } = isSeed;

    /// <summary>When the adapter last accepted a message from it (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastHeard { get; set; }

    /// <summary>Its position in the table's list, for O(1) removal; -1 when not in the table.</summary>
    public int Index { get; set; } = -1;

    /// <summary>Its receive budget while it is a peer; only the receive loop touches it (made on its first datagram as a peer).</summary>
    public TokenBucket? ReceiveBudget { get; set; }

    /// <summary>A peer for an IP endpoint, in the socket's address family (IPv4 mapped to IPv6 on a dual-mode socket); null when the socket cannot reach it.</summary>
    public static Peer? For(IPEndPoint endPoint, Socket socket, bool isSeed)
    {
        if (endPoint.Port == 0)
        {
            return null;
        }

        IPEndPoint target = endPoint;
        if (socket.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            if (!socket.DualMode)
            {
                return null;
            }

            target = new IPEndPoint(endPoint.Address.MapToIPv6(), endPoint.Port);
        }
        else if (socket.AddressFamily != endPoint.AddressFamily)
        {
            return null;
        }

        return Create(target.Serialize(), target, isSeed);
    }

    /// <summary>A stranger for an address a datagram came from (copied: the receive loop reuses its <see cref="SocketAddress"/>).</summary>
    public static Peer FromReceived(SocketAddress received)
    {
        var copy = new SocketAddress(received.Family, received.Size);
        received.Buffer.Span[..received.Size].CopyTo(copy.Buffer.Span);
        var endPoint = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(copy);
        return Create(copy, endPoint, isSeed: false);
    }

    /// <summary><c>ip:port</c> and the host, with an IPv4-mapped IPv6 address written as IPv4.</summary>
    private static Peer Create(SocketAddress address, IPEndPoint endPoint, bool isSeed)
    {
        IPEndPoint plain = endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
        return new Peer(address, plain.ToString(), plain.Address, isSeed);
    }
}
