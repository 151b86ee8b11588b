namespace CostModel.Gossip.Nats;

/// <summary>Counters of a <see cref="NatsGossipTransport"/> since it was created (a snapshot; also the <c>costmodel.gossip.nats.*</c> instruments).</summary>
public readonly record struct NatsGossipStats
{
    /// <summary>Messages published (gossip, sync requests, addressed replies).</summary>
    public long MessagesSent { get; init; }

    /// <summary>Bytes published.</summary>
    public long BytesSent { get; init; }

    /// <summary>Messages received on the state, sync and inbox subjects.</summary>
    public long MessagesReceived { get; init; }

    /// <summary>Bytes received.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Messages handed to the adapter.</summary>
    public long MessagesDelivered { get; init; }

    /// <summary>Messages the adapter refused (wrong key, malformed, replayed, or held for a challenge).</summary>
    public long MessagesRefused { get; init; }

    /// <summary>Received messages over <see cref="NatsGossipOptions.MaxMessageBytes"/>, dropped.</summary>
    public long ReceivedOversize { get; init; }

    /// <summary>Received messages without a reply subject that is an inbox of the mesh, dropped (no one to answer or prove).</summary>
    public long ReceivedNoSender { get; init; }

    /// <summary>Received messages the client dropped because the adapter fell behind (a slow consumer).</summary>
    public long ReceivedDropped { get; init; }

    /// <summary>Messages over the server's maximum payload, not published.</summary>
    public long SendOversize { get; init; }

    /// <summary>Messages dropped because <see cref="NatsGossipOptions.MaxQueuedSends"/> wait already.</summary>
    public long SendQueueFull { get; init; }

    /// <summary>Messages dropped because the connection was down (gossip and the sync after the reconnect catch up).</summary>
    public long SendDisconnected { get; init; }

    /// <summary>Addressed messages whose addressee is not an inbox of the mesh, dropped.</summary>
    public long SendInvalidAddress { get; init; }

    /// <summary>Publications that failed.</summary>
    public long SendErrors { get; init; }

    /// <summary>Exceptions from the adapter, or a failure of its outgoing stream.</summary>
    public long AdapterErrors { get; init; }

    /// <summary>Times the connection was lost.</summary>
    public long Disconnects { get; init; }

    /// <summary>Times the connection came back after a loss.</summary>
    public long Reconnects { get; init; }

    /// <summary>Reconnect attempts that failed.</summary>
    public long ReconnectFailures { get; init; }

    /// <summary>Attempts of the first connection that failed (<see cref="NatsGossipOptions.StartWithoutServer"/>: the start went on and the transport kept trying).</summary>
    public long ConnectFailures { get; init; }

    /// <summary>Slow-consumer episodes: a subscription's queue filled.</summary>
    public long SlowConsumers { get; init; }

    /// <summary>Subjects the server refused for lack of permission.</summary>
    public long PermissionErrors { get; init; }

    /// <summary>Other errors the server reported.</summary>
    public long ServerErrors { get; init; }

    /// <summary>Sync requests published (at start and after reconnects).</summary>
    public long SyncRequests { get; init; }

    /// <summary>This node's state written to the key-value bucket.</summary>
    public long KeyValuePuts { get; init; }

    /// <summary>Other nodes' entries read from the bucket and handed to the adapter.</summary>
    public long KeyValueReads { get; init; }

    /// <summary>Key-value operations that failed, and entries that were not well-formed.</summary>
    public long KeyValueErrors { get; init; }

    /// <summary>True while connected to a server.</summary>
    public bool Connected { get; init; }
}
