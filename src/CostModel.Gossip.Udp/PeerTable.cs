using System.Net;
using System.Net.Sockets;

namespace CostModel.Gossip.Udp;

/// <summary>A peer's address, parsed once: the socket form for sending and the <c>ip:port</c> text the adapter sees.</summary>
internal sealed class Peer(SocketAddress address, string text, bool isSeed)
{
    public SocketAddress Address { get; } = address;

    public string Text { get; } = text;

    public bool IsSeed { get; } = isSeed;

    /// <summary>When a datagram from it last arrived (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastHeard { get; set; }

    /// <summary>Its position in the table's list, for O(1) removal.</summary>
    public int Index { get; set; } = -1;

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

        return new Peer(target.Serialize(), TextOf(target), isSeed);
    }

    /// <summary>A peer for an address a datagram came from (copied: the receive loop reuses its <see cref="SocketAddress"/>).</summary>
    public static Peer FromReceived(SocketAddress received)
    {
        var copy = new SocketAddress(received.Family, received.Size);
        received.Buffer.Span[..received.Size].CopyTo(copy.Buffer.Span);
        var endPoint = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(copy);
        return new Peer(copy, TextOf(endPoint), isSeed: false);
    }

    /// <summary><c>ip:port</c>, with an IPv4-mapped IPv6 address written as IPv4.</summary>
    private static string TextOf(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port).ToString() : endPoint.ToString();
}

/// <summary>
/// The peers gossip goes to: seeds (kept) plus every address heard from, bounded; when full, the
/// non-seed heard from longest ago is forgotten. Thread-safe.
/// </summary>
internal sealed class PeerTable(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<SocketAddress, Peer> _byAddress = [];
    private readonly Dictionary<string, Peer> _byText = new(StringComparer.Ordinal);
    private readonly List<Peer> _list = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _list.Count;
            }
        }
    }

    /// <summary>Adds a seed (a second seed with the same address is ignored).</summary>
    public void AddSeed(Peer seed)
    {
        lock (_gate)
        {
            if (!_byAddress.ContainsKey(seed.Address))
            {
                Add(seed);
            }
        }
    }

    /// <summary>Records a datagram from <paramref name="address"/>: the known peer, or a new one (evicting when full).</summary>
    /// <param name="address">The sender, as the receive loop filled it in (not kept).</param>
    /// <param name="now">The timestamp.</param>
    /// <param name="evicted">The peer forgotten to make room, if any.</param>
    /// <returns>The peer (not in the table when it is full of seeds).</returns>
    public Peer Heard(SocketAddress address, long now, out Peer? evicted)
    {
        evicted = null;
        lock (_gate)
        {
            if (_byAddress.TryGetValue(address, out Peer? known))
            {
                known.LastHeard = now;
                return known;
            }

            Peer peer = Peer.FromReceived(address);
            peer.LastHeard = now;
            if (_list.Count >= capacity)
            {
                evicted = LongestSilentNonSeed();
                if (evicted is null)
                {
                    return peer;
                }

                Remove(evicted);
            }

            Add(peer);
            return peer;
        }
    }

    /// <summary>The known peer with this <c>ip:port</c> text, if any.</summary>
    public bool TryGet(string text, out Peer? peer)
    {
        lock (_gate)
        {
            return _byText.TryGetValue(text, out peer);
        }
    }

    /// <summary>The known peer with this address, or <paramref name="peer"/> itself.</summary>
    public Peer Known(Peer peer)
    {
        lock (_gate)
        {
            return _byAddress.GetValueOrDefault(peer.Address, peer);
        }
    }

    /// <summary>Fills <paramref name="destination"/> with up to <paramref name="count"/> distinct random peers.</summary>
    /// <returns>How many were picked.</returns>
    public int Pick(Peer[] destination, int count)
    {
        lock (_gate)
        {
            int take = Math.Min(Math.Min(count, destination.Length), _list.Count);
            for (int i = 0; i < take; i++)
            {
                // A partial Fisher-Yates shuffle of the list itself: its order carries no meaning.
                int j = Random.Shared.Next(i, _list.Count);
                (_list[i], _list[j]) = (_list[j], _list[i]);
                _list[i].Index = i;
                _list[j].Index = j;
                destination[i] = _list[i];
            }

            return take;
        }
    }

    private void Add(Peer peer)
    {
        peer.Index = _list.Count;
        _list.Add(peer);
        _byAddress[peer.Address] = peer;
        _byText[peer.Text] = peer;
    }

    private void Remove(Peer peer)
    {
        int last = _list.Count - 1;
        Peer moved = _list[last];
        _list[peer.Index] = moved;
        moved.Index = peer.Index;
        _list.RemoveAt(last);
        peer.Index = -1;
        _byAddress.Remove(peer.Address);
        _byText.Remove(peer.Text);
    }

    private Peer? LongestSilentNonSeed()
    {
        Peer? oldest = null;
        foreach (Peer peer in _list)
        {
            if (!peer.IsSeed && (oldest is null || peer.LastHeard < oldest.LastHeard))
            {
                oldest = peer;
            }
        }

        return oldest;
    }
}
