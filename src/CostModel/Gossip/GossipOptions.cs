using System.ComponentModel.DataAnnotations;

namespace CostModel.Gossip;

/// <summary>How this node gossips. Bound from <c>CostModel:Gossip</c>; every default is in <see cref="GossipDefaults"/>.</summary>
public sealed class GossipOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from.</summary>
    public const string SectionName = "Gossip";

    /// <summary>Why gossip without a key is refused, and the two ways out (shared by the validator and the adapter).</summary>
    internal const string NoKeyMessage =
        "CostModel:Gossip:Keys is empty: gossip would be readable and forgeable by anyone who can reach this node. " +
        "Add a key (base64, 16 to 64 bytes, e.g. from 'openssl rand -base64 32') on every node, " +
        "or set CostModel:Gossip:AllowUnauthenticated to true on a network where every host is trusted.";

    /// <summary>The mesh's name: messages of another cluster are refused (8 bytes of its SHA-256 travel in every header).</summary>
    [Required]
    [StringLength(GossipDefaults.MaxClusterIdLength, MinimumLength = 1)]
    public string ClusterId { get; set; } = GossipDefaults.ClusterId;

    /// <summary>
    /// Message keys, base64, 16 to 64 bytes each (generate one with
    /// <c>openssl rand -base64 32</c>). The first seals; every key opens. With any key, unsealed or
    /// wrongly keyed messages are refused. Rotate by appending the new key everywhere, then moving
    /// it first everywhere, then removing the old one. Empty is refused unless
    /// <see cref="AllowUnauthenticated"/> is set.
    /// </summary>
    public List<string> Keys { get; set; } = [];

    /// <summary>
    /// True to gossip without keys: messages then carry only a checksum, and anyone who can reach
    /// this node can read the mesh's state and forge any node's. Only for a network where every
    /// host is trusted (a test bench, one machine); logged as a warning at start. Default false.
    /// </summary>
    public bool AllowUnauthenticated { get; set; }

    /// <summary>
    /// With keys: true (the default) encrypts each message's records with AES-256-GCM, so an
    /// eavesdropper learns only sizes, timing, addresses and the header (docs/gossip-wire-format.md);
    /// false signs with HMAC-SHA256 and leaves the records readable (to inspect traffic).
    /// Receivers open both forms either way.
    /// </summary>
    public bool Encrypt { get; set; } = true;

    /// <summary>The largest message written and accepted, in bytes (default 1,400: memberlist's UDP budget under a 1,500-byte Ethernet MTU).</summary>
    [Range(GossipDefaults.MinMtu, GossipDefaults.MaxMtu)]
    public int Mtu { get; set; } = GossipDefaults.Mtu;

    /// <summary>Push: the adapter emits messages through <see cref="IGossipAdapter.Outgoing"/>. Pull: only replies are pushed; the host calls <see cref="IGossipAdapter.WritePayload"/> on its rounds.</summary>
    public GossipDissemination Dissemination { get; set; } = GossipDissemination.Push;

    /// <summary>How often the adapter runs: samples due, liveness, pushed relays (default 200 ms: memberlist's LAN gossip interval).</summary>
    public TimeSpan Interval { get; set; } = GossipDefaults.Interval;

    /// <summary>
    /// Each update is relayed this many times the log10 of the mesh size (default 4: memberlist's
    /// RetransmitMult). 0: other nodes' updates are never relayed and this node's own are sent once,
    /// for a transport that delivers every message to every node itself (a broker such as NATS).
    /// </summary>
    [Range(0, 100)]
    public int RetransmitMultiplier { get; set; } = GossipDefaults.RetransmitMultiplier;

    /// <summary>The most nodes in the view; new nodes beyond it are refused and counted (default 4,096).</summary>
    [Range(2, 1_000_000)]
    public int MaxNodes { get; set; } = GossipDefaults.MaxNodes;

    /// <summary>The most records one message may carry before it is refused unread.</summary>
    [Range(1, 1_024)]
    public int MaxRecordsPerMessage { get; set; } = GossipDefaults.MaxRecordsPerMessage;

    /// <summary>A generation (a start time in Unix milliseconds) further ahead of this node's clock is refused.</summary>
    public TimeSpan MaxGenerationLead { get; set; } = GossipDefaults.MaxGenerationLead;

    /// <summary>Relative change of a reference request's total cost that is worth publishing (0.1: 10 %).</summary>
    [Range(0.001, 10)]
    public double SignificanceThreshold { get; set; } = GossipDefaults.SignificanceThreshold;

    /// <summary>The least time between two publications of this node.</summary>
    public TimeSpan MinPublishInterval { get; set; } = GossipDefaults.MinPublishInterval;

    /// <summary>The longest this node stays silent: a heartbeat is published then (default 5 s, from the issue).</summary>
    public TimeSpan MaxSilence { get; set; } = GossipDefaults.MaxSilence;

    /// <summary>Phi at which a silent node becomes suspect (default 8: Cassandra's phi_convict_threshold).</summary>
    [Range(1, 64)]
    public double PhiThreshold { get; set; } = GossipDefaults.PhiThreshold;

    /// <summary>Silence after which a node is dead.</summary>
    public TimeSpan DeadAfter { get; set; } = GossipDefaults.DeadAfter;

    /// <summary>How long a dead node stays in the view before it is removed.</summary>
    public TimeSpan RemoveAfter { get; set; } = GossipDefaults.RemoveAfter;

    /// <summary>The least time between two full-state replies to the same peer (a replayed sync request cannot make this node flood).</summary>
    public TimeSpan SyncReplyInterval { get; set; } = GossipDefaults.SyncReplyInterval;
}

/// <summary>How gossip leaves the adapter.</summary>
public enum GossipDissemination
{
    /// <summary>The adapter emits everything through <see cref="IGossipAdapter.Outgoing"/>.</summary>
    Push = 0,

    /// <summary>The host pulls with <see cref="IGossipAdapter.WritePayload"/>; only addressed replies are pushed.</summary>
    Pull = 1,
}

/// <summary>Defaults of <see cref="GossipOptions"/>, with their sources.</summary>
public static class GossipDefaults
{
    /// <summary>"costmodel".</summary>
    public static readonly string ClusterId = "costmodel";

    /// <summary>64 characters.</summary>
    public const int MaxClusterIdLength = 64;

    /// <summary>1,400 bytes: memberlist's UDPBufferSize, safe under Ethernet's 1,500-byte MTU with IP and UDP headers.</summary>
    public static readonly int Mtu = 1_400;

    /// <summary>508 bytes: the UDP payload every IPv4 path must carry (576 - 60 - 8); a capabilities record must still fit.</summary>
    public const int MinMtu = 508;

    /// <summary>65,507 bytes: the largest UDP payload over IPv4.</summary>
    public const int MaxMtu = 65_507;

    /// <summary>4: memberlist's RetransmitMult (each update relayed 4 x log10(n + 1) times).</summary>
    public static readonly int RetransmitMultiplier = 4;

    /// <summary>4,096 nodes: the design's cap on the mesh view.</summary>
    public static readonly int MaxNodes = 4_096;

    /// <summary>64 records: ten times what fits a 1,400-byte datagram, a bound on parsing work per message.</summary>
    public static readonly int MaxRecordsPerMessage = 64;

    /// <summary>10 %: half the router's 20 % hysteresis band, twice its 5 % spread tolerance.</summary>
    public static readonly double SignificanceThreshold = PublishSettings.DefaultThreshold;

    /// <summary>8: Cassandra's phi_convict_threshold and chitchat's default.</summary>
    public static readonly double PhiThreshold = LivenessSettings.DefaultPhiThreshold;

    /// <summary>200 ms: memberlist's LAN GossipInterval.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>10 ms: the shortest <see cref="GossipOptions.Interval"/> taken; a hundred rounds a second already carry a thousand nodes' states within a second (docs/gossip-wire-format.md, "How large a mesh the budget carries").</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>1 minute: the longest <see cref="GossipOptions.Interval"/> taken; beyond it a state outlives the 5 s heartbeat twelve times over before it is relayed once.</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromMinutes(1);

    /// <summary>1 day: generations are start times in Unix milliseconds; a clock may be off by hours, not days.</summary>
    public static readonly TimeSpan MaxGenerationLead = TimeSpan.FromDays(1);

    /// <summary>1 s: the collector samples once a second and each message is a whole snapshot; changes in between publish when it ends, not lost.</summary>
    public static readonly TimeSpan MinPublishInterval = PublishSettings.DefaultMinInterval;

    /// <summary>5 s: the heartbeat at maximum silence.</summary>
    public static readonly TimeSpan MaxSilence = PublishSettings.DefaultMaxSilence;

    /// <summary>30 s: six heartbeat intervals, about twice the 15 s at which phi reaches 8 for a regular node, so Suspect always comes first.</summary>
    public static readonly TimeSpan DeadAfter = LivenessSettings.DefaultDeadAfter;

    /// <summary>60 s (90 s of silence in all): survives a Wi-Fi hand-over or a short sleep (memberlist's GossipToTheDeadTime is 30 s).</summary>
    public static readonly TimeSpan RemoveAfter = LivenessSettings.DefaultRemoveAfter;

    /// <summary>1 s: a joining node asks once; a replay within a second is ignored.</summary>
    public static readonly TimeSpan SyncReplyInterval = TimeSpan.FromSeconds(1);
}
