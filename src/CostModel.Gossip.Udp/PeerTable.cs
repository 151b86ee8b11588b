using System.Net;

namespace CostModel.Gossip.Udp;

/// <summary>
/// The peers gossip goes to: the seeds (kept for good) and the senders whose messages the adapter
/// accepted, bounded. When full, the non-seed heard from longest ago is forgotten for a newcomer;
/// a non-seed silent too long is forgotten by <see cref="ForgetSilent"/>. Thread-safe.
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

    /// <summary>The peer a datagram came from, or null for a stranger. Allocates nothing.</summary>
    /// <param name="address">The sender, as the receive loop filled it in (not kept).</param>
    public Peer? Find(SocketAddress address)
    {
        lock (_gate)
        {
            return _byAddress.GetValueOrDefault(address);
        }
    }

    /// <summary>
    /// Records that the adapter accepted a message from <paramref name="sender"/>: the known peer
    /// with its address is heard from now, or the sender joins the table (forgetting the non-seed
    /// silent longest when full).
    /// </summary>
    /// <param name="sender">The sender (a stranger's <see cref="Peer"/>, or a peer's).</param>
    /// <param name="now">The timestamp.</param>
    /// <param name="evicted">The peer forgotten to make room, if any.</param>
    /// <returns>True when the sender is a new peer; false when it was one already, or the table is full of seeds.</returns>
    public bool Admit(Peer sender, long now, out Peer? evicted)
    {
        evicted = null;
        lock (_gate)
        {
            if (_byAddress.TryGetValue(sender.Address, out Peer? known))
            {
                known.LastHeard = now;
                return false;
            }

            if (_list.Count >= capacity)
            {
                evicted = LongestSilentNonSeed();
                if (evicted is null)
                {
                    return false;
                }

                Remove(evicted);
            }

            sender.LastHeard = now;
            Add(sender);
            return true;
        }
    }

    /// <summary>Forgets every non-seed last heard before <paramref name="heardBefore"/>.</summary>
    /// <returns>How many were forgotten.</returns>
    public int ForgetSilent(long heardBefore)
    {
        lock (_gate)
        {
            int forgotten = 0;
            for (int i = _list.Count - 1; i >= 0; i--)
            {
                // Backwards: Remove moves the last peer into the slot freed, which was already visited.
                Peer peer = _list[i];
                if (!peer.IsSeed && peer.LastHeard < heardBefore)
                {
                    Remove(peer);
                    forgotten++;
                }
            }

            return forgotten;
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

    /// <summary>The known peer with <paramref name="peer"/>'s address, or null.</summary>
    public Peer? Known(Peer peer)
    {
        lock (_gate)
        {
            return _byAddress.GetValueOrDefault(peer.Address);
        }
    }

    /// <summary>The peers' <c>ip:port</c> texts now, in no particular order.</summary>
    public string[] Texts()
    {
        lock (_gate)
        {
            return [.. _list.Select(p => p.Text)];
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
