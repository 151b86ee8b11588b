using System.Net;

namespace CostModel.Gossip.Udp;

/// <summary>Options of a <see cref="UdpGossipTransport"/>. Read once, when the transport is created.</summary>
/// <remarks>
/// A <i>stranger</i> is an address that is not a gossip peer: neither a seed nor a sender whose
/// message the adapter accepted. Strangers are served within budgets (<see cref="UdpRateLimit"/>
/// token buckets) so that junk, floods and replays cannot crowd out the mesh's own gossip.
/// </remarks>
public sealed class UdpGossipOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from by <c>AddUdpGossipTransport()</c>.</summary>
    public const string SectionName = "Gossip:Udp";

    /// <summary>
    /// The default bind address: IPv4 loopback, reachable from this machine only. Anyone who can
    /// reach the socket can send it datagrams and receive replies, so a real mesh names its
    /// interface in <see cref="BindAddress"/> on purpose (issue 12: "open by default").
    /// </summary>
    public static readonly string DefaultBindAddress = "127.0.0.1";

    /// <summary>The default gossip fanout: 3 random peers per round, memberlist's <c>GossipNodes</c> default.</summary>
    public static readonly int DefaultFanout = 3;

    /// <summary>The default MTU: 1,400 bytes per datagram, memberlist's UDP buffer size (fits a 1,500-byte Ethernet frame with IP and UDP headers and room for tunnels).</summary>
    public static readonly int DefaultMtu = 1400;

    /// <summary>The largest MTU: 65,507 bytes, the most a UDP datagram over IPv4 carries (65,535 less 20 of IP and 8 of UDP header).</summary>
    public const int MaxMtu = 65_507;

    /// <summary>The default bound on datagrams waiting for the adapter: 1,024 (ours: about 1.4 MiB at the default MTU, several seconds of a busy LAN mesh's gossip).</summary>
    public static readonly int DefaultMaxQueuedDatagrams = 1024;

    /// <summary>The default bound on known peers: 4,096 (ours: far above a LAN mesh, and a few hundred KiB at most).</summary>
    public static readonly int DefaultMaxPeers = 4096;

    /// <summary>The default gossip interval: 200 ms, memberlist's LAN <c>GossipInterval</c>.</summary>
    public static TimeSpan DefaultGossipInterval { get; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The default silence after which a peer is forgotten: 90 s without an accepted message, the
    /// adapter's default <c>DeadAfter</c> + <c>RemoveAfter</c> (30 s + 60 s), after which it forgets
    /// the node too. Long enough that a live peer of a large mesh, which reaches us directly only
    /// now and then, stays (at 300 peers and fanout 3 it misses 450 rounds in a row 1 % of the time).
    /// </summary>
    public static TimeSpan DefaultPeerTimeout { get; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The default receive budget of each peer, in datagrams: a burst of 512 (half the default
    /// queue, so no one source ever fills it; holds a full-state sync reply of about 5,000 members
    /// at issue 12's 29 datagrams per 300) refilled at 100 a second (20 times one datagram per
    /// 200 ms round, for pushes, relays and replies on top).
    /// </summary>
    public static UdpRateLimit DefaultPeerReceiveLimit { get; } = new(Burst: 512, PerSecond: 100);

    /// <summary>
    /// The default receive budget of each stranger IP address (any number of ports), in datagrams:
    /// a burst of 40 refilled at 20 a second, four nodes joining from one address (several on one
    /// host, or behind NAT), each sending a round every 200 ms until a message of theirs is accepted.
    /// </summary>
    public static UdpRateLimit DefaultStrangerReceiveLimitPerAddress { get; } = new(Burst: 40, PerSecond: 20);

    /// <summary>
    /// The default receive budget all strangers share, in datagrams: a burst of 400 refilled at
    /// 200 a second, ten per-address budgets (ten hosts joining at once). A flood from many
    /// addresses costs the adapter at most 200 checks a second (about a millisecond of HMAC at
    /// 1,400 bytes); a mesh restarting all at once joins over a few rounds, each round a retry.
    /// </summary>
    public static UdpRateLimit DefaultStrangerReceiveLimit { get; } = new(Burst: 400, PerSecond: 200);

    /// <summary>
    /// The default send budget for addressed messages to each stranger IP address, in bytes: a
    /// burst of 64 KiB, one full-state sync reply to a joiner not yet a peer (issue 12 measured
    /// 38.6 KB for 300 members), refilled at 8 KiB a second (about six datagrams: challenges).
    /// </summary>
    public static UdpRateLimit DefaultStrangerSendLimitPerAddress { get; } = new(Burst: 65_536, PerSecond: 8_192);

    /// <summary>
    /// The default send budget for addressed messages to all strangers together, in bytes: 64 KiB a
    /// second, about 3 times this node's own gossip rounds (3 peers x 1,400 B x 5 rounds a second =
    /// 21,000 B/s; 3 is QUIC's anti-amplification factor, RFC 9000 section 8), with a burst of
    /// 256 KiB (four full-state replies). A node used as a reflector sends no more than this.
    /// </summary>
    public static UdpRateLimit DefaultStrangerSendLimit { get; } = new(Burst: 262_144, PerSecond: 65_536);

    /// <summary>The local IP address to bind: <c>127.0.0.1</c> by default (this machine only); one interface's address for a real mesh; <c>0.0.0.0</c> for every IPv4 interface, <c>::</c> for IPv6 and IPv4 (dual mode).</summary>
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

    /// <summary>How many peers are remembered (seeds and the senders whose messages the adapter accepted); beyond it the longest-silent non-seed is forgotten. Default <see cref="DefaultMaxPeers"/>.</summary>
    public int MaxPeers { get; set; } = DefaultMaxPeers;

    /// <summary>A non-seed peer with no message accepted for this long is forgotten (checked each gossip round). Default <see cref="DefaultPeerTimeout"/>.</summary>
    public TimeSpan PeerTimeout { get; set; } = DefaultPeerTimeout;

    /// <summary>Datagrams from each peer that are queued for the adapter, as a token bucket; beyond it they are dropped and counted. Default <see cref="DefaultPeerReceiveLimit"/>.</summary>
    public UdpRateLimit PeerReceiveLimit { get; set; } = DefaultPeerReceiveLimit;

    /// <summary>Datagrams from each stranger IP address (from any number of ports) that are queued for the adapter; beyond it they are dropped and counted. Default <see cref="DefaultStrangerReceiveLimitPerAddress"/>.</summary>
    public UdpRateLimit StrangerReceiveLimitPerAddress { get; set; } = DefaultStrangerReceiveLimitPerAddress;

    /// <summary>Datagrams from all strangers together that are queued for the adapter; beyond it they are dropped and counted. Strangers also never fill more than half the queue. Default <see cref="DefaultStrangerReceiveLimit"/>.</summary>
    public UdpRateLimit StrangerReceiveLimit { get; set; } = DefaultStrangerReceiveLimit;

    /// <summary>Bytes of addressed messages (<see cref="GossipMessage.To"/>) sent to each stranger IP address; beyond it they are dropped and counted. Its burst must hold one MTU. Default <see cref="DefaultStrangerSendLimitPerAddress"/>.</summary>
    public UdpRateLimit StrangerSendLimitPerAddress { get; set; } = DefaultStrangerSendLimitPerAddress;

    /// <summary>Bytes of addressed messages sent to all strangers together; beyond it they are dropped and counted. Its burst must hold one MTU. Default <see cref="DefaultStrangerSendLimit"/>.</summary>
    public UdpRateLimit StrangerSendLimit { get; set; } = DefaultStrangerSendLimit;


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
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PeerTimeout, TimeSpan.Zero, nameof(PeerTimeout));
        PeerReceiveLimit.Validate(nameof(PeerReceiveLimit));
        StrangerReceiveLimitPerAddress.Validate(nameof(StrangerReceiveLimitPerAddress));
        StrangerReceiveLimit.Validate(nameof(StrangerReceiveLimit));
        StrangerSendLimitPerAddress.Validate(nameof(StrangerSendLimitPerAddress));
        StrangerSendLimit.Validate(nameof(StrangerSendLimit));
        ArgumentOutOfRangeException.ThrowIfLessThan(StrangerSendLimitPerAddress.Burst, Mtu, nameof(StrangerSendLimitPerAddress));
        ArgumentOutOfRangeException.ThrowIfLessThan(StrangerSendLimit.Burst, Mtu, nameof(StrangerSendLimit));
        foreach (string seed in SeedPeers)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(seed, nameof(SeedPeers));
        }

        return bind;
    }
}
