using System.Net;

namespace CostModel.Gossip.Udp;

/// <summary>Options of a <see cref="UdpGossipTransport"/>. Read once, when the transport is created.</summary>
public sealed class UdpGossipOptions
{
    /// <summary>The default bind address: every IPv4 interface.</summary>
    public const string DefaultBindAddress = "0.0.0.0";

    /// <summary>The default gossip fanout: 3 random peers per round, memberlist's <c>GossipNodes</c> default.</summary>
    public const int DefaultFanout = 3;

    /// <summary>The default MTU: 1,400 bytes per datagram, memberlist's UDP buffer size (fits a 1,500-byte Ethernet frame with IP and UDP headers and room for tunnels).</summary>
    public const int DefaultMtu = 1400;

    /// <summary>The largest MTU: 65,507 bytes, the most a UDP datagram over IPv4 carries (65,535 less 20 of IP and 8 of UDP header).</summary>
    public const int MaxMtu = 65_507;

    /// <summary>The default bound on datagrams waiting for the adapter: 1,024 (ours: about 1.4 MiB at the default MTU, several seconds of a busy LAN mesh's gossip).</summary>
    public const int DefaultMaxQueuedDatagrams = 1024;

    /// <summary>The default bound on known peers: 4,096 (ours: far above a LAN mesh, and a few hundred KiB at most).</summary>
    public const int DefaultMaxPeers = 4096;

    /// <summary>The default gossip interval: 200 ms, memberlist's LAN <c>GossipInterval</c>.</summary>
    public static TimeSpan DefaultGossipInterval { get; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The local IP address to bind: <c>0.0.0.0</c> for every IPv4 interface, <c>::</c> for IPv6 and IPv4 (dual mode), or one interface's address.</summary>
    public string BindAddress { get; set; } = DefaultBindAddress;

    /// <summary>The UDP port to bind; 0 (the default) picks a free one (see <see cref="UdpGossipTransport.LocalEndPoint"/>). Give nodes that others seed from a fixed port.</summary>
    public int Port { get; set; }

    /// <summary>Peers to join through, as <c>host:port</c> (an IP address or a host name; IPv6 as <c>[addr]:port</c>). Each gets a sync request at start.</summary>
    public IList<string> SeedPeers { get; } = [];

    /// <summary>How often a gossip round pulls the adapter's payload and sends it; default <see cref="DefaultGossipInterval"/>.</summary>
    public TimeSpan GossipInterval { get; set; } = DefaultGossipInterval;

    /// <summary>How many random peers each round, and each pushed message without an addressee, goes to; default <see cref="DefaultFanout"/>.</summary>
    public int Fanout { get; set; } = DefaultFanout;

    /// <summary>The largest datagram sent or accepted, in bytes; larger ones are dropped and counted. Must be at least the adapter's MTU. Default <see cref="DefaultMtu"/>.</summary>
    public int Mtu { get; set; } = DefaultMtu;

    /// <summary>How many received datagrams may wait for the adapter; more are dropped and counted. Default <see cref="DefaultMaxQueuedDatagrams"/>.</summary>
    public int MaxQueuedDatagrams { get; set; } = DefaultMaxQueuedDatagrams;

    /// <summary>How many peers are remembered (seeds and every address heard from); beyond it the longest-silent non-seed is forgotten. Default <see cref="DefaultMaxPeers"/>.</summary>
    public int MaxPeers { get; set; } = DefaultMaxPeers;

    /// <summary>The clock for gossip rounds and peer ages; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws when a value is out of range; returns the parsed bind address.</summary>
    internal IPAddress Validate()
    {
        if (!IPAddress.TryParse(BindAddress, out IPAddress? bind))
        {
            throw new ArgumentException($"BindAddress '{BindAddress}' is not an IP address.", nameof(BindAddress));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Port, IPEndPoint.MinPort, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, IPEndPoint.MaxPort, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(GossipInterval, TimeSpan.Zero, nameof(GossipInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(Fanout, 1, nameof(Fanout));
        ArgumentOutOfRangeException.ThrowIfLessThan(Mtu, 1, nameof(Mtu));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Mtu, MaxMtu, nameof(Mtu));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedDatagrams, 1, nameof(MaxQueuedDatagrams));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPeers, 1, nameof(MaxPeers));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        foreach (string seed in SeedPeers)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(seed, nameof(SeedPeers));
        }

        return bind;
    }
}
