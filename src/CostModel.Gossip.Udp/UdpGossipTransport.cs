using System.Diagnostics.Metrics;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CostModel.Gossip.Udp;

/// <summary>
/// A reference UDP transport for a LAN: moves an <see cref="IGossipAdapter"/>'s bytes over one UDP
/// socket, the way memberlist gossips.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description><b>Receive</b>: one loop reads datagrams into pooled buffers and queues them
/// (bounded by <see cref="UdpGossipOptions.MaxQueuedDatagrams"/>) for a second loop that hands them
/// to <see cref="IGossipAdapter.Receive"/> with the sender as <c>ip:port</c>. Datagrams over the
/// MTU are dropped; socket errors are logged at Debug, counted, and receiving continues.</description></item>
/// <item><description><b>Peers</b>: the seeds plus the senders whose messages the adapter accepted
/// (<see cref="IGossipAdapter.Receive"/> returned true), bounded by <see cref="UdpGossipOptions.MaxPeers"/>
/// (the non-seed silent longest is forgotten for a newcomer) and by <see cref="UdpGossipOptions.PeerTimeout"/>
/// (a non-seed with no message accepted for that long is forgotten).</description></item>
/// <item><description><b>Budgets</b>: datagrams from each peer, and from each stranger IP address
/// and all strangers together, pass token buckets before they are queued, and strangers fill at
/// most half the queue; addressed messages to strangers pass per-address and shared byte budgets.
/// Every drop is counted in <see cref="Stats"/> and logged at Debug, a few lines a second at most.</description></item>
/// <item><description><b>Pull</b>: every <see cref="UdpGossipOptions.GossipInterval"/>,
/// <see cref="GossipRound"/> asks <see cref="IGossipAdapter.WritePayload"/> for up to an MTU and
/// sends it to <see cref="UdpGossipOptions.Fanout"/> random peers.</description></item>
/// <item><description><b>Push</b>: each <see cref="IGossipAdapter.Outgoing"/> message goes to its
/// <see cref="GossipMessage.To"/> (<c>ip:port</c>) or, without one, to fanout random peers.</description></item>
/// <item><description><b>Join</b>: <see cref="StartAsync"/> sends <see cref="IGossipAdapter.WriteSyncRequest"/>'s bytes to each seed.</description></item>
/// </list>
/// Only a sender the adapter accepted becomes a gossip peer: let the adapter authenticate (configure
/// keys), or anyone who can reach the socket can join by sending well-formed gossip.
/// </remarks>
public sealed class UdpGossipTransport : IAsyncDisposable
{
    /// <summary>Receive errors in a row after which the loop pauses (a broken socket must not spin a core).</summary>
    private const int ReceiveErrorsBeforePause = 16;

    /// <summary>Windows' SIO_UDP_CONNRESET: with it off, an ICMP port unreachable no longer fails the next receive.</summary>
    private const int SioUdpConnReset = unchecked((int)0x9800000C);

    /// <summary>Strangers may fill at most one part in this many of the queue (ours: half; the other half always has room for the peers' gossip).</summary>
    private const int StrangerQueueShareDivisor = 2;

    /// <summary>How long the receive loop pauses after <see cref="ReceiveErrorsBeforePause"/> errors in a row.</summary>
    private static readonly TimeSpan ReceiveErrorPause = TimeSpan.FromMilliseconds(100);

    private readonly IGossipAdapter _adapter;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Socket _socket;
    private readonly PeerTable _peers;
    private readonly Channel<Datagram> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _roundGate = new();
    private readonly byte[] _roundBuffer;
    private readonly Peer[] _roundPeers;
    private readonly IReadOnlyList<string> _seeds;
    private readonly TimeSpan _interval;
    private readonly int _fanout;
    private readonly int _mtu;
    private readonly int _maxQueued;
    private readonly int _maxStrangersQueued;
    private readonly int _maxPeers;
    private readonly TimeSpan _peerTimeout;
    private readonly UdpRateLimit _peerReceiveLimit;
    private readonly StrangerBudget _strangerReceive;
    private readonly StrangerBudget _strangerSend;
    private readonly LogThrottle _oversizeLog;
    private readonly LogThrottle _queueFullLog;
    private readonly LogThrottle _receiveLimitedLog;
    private readonly LogThrottle _sendLimitedLog;
    private readonly List<Peer> _seedPeers = [];
    private readonly Meter? _ownedMeter;
    private IDisposable? _subscription;
    private ITimer? _timer;
    private Task? _receiveLoop;
    private Task? _deliverLoop;
    private int _started;
    private int _disposed;
    private int _strangersQueued;

    private long _datagramsSent;
    private long _bytesSent;
    private long _datagramsReceived;
    private long _bytesReceived;
    private long _datagramsDelivered;
    private long _receivedOversize;
    private long _receivedQueueFull;
    private long _receivedSourceLimited;
    private long _receivedStrangerLimited;
    private long _datagramsRefused;
    private long _receiveErrors;
    private long _sendOversize;
    private long _sendInvalidAddress;
    private long _sendDestinationLimited;
    private long _sendStrangerLimited;
    private long _sendNoPeers;
    private long _sendErrors;
    private long _adapterErrors;
    private long _unresolvedSeeds;
    private long _peersAdmitted;
    private long _peersAgedOut;
    private long _peersEvicted;

    /// <summary>Creates the transport and binds its socket; nothing is sent or received until <see cref="StartAsync"/>.</summary>
    /// <param name="adapter">The gossip adapter whose bytes to move.</param>
    /// <param name="options">The options (read now; later changes have no effect).</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <param name="meterFactory">
    /// Where its counters go: on the <c>CostModel</c> meter of the host's factory
    /// (<c>costmodel.gossip.udp.*</c>); null for a meter of its own, disposed with the transport.
    /// </param>
    /// <param name="time">The clock for gossip rounds, budgets and peer ages; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="SocketException">The address and port cannot be bound.</exception>
    public UdpGossipTransport(IGossipAdapter adapter, UdpGossipOptions options, ILogger<UdpGossipTransport>? logger = null, IMeterFactory? meterFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(options);
        IPAddress bind = options.Validate();
        _adapter = adapter;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _interval = options.GossipInterval;
        _fanout = options.Fanout;
        _mtu = options.Mtu;
        _maxQueued = options.MaxQueuedDatagrams;
        _maxStrangersQueued = Math.Max(1, _maxQueued / StrangerQueueShareDivisor);
        _maxPeers = options.MaxPeers;
        _peerTimeout = options.PeerTimeout;
        _peerReceiveLimit = options.PeerReceiveLimit;
        _strangerReceive = new StrangerBudget(options.StrangerReceiveLimitPerAddress, options.StrangerReceiveLimit, _time);
        _strangerSend = new StrangerBudget(options.StrangerSendLimitPerAddress, options.StrangerSendLimit, _time);
        _oversizeLog = new LogThrottle(_time);
        _queueFullLog = new LogThrottle(_time);
        _receiveLimitedLog = new LogThrottle(_time);
        _sendLimitedLog = new LogThrottle(_time);
        _seeds = [.. options.SeedPeers];
        _roundBuffer = new byte[_mtu];
        _roundPeers = new Peer[_fanout];
        _peers = new PeerTable(_maxPeers);
        _queue = Channel.CreateBounded<Datagram>(new BoundedChannelOptions(_maxQueued)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the receive loop drops and counts
        });

        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (bind.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }

            if (OperatingSystem.IsWindows())
            {
                _socket.IOControl(SioUdpConnReset, [0, 0, 0, 0], null);
            }

            _socket.Bind(new IPEndPoint(bind, options.Port));
            LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        }
        catch
        {
            _socket.Dispose();
            _stopping.Dispose();
            throw;
        }

        _ownedMeter = meterFactory is null ? new Meter(MeterName) : null;
        UdpMetrics.Observe(meterFactory?.Create(MeterName) ?? _ownedMeter!, this);
    }

    /// <summary>The meter the transport's counters are on: the library's own (<c>CostModel</c>).</summary>
    internal const string MeterName = "CostModel";

    /// <summary>The address and port the socket is bound to (the chosen port when <see cref="UdpGossipOptions.Port"/> is 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>A snapshot of the counters.</summary>
    public UdpGossipStats Stats => new()
    {
        DatagramsSent = Interlocked.Read(ref _datagramsSent),
        BytesSent = Interlocked.Read(ref _bytesSent),
        DatagramsReceived = Interlocked.Read(ref _datagramsReceived),
        BytesReceived = Interlocked.Read(ref _bytesReceived),
        DatagramsDelivered = Interlocked.Read(ref _datagramsDelivered),
        ReceivedOversize = Interlocked.Read(ref _receivedOversize),
        ReceivedQueueFull = Interlocked.Read(ref _receivedQueueFull),
        ReceivedSourceLimited = Interlocked.Read(ref _receivedSourceLimited),
        ReceivedStrangerLimited = Interlocked.Read(ref _receivedStrangerLimited),
        DatagramsRefused = Interlocked.Read(ref _datagramsRefused),
        ReceiveErrors = Interlocked.Read(ref _receiveErrors),
        SendOversize = Interlocked.Read(ref _sendOversize),
        SendInvalidAddress = Interlocked.Read(ref _sendInvalidAddress),
        SendDestinationLimited = Interlocked.Read(ref _sendDestinationLimited),
        SendStrangerLimited = Interlocked.Read(ref _sendStrangerLimited),
        SendNoPeers = Interlocked.Read(ref _sendNoPeers),
        SendErrors = Interlocked.Read(ref _sendErrors),
        AdapterErrors = Interlocked.Read(ref _adapterErrors),
        UnresolvedSeeds = Interlocked.Read(ref _unresolvedSeeds),
        PeersAdmitted = Interlocked.Read(ref _peersAdmitted),
        PeersAgedOut = Interlocked.Read(ref _peersAgedOut),
        PeersEvicted = Interlocked.Read(ref _peersEvicted),
        Peers = _peers.Count,
    };

    /// <summary>The receive loop, for tests: completes when the transport is disposed.</summary>
    internal Task ReceiveLoop => _receiveLoop ?? Task.CompletedTask;

    /// <summary>The peers' <c>ip:port</c> texts now, for tests and diagnostics.</summary>
    internal string[] PeerAddresses() => _peers.Texts();

    /// <summary>
    /// Resolves the seeds (host names through DNS), starts receiving, subscribes to
    /// <see cref="IGossipAdapter.Outgoing"/>, sends a sync request to each seed and starts the gossip timer.
    /// </summary>
    /// <param name="cancellationToken">Cancels seed resolution.</param>
    /// <returns>A task that completes once the transport runs.</returns>
    /// <exception cref="InvalidOperationException">It was started before.</exception>
    /// <exception cref="ObjectDisposedException">It was disposed.</exception>
    /// <exception cref="ArgumentException">The adapter's MTU is larger than <see cref="UdpGossipOptions.Mtu"/> (from <see cref="IGossipAdapter.WriteSyncRequest"/>).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The transport is already started.");
        }

        foreach (string seed in _seeds)
        {
            if (await ResolveSeedAsync(seed, cancellationToken).ConfigureAwait(false) is { } peer)
            {
                _peers.AddSeed(peer);
                _seedPeers.Add(peer);
            }
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this); // disposed while resolving

        // Written before anything starts: an adapter MTU above ours throws here, with nothing to undo.
        byte[] request = new byte[_mtu];
        int requestLength = _seedPeers.Count > 0 ? _adapter.WriteSyncRequest(request) : 0;

        CancellationToken stopping = _stopping.Token;
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(stopping), CancellationToken.None);
        _deliverLoop = Task.Run(DeliverLoopAsync, CancellationToken.None);
        _subscription = _adapter.Outgoing.Subscribe(OnOutgoing, OnOutgoingError, OnOutgoingCompleted);
        foreach (Peer seed in _seedPeers)
        {
            SendTo(request.AsSpan(0, requestLength), seed);
        }

        _timer = _time.CreateTimer(static state => ((UdpGossipTransport)state!).GossipRound(), this, _interval, _interval);
        Log.Started(_logger, LocalEndPoint, _seedPeers.Count, _interval, _fanout, _mtu);
    }

    /// <summary>
    /// One gossip round (the timer calls it every <see cref="UdpGossipOptions.GossipInterval"/>):
    /// forgets the peers silent longer than <see cref="UdpGossipOptions.PeerTimeout"/>, pulls
    /// <see cref="IGossipAdapter.WritePayload"/> with the MTU as budget and sends the bytes to
    /// fanout random peers.
    /// </summary>
    /// <returns>How many datagrams were sent: 0 when the adapter had nothing, there is no peer, or the transport is disposed.</returns>
    public int GossipRound()
    {
        lock (_roundGate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return 0;
            }

            ForgetSilentPeers();
            int written;
            try
            {
                written = _adapter.WritePayload(_roundBuffer);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.Increment(ref _adapterErrors);
                Log.AdapterThrew(_logger, nameof(IGossipAdapter.WritePayload), e);
                return 0;
            }

            if (written <= 0)
            {
                return 0;
            }

            int picked = _peers.Pick(_roundPeers, _fanout);
            if (picked == 0)
            {
                Interlocked.Increment(ref _sendNoPeers);
                return 0;
            }

            int sent = 0;
            for (int i = 0; i < picked; i++)
            {
                if (SendTo(_roundBuffer.AsSpan(0, written), _roundPeers[i]))
                {
                    sent++;
                }
            }

            Array.Clear(_roundPeers);
            return sent;
        }
    }

    /// <summary>Stops the timer and the push subscription, closes the socket and waits for the loops to end; datagrams still queued are not delivered.</summary>
    /// <remarks>Do not call it from inside the adapter's <see cref="IGossipAdapter.Receive"/>: it waits for the loop that made that call.</remarks>
    /// <returns>A task that completes when everything has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false); // waits for a round in progress
        }

        _subscription?.Dispose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(false);
        }

        _queue.Writer.TryComplete();
        if (_deliverLoop is not null)
        {
            await _deliverLoop.ConfigureAwait(false);
        }

        _stopping.Dispose();
        _ownedMeter?.Dispose();
    }

    private async Task ReceiveLoopAsync(CancellationToken stopping)
    {
        var from = new SocketAddress(_socket.AddressFamily);
        // One byte over the MTU: a datagram that fills it was larger than the MTU (the OS truncates, or on Windows fails with MessageSize).
        int size = _mtu + 1;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        int errorsInARow = 0;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                int received;
                try
                {
                    received = await _socket.ReceiveFromAsync(buffer.AsMemory(0, size), SocketFlags.None, from, stopping).ConfigureAwait(false);
                }
                catch (Exception e) when (stopping.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return; // disposed
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
                {
                    Interlocked.Increment(ref _datagramsReceived);
                    DropOversize(size);
                    continue;
                }
                catch (SocketException e)
                {
                    Interlocked.Increment(ref _receiveErrors);
                    Log.ReceiveFailed(_logger, e.SocketErrorCode);
                    if (++errorsInARow >= ReceiveErrorsBeforePause)
                    {
                        Log.ReceiveKeepsFailing(_logger, errorsInARow, e.SocketErrorCode, ReceiveErrorPause);
                        errorsInARow = 0;
                        if (!await PauseAsync(stopping).ConfigureAwait(false))
                        {
                            return;
                        }
                    }

                    continue;
                }

                errorsInARow = 0;
                Interlocked.Increment(ref _datagramsReceived);
                Interlocked.Add(ref _bytesReceived, received);
                if (received > _mtu)
                {
                    DropOversize(received);
                    continue;
                }

                // A peer is found without allocating; a stranger's address is parsed, within budgets.
                Peer? peer = _peers.Find(from);
                bool stranger = peer is null;
                peer ??= Peer.FromReceived(from);
                if (!MayQueue(peer, stranger))
                {
                    continue; // the buffer is reused
                }

                if (!_queue.Writer.TryWrite(new Datagram(buffer, received, peer, stranger)))
                {
                    if (stranger)
                    {
                        Interlocked.Decrement(ref _strangersQueued);
                    }

                    DropQueueFull(peer, _maxQueued);
                    continue;
                }

                buffer = ArrayPool<byte>.Shared.Rent(size);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Whether a datagram from <paramref name="sender"/> may be queued: a peer within its own budget;
    /// a stranger within its IP address's budget, the one all strangers share, and their half of the
    /// queue (reserved here, released when the deliver loop takes it or the queue refuses it).
    /// Counts and logs a drop.
    /// </summary>
    private bool MayQueue(Peer sender, bool stranger)
    {
        if (!stranger)
        {
            TokenBucket budget = sender.ReceiveBudget ??= new TokenBucket(_peerReceiveLimit, _time);
            if (budget.TryTake(1))
            {
                return true;
            }

            Interlocked.Increment(ref _receivedSourceLimited);
            LogReceiveLimited(sender, "this peer's receive budget");
            return false;
        }

        switch (_strangerReceive.TryTake(sender.Host, 1))
        {
            case BudgetVerdict.AddressSpent:
                Interlocked.Increment(ref _receivedSourceLimited);
                LogReceiveLimited(sender, "the receive budget of its IP address (not a peer)");
                return false;
            case BudgetVerdict.OverallSpent:
                Interlocked.Increment(ref _receivedStrangerLimited);
                LogReceiveLimited(sender, "the receive budget all senders that are not peers share");
                return false;
        }

        if (Interlocked.Increment(ref _strangersQueued) > _maxStrangersQueued)
        {
            Interlocked.Decrement(ref _strangersQueued);
            DropQueueFull(sender, _maxStrangersQueued);
            return false;
        }

        return true;
    }

    private void LogReceiveLimited(Peer sender, string budget)
    {
        if (_receiveLimitedLog.ShouldLog(out long unlogged))
        {
            Log.ReceiveLimited(_logger, sender.Text, budget, unlogged);
        }
    }

    private void DropOversize(int bytes)
    {
        Interlocked.Increment(ref _receivedOversize);
        if (_oversizeLog.ShouldLog(out long unlogged))
        {
            Log.ReceivedOversize(_logger, bytes, _mtu, unlogged);
        }
    }

    private void DropQueueFull(Peer sender, int bound)
    {
        Interlocked.Increment(ref _receivedQueueFull);
        if (_queueFullLog.ShouldLog(out long unlogged))
        {
            Log.QueueFull(_logger, sender.Text, bound, unlogged);
        }
    }

    /// <summary>Waits <see cref="ReceiveErrorPause"/>; false when the transport stops meanwhile.</summary>
    private async Task<bool> PauseAsync(CancellationToken stopping)
    {
        try
        {
            await Task.Delay(ReceiveErrorPause, _time, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false; // disposed during the pause: nothing to count
        }
    }

    private async Task DeliverLoopAsync()
    {
        ChannelReader<Datagram> reader = _queue.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out Datagram datagram))
            {
                if (datagram.FromStranger)
                {
                    Interlocked.Decrement(ref _strangersQueued);
                }

                try
                {
                    if (Volatile.Read(ref _disposed) == 0)
                    {
                        Interlocked.Increment(ref _datagramsDelivered);
                        if (_adapter.Receive(datagram.Buffer.AsSpan(0, datagram.Length), datagram.From.Text))
                        {
                            Admit(datagram.From);
                        }
                        else
                        {
                            // The adapter logs why at Debug; here it only means the sender is no peer by it.
                            Interlocked.Increment(ref _datagramsRefused);
                        }
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The adapter promises never to throw; if it does, the transport must outlive it.
                    Interlocked.Increment(ref _adapterErrors);
                    Log.AdapterThrew(_logger, nameof(IGossipAdapter.Receive), e);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(datagram.Buffer);
                }
            }
        }
    }

    /// <summary>The adapter accepted a message from <paramref name="sender"/>: it is a peer (again, or still).</summary>
    private void Admit(Peer sender)
    {
        if (!_peers.Admit(sender, _time.GetTimestamp(), out Peer? evicted))
        {
            return;
        }

        Interlocked.Increment(ref _peersAdmitted);
        Log.PeerAdmitted(_logger, sender.Text);
        if (evicted is not null)
        {
            Interlocked.Increment(ref _peersEvicted);
            Log.PeerEvicted(_logger, _maxPeers, evicted.Text);
        }
    }

    private void ForgetSilentPeers()
    {
        long heardBefore = _time.GetTimestamp() - (long)(_peerTimeout.TotalSeconds * _time.TimestampFrequency);
        int forgotten = _peers.ForgetSilent(heardBefore);
        if (forgotten > 0)
        {
            Interlocked.Add(ref _peersAgedOut, forgotten);
            Log.PeersAgedOut(_logger, forgotten, _peerTimeout, _peers.Count);
        }
    }

    private void OnOutgoing(GossipMessage message)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        ReadOnlySpan<byte> payload = message.Payload.Span;
        if (payload.Length > _mtu)
        {
            Interlocked.Increment(ref _sendOversize);
            Log.SendOversize(_logger, payload.Length, _mtu);
            return;
        }

        if (message.To is { } to)
        {
            if (ResolveAddressee(to, out bool isPeer) is not { } addressee)
            {
                Interlocked.Increment(ref _sendInvalidAddress);
                Log.InvalidAddress(_logger, to);
            }
            else if (isPeer || MaySendToStranger(payload.Length, addressee))
            {
                SendTo(payload, addressee);
            }

            return;
        }

        Peer[] chosen = ArrayPool<Peer>.Shared.Rent(_fanout);
        try
        {
            int picked = _peers.Pick(chosen, _fanout);
            if (picked == 0)
            {
                Interlocked.Increment(ref _sendNoPeers);
            }

            for (int i = 0; i < picked; i++)
            {
                SendTo(payload, chosen[i]);
            }
        }
        finally
        {
            ArrayPool<Peer>.Shared.Return(chosen, clearArray: true);
        }
    }

    private void OnOutgoingError(Exception error)
    {
        Interlocked.Increment(ref _adapterErrors);
        Log.OutgoingFailed(_logger, error);
    }

    private void OnOutgoingCompleted() => Log.OutgoingCompleted(_logger);

    /// <summary>The peer for an addressee: a known peer by its text, else a parsed <c>ip:port</c> (a peer's, or a stranger's); null when invalid.</summary>
    private Peer? ResolveAddressee(string to, out bool isPeer)
    {
        isPeer = true;
        if (_peers.TryGet(to, out Peer? known))
        {
            return known;
        }

        if (!IPEndPoint.TryParse(to, out IPEndPoint? endPoint) || Peer.For(endPoint, _socket, isSeed: false) is not { } parsed)
        {
            return null;
        }

        known = _peers.Known(parsed);
        isPeer = known is not null;
        return known ?? parsed;
    }

    /// <summary>Whether <paramref name="bytes"/> to a stranger fit its IP address's send budget and the one all strangers share; counts and logs a drop.</summary>
    private bool MaySendToStranger(int bytes, Peer stranger)
    {
        BudgetVerdict verdict = _strangerSend.TryTake(stranger.Host, bytes);
        if (verdict == BudgetVerdict.Granted)
        {
            return true;
        }

        string budget;
        if (verdict == BudgetVerdict.AddressSpent)
        {
            Interlocked.Increment(ref _sendDestinationLimited);
            budget = "the send budget of its IP address";
        }
        else
        {
            Interlocked.Increment(ref _sendStrangerLimited);
            budget = "the send budget all addresses that are not peers share";
        }

        if (_sendLimitedLog.ShouldLog(out long unlogged))
        {
            Log.SendLimited(_logger, bytes, stranger.Text, budget, unlogged);
        }

        return false;
    }

    private async Task<Peer?> ResolveSeedAsync(string seed, CancellationToken cancellationToken)
    {
        string reason;
        if (IPEndPoint.TryParse(seed, out IPEndPoint? literal) && literal.Port != 0)
        {
            if (Peer.For(literal, _socket, isSeed: true) is { } peer)
            {
                return peer;
            }

            reason = $"its address family does not match the socket bound to {LocalEndPoint}";
        }
        else if (SplitHostPort(seed) is not (string host, int port))
        {
            reason = "not host:port";
        }
        else
        {
            try
            {
                IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
                foreach (IPAddress address in addresses)
                {
                    if (Peer.For(new IPEndPoint(address, port), _socket, isSeed: true) is { } peer)
                    {
                        return peer;
                    }
                }

                reason = $"'{host}' has no address this socket can reach";
            }
            catch (SocketException e)
            {
                reason = $"'{host}' did not resolve ({e.SocketErrorCode})";
            }
            catch (ArgumentException e)
            {
                reason = $"'{host}' is not a valid host name ({e.Message})";
            }
        }

        Interlocked.Increment(ref _unresolvedSeeds);
        Log.SeedUnresolved(_logger, seed, reason);
        return null;
    }

    /// <summary>Splits <c>host:port</c> at the last colon; null when either part is missing or the port is out of range.</summary>
    private static (string Host, int Port)? SplitHostPort(string text)
    {
        int colon = text.LastIndexOf(':');
        return colon > 0
            && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port)
            && port is > 0 and <= IPEndPoint.MaxPort
            ? (text[..colon], port)
            : null;
    }

    private bool SendTo(ReadOnlySpan<byte> payload, Peer peer)
    {
        try
        {
            int sent = _socket.SendTo(payload, SocketFlags.None, peer.Address);
            Interlocked.Increment(ref _datagramsSent);
            Interlocked.Add(ref _bytesSent, sent);
            return true;
        }
        catch (SocketException e)
        {
            Interlocked.Increment(ref _sendErrors);
            Log.SendFailed(_logger, peer.Text, e.SocketErrorCode);
            return false;
        }
        catch (ObjectDisposedException)
        {
            Interlocked.Increment(ref _sendErrors);
            Log.SendAfterDispose(_logger, peer.Text);
            return false;
        }
    }

    /// <summary>A received datagram waiting for the adapter; <see cref="Buffer"/> is rented and returned after delivery.</summary>
    /// <param name="Buffer">The rented buffer.</param>
    /// <param name="Length">The datagram's length.</param>
    /// <param name="From">Its sender: a peer, or a stranger parsed for it.</param>
    /// <param name="FromStranger">Whether it holds one of the strangers' places in the queue.</param>
    private readonly record struct Datagram(byte[] Buffer, int Length, Peer From, bool FromStranger);
}
