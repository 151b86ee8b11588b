using CostModel.Gossip;

namespace CostModel.Gossip.Nats;

/// <summary>Options of a <see cref="NatsGossipTransport"/>. Read once, when the transport is created.</summary>
/// <remarks>
/// Subjects (with the default <see cref="Mesh"/> <c>costmodel</c>): every node publishes its gossip on
/// <c>costmodel.costmodel.state</c>, asks for the mesh's full state on <c>costmodel.costmodel.sync</c>
/// (one node of the queue group answers) and receives what is addressed to it on its own inbox,
/// <c>costmodel.costmodel.inbox.&lt;random&gt;</c>. One permission, publish and subscribe on
/// <c>costmodel.&lt;mesh&gt;.&gt;</c> (plus <c>$JS.API.&gt;</c> and <c>$KV.&lt;bucket&gt;.&gt;</c> with
/// <see cref="KeyValue"/>), covers everything a node does. The server is not trusted with the mesh's
/// truth: the messages are the adapter's own, sealed with the mesh's key, as on UDP.
/// </remarks>
public sealed class NatsGossipOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from by <c>AddNatsGossipTransport()</c>.</summary>
    public const string SectionName = "Gossip:Nats";

    /// <summary>The default server: <c>nats://127.0.0.1:4222</c>, a server on this machine at NATS's registered port.</summary>
    public static readonly string DefaultUrl = "nats://127.0.0.1:4222";

    /// <summary>The default mesh token: <c>costmodel</c>, the adapter's default cluster id (<see cref="GossipDefaults.ClusterId"/>).</summary>
    public static readonly string DefaultMesh = GossipDefaults.ClusterId;

    /// <summary>
    /// The default bound on received messages waiting for the adapter, per subscription: 4,096 (four
    /// full-state replies of a 4,096-node mesh at about 30 messages each, many times a second of a
    /// 1,000-node mesh's heartbeats); beyond it the client drops the newest and the transport counts them.
    /// </summary>
    public static readonly int DefaultMaxPendingMessages = 4096;

    /// <summary>The default bound on messages waiting to be published: 1,024 (a full-state reply to each of tens of joiners at once); beyond it they are dropped and counted.</summary>
    public static readonly int DefaultMaxQueuedSends = 1024;

    /// <summary>The largest message accepted: 65,507 bytes, the adapter's largest MTU (<see cref="GossipDefaults.MaxMtu"/>); larger ones are not the adapter's.</summary>
    public static readonly int DefaultMaxMessageBytes = GossipDefaults.MaxMtu;

    /// <summary>The default lifetime of a key-value entry: 30 s, the adapter's default <see cref="GossipOptions.DeadAfter"/> (a node silent that long is dead anyway).</summary>
    public static TimeSpan DefaultKeyValueTtl { get; } = GossipDefaults.DeadAfter;

    /// <summary>The default time a start may take to reach the server: 10 s (a WAN round trip and a TLS handshake, many times over).</summary>
    public static TimeSpan DefaultConnectTimeout { get; } = TimeSpan.FromSeconds(10);

    /// <summary>The server to connect to (<c>nats://host:4222</c>, <c>tls://host:4222</c>, or several, comma-separated, of one cluster). Default <see cref="DefaultUrl"/>. User and password in the URL are never logged.</summary>
    public string Url { get; set; } = DefaultUrl;

    /// <summary>The mesh's token in the subjects (<c>costmodel.&lt;mesh&gt;.state</c>): letters, digits, <c>-</c> and <c>_</c>. Default <see cref="DefaultMesh"/>; give each mesh on one server its own.</summary>
    public string Mesh { get; set; } = DefaultMesh;

    /// <summary>The subject gossip is published on; null (the default) for <c>costmodel.&lt;mesh&gt;.state</c>.</summary>
    public string? StateSubject { get; set; }

    /// <summary>The subject sync requests are sent on (request/reply, one node of the mesh answers); null (the default) for <c>costmodel.&lt;mesh&gt;.sync</c>.</summary>
    public string? SyncSubject { get; set; }

    /// <summary>The prefix of each node's inbox, where messages addressed to it arrive; null (the default) for <c>costmodel.&lt;mesh&gt;.inbox</c>.</summary>
    public string? InboxPrefix { get; set; }

    /// <summary>True (the default) to ask the mesh for its full state at start and after every reconnect, so a node that joins or comes back sees the mesh at once.</summary>
    public bool SyncOnConnect { get; set; } = true;

    /// <summary>
    /// True to keep this node's latest signed state in a JetStream key-value bucket (one key per
    /// node, entries living <see cref="KeyValueTtl"/>) and to read the bucket at start. For nodes
    /// that join while few others are up to answer a sync, and for watching the mesh from outside
    /// (<c>nats kv watch</c>). Needs a server with JetStream. Default false.
    /// </summary>
    public bool KeyValue { get; set; }

    /// <summary>The bucket's name (letters, digits, <c>-</c>, <c>_</c>); null (the default) for <c>costmodel-&lt;mesh&gt;</c>.</summary>
    public string? KeyValueBucket { get; set; }

    /// <summary>How long an entry lives after its last write: the adapter's dead-after time. Default <see cref="DefaultKeyValueTtl"/>.</summary>
    public TimeSpan KeyValueTtl { get; set; } = DefaultKeyValueTtl;

    /// <summary>Received messages that may wait for the adapter, per subscription. Default <see cref="DefaultMaxPendingMessages"/>.</summary>
    public int MaxPendingMessages { get; set; } = DefaultMaxPendingMessages;

    /// <summary>Messages that may wait to be published. Default <see cref="DefaultMaxQueuedSends"/>.</summary>
    public int MaxQueuedSends { get; set; } = DefaultMaxQueuedSends;

    /// <summary>The largest message accepted from the server, in bytes; larger ones are dropped and counted. Default <see cref="DefaultMaxMessageBytes"/>.</summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;

    /// <summary>How long one attempt to connect may take; the host's start fails with the reason after it unless <see cref="StartWithoutServer"/>. Default <see cref="DefaultConnectTimeout"/>.</summary>
    public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

    /// <summary>
    /// True (the default) to let the start complete when no server can be reached (refused, or no
    /// answer within <see cref="ConnectTimeout"/>): the node runs alone, the failure is logged at
    /// Warning and counted (<see cref="NatsGossipStats.ConnectFailures"/>), and the transport keeps
    /// trying in the background, 1 s after the failure then doubling to 30 s between attempts,
    /// until it connects and joins the mesh (a whole site powered up at once must not lose the nodes
    /// that came up before their server). A server that answers and refuses (authentication, TLS)
    /// still fails the start: that is a configuration error, not an outage. False: any failure to
    /// connect fails the start with the reason.
    /// </summary>
    public bool StartWithoutServer { get; set; } = true;

    /// <summary>The connection's name, shown by the server's monitoring; null (the default) for <c>costmodel-gossip</c>.</summary>
    public string? ConnectionName { get; set; }

    /// <summary>User name for user/password authentication (the password in <see cref="Password"/>).</summary>
    public string? Username { get; set; }

    /// <summary>Password for user/password authentication. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Token authentication. Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>A <c>.creds</c> file (a user JWT and its NKey seed), for decentralised authentication.</summary>
    public string? CredentialsFile { get; set; }

    /// <summary>A file holding an NKey seed (<c>SU...</c>), for NKey authentication.</summary>
    public string? NKeyFile { get; set; }

    /// <summary>TLS: <c>Auto</c> (the default: as the URL's scheme and the server say), <c>Require</c>, <c>Prefer</c>, <c>Implicit</c> or <c>Disable</c>.</summary>
    public string TlsMode { get; set; } = "Auto";

    /// <summary>TLS: a PEM file of the certificate authorities to trust; null for the system's.</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>TLS: a PEM client certificate, for servers that verify clients (with <see cref="TlsKeyFile"/>).</summary>
    public string? TlsCertFile { get; set; }

    /// <summary>TLS: the PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>For code, not configuration: a last change to the NATS client's options (they are records: return <c>opts with { ... }</c>), for anything the keys above do not cover.</summary>
    public Func<NATS.Client.Core.NatsOpts, NATS.Client.Core.NatsOpts>? ConfigureClient { get; set; }

    /// <summary>The state subject in effect.</summary>
    internal string EffectiveStateSubject => StateSubject ?? $"costmodel.{Mesh}.state";

    /// <summary>The sync subject in effect.</summary>
    internal string EffectiveSyncSubject => SyncSubject ?? $"costmodel.{Mesh}.sync";

    /// <summary>The inbox prefix in effect.</summary>
    internal string EffectiveInboxPrefix => InboxPrefix ?? $"costmodel.{Mesh}.inbox";

    /// <summary>The bucket in effect.</summary>
    internal string EffectiveKeyValueBucket => KeyValueBucket ?? $"costmodel-{Mesh}";

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Url, nameof(Url));
        foreach (string url in Url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "nats://" + url, UriKind.Absolute, out Uri? uri)
                || uri.Scheme is not ("nats" or "tls" or "ws" or "wss"))
            {
                throw new ArgumentException($"Url '{Subjects.Redact(url)}' is not a nats://, tls://, ws:// or wss:// address.", nameof(Url));
            }
        }

        if (!Subjects.IsToken(Mesh))
        {
            throw new ArgumentException($"Mesh '{Mesh}' must be letters, digits, '-' or '_' (one subject token).", nameof(Mesh));
        }

        Subjects.ThrowIfNotSubject(EffectiveStateSubject, nameof(StateSubject));
        Subjects.ThrowIfNotSubject(EffectiveSyncSubject, nameof(SyncSubject));
        Subjects.ThrowIfNotSubject(EffectiveInboxPrefix, nameof(InboxPrefix));
        if (string.Equals(EffectiveStateSubject, EffectiveSyncSubject, StringComparison.Ordinal)
            || EffectiveStateSubject.StartsWith(EffectiveInboxPrefix + ".", StringComparison.Ordinal)
            || EffectiveSyncSubject.StartsWith(EffectiveInboxPrefix + ".", StringComparison.Ordinal))
        {
            throw new ArgumentException("StateSubject, SyncSubject and the subjects under InboxPrefix must differ.", nameof(StateSubject));
        }

        if (KeyValue && !Subjects.IsToken(EffectiveKeyValueBucket))
        {
            throw new ArgumentException($"KeyValueBucket '{EffectiveKeyValueBucket}' must be letters, digits, '-' or '_'.", nameof(KeyValueBucket));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(KeyValueTtl, TimeSpan.FromSeconds(1), nameof(KeyValueTtl));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingMessages, 1, nameof(MaxPendingMessages));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedSends, 1, nameof(MaxQueuedSends));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, GossipDefaults.MinMtu, nameof(MaxMessageBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        if (!Enum.TryParse(TlsMode, ignoreCase: true, out NATS.Client.Core.TlsMode _))
        {
            throw new ArgumentException($"TlsMode '{TlsMode}' is not one of Auto, Require, Prefer, Implicit, Disable.", nameof(TlsMode));
        }

        if (Password is not null && Username is null)
        {
            throw new ArgumentException("Password is set without Username.", nameof(Password));
        }

        if ((TlsCertFile is null) != (TlsKeyFile is null))
        {
            throw new ArgumentException("TlsCertFile and TlsKeyFile go together.", nameof(TlsCertFile));
        }
    }
}
