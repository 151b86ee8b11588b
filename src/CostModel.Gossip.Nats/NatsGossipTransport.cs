using System.Diagnostics.Metrics;
using System.Threading.Channels;
using CostModel.Gossip;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace CostModel.Gossip.Nats;

/// <summary>
/// A gossip transport over NATS, for a mesh that spans networks: moves an
/// <see cref="IGossipAdapter"/>'s bytes through a NATS server (or cluster) that every node reaches.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description><b>Push</b>: each <see cref="IGossipAdapter.Outgoing"/> message without an
/// addressee is published on the state subject, which every node subscribes to; one with an
/// addressee (a reply, a challenge) goes to that node's inbox. The bytes are the adapter's, sealed
/// with the mesh's key, exactly as on UDP: the server carries them and is trusted with nothing.
/// Every message carries the sender's inbox as its reply subject, the address the adapter proves
/// and answers. The adapter should run in <see cref="GossipDissemination.Push"/> mode with
/// <see cref="GossipOptions.RetransmitMultiplier"/> 0: the server already delivers each message to
/// every node, so relaying would only multiply the traffic by the mesh's size.</description></item>
/// <item><description><b>Sync</b>: at start and after every reconnect, <see cref="IGossipAdapter.WriteSyncRequest"/>'s
/// bytes go to the sync subject, which the nodes subscribe to as one queue group: one of them
/// answers with its full state in the joiner's inbox (request/reply).</description></item>
/// <item><description><b>Key-value</b> (optional, <see cref="NatsGossipOptions.KeyValue"/>): this node's latest
/// state (<see cref="GossipAdapter.WriteState"/>) is kept in a JetStream bucket under its node id,
/// rewritten at each publication and expiring after <see cref="NatsGossipOptions.KeyValueTtl"/>; at
/// start the bucket is read and each entry handed to the adapter.</description></item>
/// <item><description><b>Trouble</b>: lost connections, failed reconnects, slow consumers, messages
/// over the server's maximum payload, permission errors: each is counted in <see cref="Stats"/>,
/// logged at Warning the first time with its reason (then at Debug, a line a second at most), and
/// the transport keeps going; the client reconnects for ever and the mesh is asked for its state
/// again when the server is back.</description></item>
/// </list>
/// </remarks>
public sealed class NatsGossipTransport : IAsyncDisposable
{
    /// <summary>The meter the transport's counters are on: the library's own (<c>CostModel</c>).</summary>
    internal const string MeterName = "CostModel";

    /// <summary>The connection name when none is configured.</summary>
    private const string DefaultConnectionName = "costmodel-gossip";

    /// <summary>The first retry after a start that reached no server: 1 s, a server being restarted is usually back by then.</summary>
    internal static readonly TimeSpan FirstConnectRetry = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between attempts to reach a server: 30 s, a node joins within half a minute of its server coming up (the client's own reconnects wait at most seconds; this is for a server that may be gone for hours).</summary>
    internal static readonly TimeSpan MaxConnectRetry = TimeSpan.FromSeconds(30);

    /// <summary>Room for any message the adapter writes: its largest MTU.</summary>
    private const int AdapterBufferBytes = GossipDefaults.MaxMtu;

    private readonly IGossipAdapter _adapter;
    private readonly GossipAdapter? _stateSource;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly NatsConnection _connection;
    private readonly Channel<Outbound> _sendQueue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _url;
    private readonly string _stateSubject;
    private readonly string _syncSubject;
    private readonly string _inboxPrefix;
    private readonly string _bucket;
    private readonly bool _keyValue;
    private readonly bool _syncOnConnect;
    private readonly TimeSpan _keyValueTtl;
    private readonly TimeSpan _connectTimeout;
    private readonly int _maxMessageBytes;
    private readonly LogThrottle _oversizeLog;
    private readonly LogThrottle _noSenderLog;
    private readonly LogThrottle _droppedLog;
    private readonly LogThrottle _slowConsumerLog;
    private readonly LogThrottle _queueFullLog;
    private readonly LogThrottle _sendFailedLog;
    private readonly LogThrottle _reconnectFailedLog;
    private readonly LogThrottle _permissionLog;
    private readonly LogThrottle _serverErrorLog;
    private readonly LogThrottle _keyValueLog;
    private readonly LogThrottle _invalidAddressLog;
    private readonly LogThrottle _connectFailedLog;
    private readonly bool _startWithoutServer;
    private readonly Meter? _ownedMeter;
    private readonly List<Task> _loops = [];
    private readonly List<INatsSub<byte[]>> _subscriptions = [];
    private volatile INatsKVStore? _store;
    private string? _key;
    private IDisposable? _outgoing;
    private int _started;
    private int _disposed;
    private int _lost;
    private long _lastPutPublication = -1;

    private long _messagesSent;
    private long _bytesSent;
    private long _messagesReceived;
    private long _bytesReceived;
    private long _messagesDelivered;
    private long _messagesRefused;
    private long _receivedOversize;
    private long _receivedNoSender;
    private long _receivedDropped;
    private long _sendOversize;
    private long _sendQueueFull;
    private long _sendDisconnected;
    private long _sendInvalidAddress;
    private long _sendErrors;
    private long _adapterErrors;
    private long _disconnects;
    private long _reconnects;
    private long _reconnectFailures;
    private long _connectFailures;
    private long _slowConsumers;
    private long _permissionErrors;
    private long _serverErrors;
    private long _syncRequests;
    private long _keyValuePuts;
    private long _keyValueReads;
    private long _keyValueErrors;

    /// <summary>Creates the transport; nothing is connected, sent or received until <see cref="StartAsync"/>.</summary>
    /// <param name="adapter">The gossip adapter whose bytes to move. With <see cref="NatsGossipOptions.KeyValue"/> it must be the library's <see cref="GossipAdapter"/> (it writes the state kept in the bucket).</param>
    /// <param name="options">The options (read now; later changes have no effect).</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <param name="meterFactory">Where its counters go: the <c>CostModel</c> meter of the host's factory (<c>costmodel.gossip.nats.*</c>); null for a meter of its own, disposed with the transport.</param>
    /// <param name="time">The clock of the log throttles and the connect timeout; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">An option is invalid, or the key-value bucket is asked for with an adapter that is not a <see cref="GossipAdapter"/>.</exception>
    public NatsGossipTransport(IGossipAdapter adapter, NatsGossipOptions options, ILogger<NatsGossipTransport>? logger = null, IMeterFactory? meterFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _adapter = adapter;
        _stateSource = adapter as GossipAdapter;
        if (options.KeyValue && _stateSource is null)
        {
            throw new ArgumentException("KeyValue needs the library's GossipAdapter: it writes the state kept in the bucket.", nameof(adapter));
        }

        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _url = Subjects.Redact(options.Url);
        _stateSubject = options.EffectiveStateSubject;
        _syncSubject = options.EffectiveSyncSubject;
        _inboxPrefix = options.EffectiveInboxPrefix;
        _bucket = options.EffectiveKeyValueBucket;
        _keyValue = options.KeyValue;
        _syncOnConnect = options.SyncOnConnect;
        _keyValueTtl = options.KeyValueTtl;
        _connectTimeout = options.ConnectTimeout;
        _maxMessageBytes = options.MaxMessageBytes;
        Inbox = $"{_inboxPrefix}.{Guid.NewGuid():N}";
        _oversizeLog = new LogThrottle(_time);
        _noSenderLog = new LogThrottle(_time);
        _droppedLog = new LogThrottle(_time);
        _slowConsumerLog = new LogThrottle(_time);
        _queueFullLog = new LogThrottle(_time);
        _sendFailedLog = new LogThrottle(_time);
        _reconnectFailedLog = new LogThrottle(_time);
        _permissionLog = new LogThrottle(_time);
        _serverErrorLog = new LogThrottle(_time);
        _keyValueLog = new LogThrottle(_time);
        _invalidAddressLog = new LogThrottle(_time);
        _connectFailedLog = new LogThrottle(_time);
        _startWithoutServer = options.StartWithoutServer;
        _sendQueue = Channel.CreateBounded<Outbound>(new BoundedChannelOptions(options.MaxQueuedSends)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: dropped and counted
        });

        _connection = new NatsConnection(ClientOptions(options));
        _connection.ConnectionDisconnected += OnDisconnectedAsync;
        _connection.ConnectionOpened += OnOpenedAsync;
        _connection.ReconnectFailed += OnReconnectFailedAsync;
        _connection.MessageDropped += OnMessageDroppedAsync;
        _connection.SlowConsumerDetected += OnSlowConsumerAsync;
        _connection.ServerError += OnServerErrorAsync;
        _connection.LameDuckModeActivated += OnLameDuckAsync;

        _ownedMeter = meterFactory is null ? new Meter(MeterName) : null;
        NatsMetrics.Observe(meterFactory?.Create(MeterName) ?? _ownedMeter!, this);
    }

    /// <summary>The subjects subscribed to now (each once: a join retried after a later step failed keeps them).</summary>
    internal int Subscriptions
    {
        get
        {
            lock (_loops)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>This node's inbox: the subject messages addressed to it arrive on, and the reply subject of everything it publishes.</summary>
    public string Inbox { get; }

    /// <summary>A snapshot of the counters.</summary>
    public NatsGossipStats Stats => new()
    {
        MessagesSent = Interlocked.Read(ref _messagesSent),
        BytesSent = Interlocked.Read(ref _bytesSent),
        MessagesReceived = Interlocked.Read(ref _messagesReceived),
        BytesReceived = Interlocked.Read(ref _bytesReceived),
        MessagesDelivered = Interlocked.Read(ref _messagesDelivered),
        MessagesRefused = Interlocked.Read(ref _messagesRefused),
        ReceivedOversize = Interlocked.Read(ref _receivedOversize),
        ReceivedNoSender = Interlocked.Read(ref _receivedNoSender),
        ReceivedDropped = Interlocked.Read(ref _receivedDropped),
        SendOversize = Interlocked.Read(ref _sendOversize),
        SendQueueFull = Interlocked.Read(ref _sendQueueFull),
        SendDisconnected = Interlocked.Read(ref _sendDisconnected),
        SendInvalidAddress = Interlocked.Read(ref _sendInvalidAddress),
        SendErrors = Interlocked.Read(ref _sendErrors),
        AdapterErrors = Interlocked.Read(ref _adapterErrors),
        Disconnects = Interlocked.Read(ref _disconnects),
        Reconnects = Interlocked.Read(ref _reconnects),
        ReconnectFailures = Interlocked.Read(ref _reconnectFailures),
        ConnectFailures = Interlocked.Read(ref _connectFailures),
        SlowConsumers = Interlocked.Read(ref _slowConsumers),
        PermissionErrors = Interlocked.Read(ref _permissionErrors),
        ServerErrors = Interlocked.Read(ref _serverErrors),
        SyncRequests = Interlocked.Read(ref _syncRequests),
        KeyValuePuts = Interlocked.Read(ref _keyValuePuts),
        KeyValueReads = Interlocked.Read(ref _keyValueReads),
        KeyValueErrors = Interlocked.Read(ref _keyValueErrors),
        Connected = _connection.ConnectionState == NatsConnectionState.Open,
    };

    /// <summary>
    /// Connects, subscribes to the state and sync subjects and this node's inbox, subscribes to
    /// <see cref="IGossipAdapter.Outgoing"/>, reads the key-value bucket (when configured) and asks
    /// the mesh for its full state (when <see cref="NatsGossipOptions.SyncOnConnect"/>). With
    /// <see cref="NatsGossipOptions.StartWithoutServer"/>, a server that cannot be reached does not
    /// fail the start: the transport keeps trying in the background and does all this once it connects.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes once the transport runs.</returns>
    /// <exception cref="InvalidOperationException">It was started before.</exception>
    /// <exception cref="ObjectDisposedException">It was disposed.</exception>
    /// <exception cref="TimeoutException">The server was not reached within <see cref="NatsGossipOptions.ConnectTimeout"/> (without <see cref="NatsGossipOptions.StartWithoutServer"/>).</exception>
    /// <exception cref="NatsException">The server refused the connection (authentication, TLS) or a subscription; or, without <see cref="NatsGossipOptions.StartWithoutServer"/>, could not be reached.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The transport is already started.");
        }

        CancellationToken stopping = _stopping.Token;
        try
        {
            await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (_startWithoutServer && IsUnreachable(e) && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _connectFailures);
            Log.NotReachedAtStart(_logger, _url, Reason(e), FirstConnectRetry);
            StartSending();
            lock (_loops)
            {
                _loops.Add(Task.Run(() => ConnectInBackgroundAsync(stopping), CancellationToken.None));
            }

            return;
        }

        StartSending();
        await JoinAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True for a failure to reach any server (refused, no answer in time); false for a server that answered and refused (authentication, TLS): a configuration error.</summary>
    internal static bool IsUnreachable(Exception e) =>
        e is TimeoutException || (e is NatsException && e is not NatsServerException && e.InnerException is null or System.Net.Sockets.SocketException or IOException or TimeoutException);

    private Task ConnectOnceAsync(CancellationToken cancellationToken) =>
        _connection.ConnectAsync().AsTask().WaitAsync(_connectTimeout, _time, cancellationToken);

    /// <summary>Tries to connect, 1 s after the failed start then doubling to 30 s, until it connects (then joins the mesh) or the transport is disposed.</summary>
    private async Task ConnectInBackgroundAsync(CancellationToken stopping)
    {
        TimeSpan wait = FirstConnectRetry;
        try
        {
            while (true)
            {
                await Task.Delay(wait, _time, stopping).ConfigureAwait(false);
                try
                {
                    await ConnectOnceAsync(stopping).ConfigureAwait(false);
                    long failures = Interlocked.Read(ref _connectFailures);
                    Log.ReachedLate(_logger, _url, failures);
                    await JoinAsync(stopping).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is not OutOfMemoryException && !stopping.IsCancellationRequested)
                {
                    // Not reached yet, or reached and refused (then the cause is logged for the operator to fix): tried again.
                    Interlocked.Increment(ref _connectFailures);
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxConnectRetry.Ticks));
                    Trouble(_connectFailedLog, "connect-failed", $"{Reason(e)}; next attempt in {wait.TotalSeconds:0} s");
                }
            }
        }
        catch (Exception e) when (stopping.IsCancellationRequested && e is not OutOfMemoryException)
        {
            // Disposed before the server was reached, or while joining: nothing more to do.
            string kind = e.GetType().Name;
            Log.StoppedBeforeJoining(_logger, kind);
        }
    }

    /// <summary>The send loop and the adapter's stream: messages published while no server is connected are dropped and counted, as during a reconnect.</summary>
    private void StartSending()
    {
        lock (_loops)
        {
            _loops.Add(Task.Run(() => SendLoopAsync(_stopping.Token), CancellationToken.None));
        }

        _outgoing = _adapter.Outgoing.Subscribe(OnOutgoing, OnOutgoingError, OnOutgoingCompleted);
    }

    /// <summary>Once connected: subscriptions, the bucket and the sync request.</summary>
    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        await SubscribeAsync(_stateSubject, queueGroup: null, cancellationToken).ConfigureAwait(false);
        await SubscribeAsync(_syncSubject, queueGroup: _syncSubject, cancellationToken).ConfigureAwait(false);
        await SubscribeAsync(Inbox, queueGroup: null, cancellationToken).ConfigureAwait(false);
        if (_keyValue)
        {
            var kv = new NatsKVContext(new NatsJSContext(_connection));
            INatsKVStore store = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(_bucket) { MaxAge = _keyValueTtl, History = 1 }, cancellationToken).ConfigureAwait(false);
            _key = KeyValueEntry.KeyFor(_stateSource!.NodeId);
            _store = store;
            await ReadKeyValueAsync(store, cancellationToken).ConfigureAwait(false);
        }

        if (_syncOnConnect)
        {
            EnqueueSyncRequest();
        }

        Log.Started(_logger, _url, _connection.ServerInfo?.Name ?? "?", _connection.ServerInfo?.MaxPayload ?? 0, _stateSubject, _syncSubject, Inbox, _keyValue ? _bucket : "none");
    }

    private static string Reason(Exception e) => e.InnerException is { } inner ? $"{e.Message}: {inner.Message}" : e.Message;

    /// <summary>Stops publishing and receiving, unsubscribes and closes the connection; messages still queued are not sent.</summary>
    /// <returns>A task that completes when everything has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _outgoing?.Dispose();
        _sendQueue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        // The background start may still be joining (it stops at the cancellation): snapshots.
        Task[] loops;
        INatsSub<byte[]>[] subscriptions;
        lock (_loops)
        {
            loops = [.. _loops];
            subscriptions = [.. _subscriptions];
        }

        foreach (INatsSub<byte[]> sub in subscriptions)
        {
            await sub.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        _connection.ConnectionDisconnected -= OnDisconnectedAsync;
        _connection.ConnectionOpened -= OnOpenedAsync;
        _connection.ReconnectFailed -= OnReconnectFailedAsync;
        _connection.MessageDropped -= OnMessageDroppedAsync;
        _connection.SlowConsumerDetected -= OnSlowConsumerAsync;
        _connection.ServerError -= OnServerErrorAsync;
        _connection.LameDuckModeActivated -= OnLameDuckAsync;
        await _connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _ownedMeter?.Dispose();
    }

    private static NatsOpts ClientOptions(NatsGossipOptions options)
    {
        NatsAuthOpts auth = NatsAuthOpts.Default with
        {
            Username = options.Username,
            Password = options.Password,
            Token = options.Token,
            CredsFile = options.CredentialsFile,
            NKeyFile = options.NKeyFile,
        };
        NatsTlsOpts tls = NatsTlsOpts.Default with
        {
            Mode = Enum.Parse<TlsMode>(options.TlsMode, ignoreCase: true),
            CaFile = options.TlsCaFile,
            CertFile = options.TlsCertFile,
            KeyFile = options.TlsKeyFile,
        };
        NatsOpts opts = NatsOpts.Default with
        {
            Url = options.Url,
            Name = options.ConnectionName ?? DefaultConnectionName,
            Echo = false, // this node's own messages are not delivered back to it
            AuthOpts = auth,
            TlsOpts = tls,
            ConnectTimeout = options.ConnectTimeout,
            MaxReconnectRetry = -1, // for ever: the mesh must come back with the server
            SubPendingChannelCapacity = options.MaxPendingMessages,
            SubPendingChannelFullMode = BoundedChannelFullMode.DropNewest,
            SuppressSlowConsumerWarnings = true, // the transport logs them once, with counts
        };
        return options.ConfigureClient?.Invoke(opts) ?? opts;
    }

    private async Task SubscribeAsync(string subject, string? queueGroup, CancellationToken cancellationToken)
    {
        lock (_loops)
        {
            // A background join retried after a later step failed (the bucket) keeps what it has.
            if (_subscriptions.Exists(existing => string.Equals(existing.Subject, subject, StringComparison.Ordinal)))
            {
                return;
            }
        }

        INatsSub<byte[]> sub = await _connection.SubscribeCoreAsync<byte[]>(subject, queueGroup, cancellationToken: cancellationToken).ConfigureAwait(false);
        lock (_loops)
        {
            _subscriptions.Add(sub);
            _loops.Add(Task.Run(() => ReceiveLoopAsync(sub, _stopping.Token), CancellationToken.None));
        }
    }

    private async Task ReceiveLoopAsync(INatsSub<byte[]> sub, CancellationToken stopping)
    {
        try
        {
            await foreach (NatsMsg<byte[]> message in sub.Msgs.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                if (message.HasNoResponders)
                {
                    // The server's answer to a sync request no other node heard: this node is the first up.
                    Log.NoResponders(_logger, _syncSubject);
                    continue;
                }

                OnReceived(message.Data, message.ReplyTo);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed: the loop ends.
        }
    }

    /// <summary>One message from the server: within bounds and from an inbox of the mesh, it goes to the adapter with that inbox as its sender.</summary>
    internal void OnReceived(byte[]? data, string? replyTo)
    {
        int size = data?.Length ?? 0;
        Interlocked.Increment(ref _messagesReceived);
        Interlocked.Add(ref _bytesReceived, size);
        if (size > _maxMessageBytes)
        {
            Interlocked.Increment(ref _receivedOversize);
            Trouble(_oversizeLog, "received-oversize", $"a message of {size} bytes, over the {_maxMessageBytes}-byte bound, was dropped");
            return;
        }

        if (data is null || !Subjects.IsInbox(replyTo, _inboxPrefix) || string.Equals(replyTo, Inbox, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _receivedNoSender);
            Trouble(_noSenderLog, "received-no-sender", $"a message whose reply subject '{Clip(replyTo)}' is not an inbox under {_inboxPrefix} was dropped: no one to prove or answer");
            return;
        }

        Deliver(data, replyTo!);
    }

    private void Deliver(ReadOnlySpan<byte> payload, string from)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            Interlocked.Increment(ref _messagesDelivered);
            if (!_adapter.Receive(payload, from))
            {
                // The adapter logs why at Debug and counts it on its own statistics.
                Interlocked.Increment(ref _messagesRefused);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The adapter promises never to throw; if it does, the transport must outlive it.
            Interlocked.Increment(ref _adapterErrors);
            Log.AdapterThrew(_logger, nameof(IGossipAdapter.Receive), e);
        }
    }

    private void OnOutgoing(GossipMessage message)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        string subject;
        if (message.To is null)
        {
            subject = _stateSubject;
        }
        else if (Subjects.IsInbox(message.To, _inboxPrefix))
        {
            subject = message.To;
        }
        else
        {
            Interlocked.Increment(ref _sendInvalidAddress);
            Trouble(_invalidAddressLog, "send-invalid-address", $"a message addressed to '{Clip(message.To)}', not an inbox under {_inboxPrefix}, was dropped");
            return;
        }

        Enqueue(new Outbound(subject, message.Payload, Broadcast: message.To is null));
    }

    private void Enqueue(Outbound outbound)
    {
        if (!_sendQueue.Writer.TryWrite(outbound) && Volatile.Read(ref _disposed) == 0)
        {
            Interlocked.Increment(ref _sendQueueFull);
            Trouble(_queueFullLog, "send-queue-full", "a message was dropped: the send queue is full (the server is slow or unreachable)");
        }
    }

    private void EnqueueSyncRequest()
    {
        byte[] buffer = new byte[AdapterBufferBytes];
        int written;
        try
        {
            written = _adapter.WriteSyncRequest(buffer);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Increment(ref _adapterErrors);
            Log.AdapterThrew(_logger, nameof(IGossipAdapter.WriteSyncRequest), e);
            return;
        }

        Interlocked.Increment(ref _syncRequests);
        Enqueue(new Outbound(_syncSubject, buffer.AsMemory(0, written), Broadcast: false));
    }

    private async Task SendLoopAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (Outbound outbound in _sendQueue.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                await PublishAsync(outbound, stopping).ConfigureAwait(false);
                if (outbound.Broadcast && _store is not null)
                {
                    await PutStateAsync(_store, force: false, stopping).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed: what is still queued is not sent.
        }
    }

    private async Task PublishAsync(Outbound outbound, CancellationToken stopping)
    {
        if (_connection.ConnectionState != NatsConnectionState.Open)
        {
            // Waiting for the server would stall every later message behind this one; gossip is
            // repeated (heartbeats) and the reconnect asks for the full state.
            Interlocked.Increment(ref _sendDisconnected);
            return;
        }

        long maxPayload = _connection.ServerInfo?.MaxPayload ?? long.MaxValue;
        if (outbound.Payload.Length > maxPayload)
        {
            Interlocked.Increment(ref _sendOversize);
            Trouble(_oversizeLog, "send-over-max-payload", $"a {outbound.Payload.Length}-byte message to {outbound.Subject} is over the server's max_payload of {maxPayload} bytes and was not sent; lower the adapter's Mtu or raise max_payload");
            return;
        }

        try
        {
            await _connection.PublishAsync(outbound.Subject, outbound.Payload, replyTo: Inbox, cancellationToken: stopping).ConfigureAwait(false);
            Interlocked.Increment(ref _messagesSent);
            Interlocked.Add(ref _bytesSent, outbound.Payload.Length);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && stopping.IsCancellationRequested))
        {
            Interlocked.Increment(ref _sendErrors);
            Trouble(_sendFailedLog, "send-failed", $"publishing on {outbound.Subject} failed: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Writes this node's latest state to the bucket when it published since the last write (or when forced, after a reconnect).</summary>
    private async Task PutStateAsync(INatsKVStore store, bool force, CancellationToken stopping)
    {
        long published = _stateSource!.Statistics.Published;
        if ((!force && published == Interlocked.Read(ref _lastPutPublication)) || _connection.ConnectionState != NatsConnectionState.Open)
        {
            return;
        }

        byte[] buffer = new byte[AdapterBufferBytes];
        int written = _stateSource.WriteState(buffer);
        if (written == 0)
        {
            return;
        }

        Interlocked.Exchange(ref _lastPutPublication, published);
        try
        {
            await store.PutAsync(_key!, KeyValueEntry.Write(Inbox, buffer.AsSpan(0, written)), cancellationToken: stopping).ConfigureAwait(false);
            Interlocked.Increment(ref _keyValuePuts);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && stopping.IsCancellationRequested))
        {
            Interlocked.Increment(ref _keyValueErrors);
            Interlocked.Exchange(ref _lastPutPublication, -1); // written again at the next message
            Trouble(_keyValueLog, "key-value-put-failed", $"writing this node's state to bucket {_bucket} failed: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Hands every other node's entry of the bucket to the adapter, with the entry's inbox as its sender.</summary>
    private async Task ReadKeyValueAsync(INatsKVStore store, CancellationToken cancellationToken)
    {
        int read = 0, refused = 0;
        try
        {
            var keys = new List<string>();
            await foreach (string key in store.GetKeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!string.Equals(key, _key, StringComparison.Ordinal))
                {
                    keys.Add(key);
                }
            }

            foreach (string key in keys)
            {
                NatsResult<NatsKVEntry<byte[]>> entry = await store.TryGetEntryAsync<byte[]>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (!entry.Success || entry.Value.Value is not { } value)
                {
                    continue; // expired or deleted between the listing and the read
                }

                if (DeliverEntry(value))
                {
                    read++;
                }
                else
                {
                    refused++;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Interlocked.Increment(ref _keyValueErrors);
            Trouble(_keyValueLog, "key-value-read-failed", $"reading bucket {_bucket} failed: {e.GetType().Name}: {e.Message}");
        }

        Log.KeyValueRead(_logger, read, _bucket, refused);
    }

    /// <summary>Hands one entry's message to the adapter with the entry's inbox as its sender; false (counted) when the entry is not well-formed.</summary>
    private bool DeliverEntry(byte[] value)
    {
        if (value.Length > _maxMessageBytes + KeyValueEntry.MaxHeaderBytes
            || !KeyValueEntry.TryRead(value, _inboxPrefix, out string inbox, out ReadOnlySpan<byte> message)
            || string.Equals(inbox, Inbox, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _keyValueErrors);
            return false;
        }

        Interlocked.Increment(ref _keyValueReads);
        Deliver(message, inbox);
        return true;
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        if (Interlocked.Exchange(ref _lost, 1) == 0)
        {
            Interlocked.Increment(ref _disconnects);
            Log.Disconnected(_logger, args.Message);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        if (Interlocked.Exchange(ref _lost, 0) == 0 || Volatile.Read(ref _disposed) != 0)
        {
            return ValueTask.CompletedTask; // the first connection: StartAsync carries on from here
        }

        Interlocked.Increment(ref _reconnects);
        long disconnects = Volatile.Read(ref _disconnects);
        Log.Reconnected(_logger, args.Message, disconnects);
        if (_syncOnConnect)
        {
            EnqueueSyncRequest();
        }

        if (_store is not null)
        {
            // The server may have lost the entry (a restart without its store): written again at once.
            Interlocked.Exchange(ref _lastPutPublication, -1);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnReconnectFailedAsync(object? sender, NatsEventArgs args)
    {
        Interlocked.Increment(ref _reconnectFailures);
        Trouble(_reconnectFailedLog, "reconnect-failed", $"{args.Message}; the client keeps trying");
        return ValueTask.CompletedTask;
    }

    private ValueTask OnMessageDroppedAsync(object? sender, NatsMessageDroppedEventArgs args)
    {
        Interlocked.Increment(ref _receivedDropped);
        Trouble(_droppedLog, "message-dropped", $"a message on {args.Subject} was dropped: {args.Pending} wait for the adapter already");
        return ValueTask.CompletedTask;
    }

    private ValueTask OnSlowConsumerAsync(object? sender, NatsSlowConsumerEventArgs args)
    {
        Interlocked.Increment(ref _slowConsumers);
        Trouble(_slowConsumerLog, "slow-consumer", $"{args.Message}: the adapter falls behind the server; messages beyond the queue are dropped and counted");
        return ValueTask.CompletedTask;
    }

    private ValueTask OnServerErrorAsync(object? sender, NatsServerErrorEventArgs args)
    {
        if (args.Kind == NatsServerErrorKind.PermissionsViolation)
        {
            Interlocked.Increment(ref _permissionErrors);
            Trouble(_permissionLog, "permission-denied", $"{args.Error}; grant this user publish and subscribe on costmodel.<mesh>.>");
        }
        else
        {
            Interlocked.Increment(ref _serverErrors);
            Trouble(_serverErrorLog, "server-error", args.Error);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnLameDuckAsync(object? sender, NatsLameDuckModeActivatedEventArgs args)
    {
        Log.LameDuck(_logger, _url);
        return ValueTask.CompletedTask;
    }

    private void OnOutgoingError(Exception error)
    {
        Interlocked.Increment(ref _adapterErrors);
        Log.OutgoingFailed(_logger, error);
    }

    private void OnOutgoingCompleted() => Log.OutgoingCompleted(_logger);

    private void Trouble(LogThrottle throttle, string kind, string reason)
    {
        if (throttle.ShouldLog(out bool first, out long unlogged))
        {
            if (first)
            {
                Log.TroubleFirst(_logger, kind, reason, unlogged);
            }
            else
            {
                Log.TroubleAgain(_logger, kind, reason, unlogged);
            }
        }
    }

    /// <summary>An untrusted subject, cut to a loggable length.</summary>
    private static string Clip(string? text) => text is null ? "(none)" : text.Length <= 100 ? text : string.Concat(text.AsSpan(0, 100), "...");

    /// <summary>A message waiting to be published.</summary>
    /// <param name="Subject">Where to.</param>
    /// <param name="Payload">The adapter's bytes (a fresh array, never changed).</param>
    /// <param name="Broadcast">True for gossip on the state subject (after which the bucket may be rewritten).</param>
    private readonly record struct Outbound(string Subject, ReadOnlyMemory<byte> Payload, bool Broadcast);
}
