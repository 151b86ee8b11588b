using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Fuzz;

/// <summary>
/// One receiving <see cref="GossipAdapter"/>, built through DI as a host builds it in a mesh open,
/// signed or encrypted (<see cref="FuzzMesh"/>), with one sender address proven by the real
/// challenge and echo; <see cref="Run"/> delivers one fuzz input from that address (or, for a
/// sender input, <see cref="FuzzInput.SenderTag"/>, from one of <see cref="SenderCount"/> - 1 other
/// peers, each proven the same way on its first message) and checks the receive path's invariants,
/// throwing <see cref="InvariantViolationException"/> when one is broken.
/// </summary>
/// <remarks>
/// The clock is a <see cref="FakeTimeProvider"/> that only clock inputs move
/// (<see cref="FuzzInput.ClockTag"/>): the receiver's clock and the sender clock in every wrapped
/// input move together, so the offset between them never changes; when a move lets the sender's
/// proof lapse, the sender proves itself again (as a real peer answers a challenge) before the next
/// input. The timers that fall due on a move (rounds, liveness, tombstone and proof expiry) run on
/// the receiver as they would in a host, and what they send is checked as a receive's replies are.
/// A drift input (<see cref="FuzzInput.DriftTag"/>) moves the sender's clock alone and sends a
/// message at the new clock: past the freshness tolerance it and the messages after it are held and
/// challenged (at most once a second), and at the next clock input the sender answers the latest
/// challenge it was sent, as a peer does, which releases them; within a second of the last
/// challenge there may be none yet, and the sender tries again at the clock input after.
/// A rotation input (<see cref="FuzzInput.RotateTag"/>) reloads the receiver's options through the
/// options monitor, as a host's configuration reload does, with another of the mesh's key sets, and
/// may switch the key the sender seals with; while the receiver lacks the sender's key, the sender
/// cannot prove itself (its messages are refused, as they must be) and is not expected to.
/// </remarks>
internal sealed class GossipReceiverTarget : IFuzzTarget
{
    /// <summary>The proven sender's address (peer 0): every input but a sender input arrives from it.</summary>
    public const string SenderAddress = "fuzz-sender:7946";

    /// <summary>4: the peers inputs arrive from (peer 0, <see cref="SenderAddress"/>, and three others), enough for states of one node relayed by several peers, and for the per-peer tables and the challenge budget shared between peers.</summary>
    public const int SenderCount = 4;

    /// <summary>The receiver's node id.</summary>
    public const string ReceiverId = "fuzz-target";

    /// <summary>The receiver's clock at its start, before any clock input (and the seed corpus's states' time).</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    // What the adapter counts when a round throws (its timer callback's last-resort catch).
    private const string RoundFailed = "round-failed";

    private readonly FakeTimeProvider _time = new(Now);
    private readonly FuzzMesh _mesh;
    private readonly ServiceProvider _provider;
    private readonly GossipAdapter _adapter;
    private readonly MeshView _view;
    private readonly RejectionCounter _rejections;
    private readonly IDisposable _outgoingSubscription;
    private readonly byte[] _datagram = new byte[FuzzInput.MaxDatagram];
    private readonly byte[] _scratch = new byte[FuzzInput.MaxDatagram];
    private readonly char[] _id = new char[NodeCostFactors.MaxNodeIdLength];
    private string? _outgoingViolation;

    // Each peer's address, the latest challenge the receiver sent it, and when.
    private static readonly string[] Addresses = [SenderAddress, "fuzz-sender-1:7946", "fuzz-sender-2:7946", "fuzz-sender-3:7946"];
    private readonly Cookie?[] _challenges = new Cookie?[SenderCount];
    private readonly DateTimeOffset[] _lastChallengeAt = new DateTimeOffset[SenderCount];

    // How far drift inputs moved the sender's clock from the receiver's, ms.
    private long _driftMs;

    // The receiver's key set (FuzzMesh.ReceiverKeys), read by its options each time they are built,
    // and the key the sender seals with; rotation inputs change both.
    private int _keySet;
    private bool _senderSealsWithSecond;
    private readonly OptionsReload _reload = new();

    /// <summary>Builds the receiver in <paramref name="mesh"/> and proves <see cref="SenderAddress"/>.</summary>
    /// <param name="mesh">How the mesh protects its messages.</param>
    /// <exception cref="InvalidOperationException">The receiver did not challenge the sender, or did not take its echo.</exception>
    public GossipReceiverTarget(FuzzMesh mesh)
    {
        _mesh = mesh;
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);

        // The host's meter factory, as a real host has (AddMetrics).
        services.AddMetrics();
        services.AddSingleton<IOptionsChangeTokenSource<GossipOptions>>(_reload);
        services.AddCostModel(o => o.NodeId = ReceiverId).AddGossip().Configure<GossipOptions>(o =>
        {
            o.Keys = [.. mesh.ReceiverKeys(_keySet)];
            o.Encrypt = mesh.Encrypt;
            o.AllowUnauthenticated = !mesh.IsKeyed;
            o.Dissemination = GossipDissemination.Pull;
        });
        _provider = services.BuildServiceProvider();
        _adapter = _provider.GetRequiredService<GossipAdapter>();
        _view = _provider.GetRequiredService<MeshView>();
        _rejections = new RejectionCounter(_provider.GetRequiredService<CostModelMetrics>().Meter);
        _outgoingSubscription = _adapter.Outgoing.Subscribe(new OutgoingObserver(this));
        Prove();

        // The rounds, as a host's AddGossip() hosted service starts them: the first runs now, the
        // others only when a clock input moves the clock (sampling, publishing, liveness,
        // tombstones), never on a message.
        _adapter.Start();
        if (_outgoingViolation is { } first)
        {
            throw new InvalidOperationException(first);
        }
    }

    /// <summary>Inputs delivered so far.</summary>
    public long Inputs { get; private set; }

    /// <summary>Inputs the receiver accepted (<c>Receive</c> returned true).</summary>
    public long Accepted { get; private set; }

    /// <summary>The rejection reasons the last input was counted under, in order (empty when it was accepted cleanly).</summary>
    public IReadOnlyList<string> LastReasons => _rejections.Reasons;

    /// <summary>True when the last input drew a challenge to the sender: a message whose clock no longer fits the sender's proof, or a clock input after which the sender proved itself again.</summary>
    public bool Challenged { get; private set; }

    /// <summary>Nodes in the receiver's view now.</summary>
    public int ViewCount => _view.Nodes.Count;

    /// <summary>The version of <paramref name="nodeId"/>'s state in the receiver's view, or null when the view does not hold it.</summary>
    /// <param name="nodeId">The node.</param>
    /// <returns>The version, or null.</returns>
    public long? VersionOf(string nodeId) => _view.Nodes.FirstOrDefault(n => n.NodeId == nodeId)?.Factors.Version;

    /// <inheritdoc />
    public string Describe(bool result)
    {
        string reasons = LastReasons.Count == 0 ? "" : $" ({string.Join(", ", LastReasons)})";
        string challenged = Challenged ? "; the sender challenged" : "";
        return $"{(result ? "accepted" : "refused")}{reasons}{challenged}; view of {ViewCount} node(s)";
    }

    /// <summary>Delivers one fuzz input from the proven sender and checks every invariant.</summary>
    /// <param name="input">The input (<see cref="FuzzInput"/> says how it is read).</param>
    /// <returns>What <c>Receive</c> answered.</returns>
    /// <exception cref="InvariantViolationException">An invariant was broken.</exception>
    public bool Run(ReadOnlySpan<byte> input)
    {
        Challenged = false;
        TimeSpan advance = FuzzInput.ClockAdvance(input);
        if (advance > TimeSpan.Zero)
        {
            return MoveClock(advance);
        }

        long internalErrors = _rejections.InternalErrors;
        _rejections.ClearReasons();
        _outgoingViolation = null;

        // A rotation input reloads the receiver's keys (and may switch the sender's) before its message is written.
        if (FuzzInput.Rotation(input) is { } rotation)
        {
            Rotate(rotation.Set, rotation.SenderSealsWithSecond);
        }

        // A sender input comes from another peer, which proves itself first when the receiver holds no proof of it.
        int sender = FuzzInput.Sender(input);
        if (sender != 0)
        {
            ProveAgainIfLapsed(sender);
        }

        // A drift input moves the sender's clock before its message is written (zero for any other input).
        _driftMs += (long)FuzzInput.SenderDrift(input).TotalMilliseconds;
        int length = FuzzInput.ToDatagram(input, _datagram, SenderClockOf(sender), Sealer, out _);
        ReadOnlySpan<byte> datagram = _datagram.AsSpan(0, length);

        // Through the interface, as a transport calls it: the contract is "never throws".
        bool accepted = ((IGossipAdapter)_adapter).Receive(datagram, Addresses[sender]);
        Inputs++;

        if (_rejections.InternalErrors != internalErrors)
        {
            throw new InvariantViolationException($"Receive's last-resort catch counted internal-error ({_rejections.InternalErrors - internalErrors} time(s)): an exception escaped the checks. Datagram: {Convert.ToHexString(datagram)}");
        }

        if (_outgoingViolation is { } outgoing)
        {
            throw new InvariantViolationException(outgoing);
        }

        CheckViewReads();
        if (accepted)
        {
            Accepted++;
            CheckAcceptedStatesBuild(datagram);
        }

        return accepted;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _outgoingSubscription.Dispose();
        _rejections.Dispose();
        _provider.Dispose();
        _reload.Dispose();
    }

    /// <summary>True when the receiver holds the key the sender seals with (always in an open mesh): the sender can talk to it.</summary>
    public bool SenderKeyKnown => _mesh.Opens(_keySet, _senderSealsWithSecond);

    /// <summary>The time clock inputs moved the clocks by so far.</summary>
    public TimeSpan Elapsed => _time.GetUtcNow() - Now;

    // The keyring the sender seals with now.
    private GossipKeyring Sealer => _mesh.Sealer(_senderSealsWithSecond);

    // A rotation: the receiver's options are built again with the new key set and every listener
    // (the adapter's OnOptionsChanged) runs now, on this thread, as a configuration reload runs them.
    // The reload must not throw and must not be refused: every key set is valid.
    private void Rotate(int set, bool senderSealsWithSecond)
    {
        _keySet = set;
        _senderSealsWithSecond = senderSealsWithSecond;
        try
        {
            _reload.Fire();
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"Reloading the receiver's options with key set {set} threw.", ex);
        }

        if (_rejections.Reasons.Contains("options-invalid"))
        {
            throw new InvariantViolationException($"The receiver refused key set {set} on reload: a valid rotation step was not applied.");
        }
    }

    // A peer's clock now: where peer 0's stood when it answered the challenge, moved as the
    // receiver's and, for peer 0 alone, by the drift inputs (the header clamps a clock drifted below
    // zero to zero); the other peers' clocks keep the offset peer 0 started with.
    private long SenderClockOf(int sender) => FuzzInput.SenderClockMs + (long)Elapsed.TotalMilliseconds + (sender == 0 ? _driftMs : 0);

    // A clock input: both clocks move, the receiver's due timers run (what they send is checked by the
    // outgoing observer), the view must still read, and the sender proves itself again if its proof
    // lapsed. Counted as accepted when nothing broke: no message was offered.
    private bool MoveClock(TimeSpan advance)
    {
        long internalErrors = _rejections.InternalErrors;
        _rejections.ClearReasons();
        _outgoingViolation = null;
        _time.Advance(advance);
        Inputs++;
        ProveAgainIfLapsed(0);
        if (_rejections.InternalErrors != internalErrors || _rejections.Reasons.Contains(RoundFailed))
        {
            throw new InvariantViolationException($"A round or a receive reached a last-resort catch ({string.Join(", ", _rejections.Reasons)}) after the clock moved {advance}.");
        }

        if (_outgoingViolation is { } outgoing)
        {
            throw new InvariantViolationException(outgoing);
        }

        CheckViewReads();
        Accepted++;
        return true;
    }

    // The first message from an unknown address is refused and answered with a challenge; the
    // echo of that cookie, at the same sender clock, proves the address (docs/gossip-wire-format.md,
    // "Proving senders"). Done once at the start; afterwards every wrapped input is as fresh as the
    // echo was, until a clock input lets the proof lapse (ProveAgainIfLapsed).
    private void Prove()
    {
        if (TryProve(0) is not Proof.ByEcho)
        {
            throw new InvalidOperationException("The receiver did not challenge a sender it had never heard, or did not take the echo of its own challenge.");
        }
    }

    // An empty message from the sender: taken while its proof holds; refused with a challenge once it
    // lapsed, which the echo answers.
    // The receiver challenges a sender at most once per SenderProofs.ChallengeInterval (1 s): within
    // that of the last challenge, a refusal without a new one is the rate limit (the sender tries
    // again at the next clock input); after it, the sender is shut out.
    // While the receiver lacks the sender's key, no message of the sender opens: it tries, and is refused.
    // A peer never challenged has no last challenge: its first refusal without one is a shut-out too.
    private void ProveAgainIfLapsed(int sender)
    {
        if (TryProve(sender) is Proof.Failed && SenderKeyKnown && _time.GetUtcNow() - _lastChallengeAt[sender] >= SenderProofs.ChallengeInterval)
        {
            throw new InvariantViolationException($"Peer {sender} could not prove itself at +{Elapsed}, {_time.GetUtcNow() - _lastChallengeAt[sender]} after its last challenge: a peer that answers every challenge is shut out.");
        }
    }

    // Whether the sender is proven afterwards, and how: an empty message taken as it is (still
    // proven), or refused and the latest challenge the sender was sent echoed (the one this refusal
    // drew, or, within the receiver's one challenge a second, an earlier one a held message drew),
    // and the echo taken.
    private Proof TryProve(int sender)
    {
        string address = Addresses[sender];
        int length = FuzzInput.Seal(_datagram, MessageType.Gossip, [], SenderClockOf(sender), Sealer);
        if (_adapter.Receive(_datagram.AsSpan(0, length), address))
        {
            return Proof.StillProven;
        }

        if (_challenges[sender] is not { } cookie)
        {
            return Proof.Failed;
        }

        _challenges[sender] = null;
        byte[] echo = new byte[WireCodec.CookieRecordBytes];
        WireCodec.TryWriteCookie(echo, RecordKind.Echo, cookie, out _);
        length = FuzzInput.Seal(_datagram, MessageType.Gossip, echo, SenderClockOf(sender), Sealer);
        return _adapter.Receive(_datagram.AsSpan(0, length), address) ? Proof.ByEcho : Proof.Failed;
    }

    // The router reads the view after any receive: building it must never throw, whatever was merged.
    private void CheckViewReads()
    {
        try
        {
            foreach (MeshNode node in _view.Nodes)
            {
                if (string.IsNullOrEmpty(node.NodeId) || !string.Equals(node.Factors.NodeId, node.Capabilities.NodeId, StringComparison.Ordinal))
                {
                    throw new InvariantViolationException($"The view holds a node with an empty or mismatched id: '{node.NodeId}' / '{node.Capabilities.NodeId}'.");
                }
            }
        }
        catch (Exception ex) when (ex is not InvariantViolationException)
        {
            // Rethrown with what it means here: reading the view is the router's path, not the receiver's.
            throw new InvariantViolationException("Reading MeshView.Nodes threw after a receive.", ex);
        }
    }

    // Every state of an accepted message must parse and build as factors: the factor model's own
    // guards are an independent check of the wire validation that let the message in.
    private void CheckAcceptedStatesBuild(ReadOnlySpan<byte> datagram)
    {
        WireRejection opened = WireCodec.TryOpen(datagram, GossipDefaults.MaxMtu, FuzzInput.ClusterHash, _mesh.Keyring, _scratch, out WireMessage message);
        if (opened != WireRejection.None)
        {
            throw new InvariantViolationException($"Receive accepted a message that does not open ({opened}): {Convert.ToHexString(datagram)}");
        }

        ReadOnlySpan<byte> body = message.Body;
        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> payload, out bool malformed) || malformed)
        {
            if (malformed)
            {
                throw new InvariantViolationException($"Receive accepted a message whose records are not framed: {Convert.ToHexString(datagram)}");
            }

            if (kind != (byte)RecordKind.NodeState)
            {
                continue;
            }

            WireRejection read = WireCodec.TryReadState(payload, _time.GetUtcNow().UtcTicks, _id, out int idLength, out WireNodeState state);
            if (read != WireRejection.None)
            {
                throw new InvariantViolationException($"Receive accepted a message with a state record that does not read ({read}): {Convert.ToHexString(datagram)}");
            }

            string nodeId = new(_id.AsSpan(0, idLength));
            NodeCostFactors factors;
            try
            {
                factors = WireQuantizer.ToFactors(nodeId, state);
            }
            catch (Exception ex)
            {
                throw new InvariantViolationException($"Receive accepted a state of '{nodeId}' that WireQuantizer.ToFactors cannot build: {Convert.ToHexString(datagram)}", ex);
            }

            if (factors.Generation != state.Generation || factors.Version != state.Version)
            {
                throw new InvariantViolationException($"The factors built from an accepted state of '{nodeId}' changed its generation or version: {Convert.ToHexString(datagram)}");
            }
        }
    }

    // What the receiver sends (challenges, echoes, sync replies) must open at its peer, and every
    // state and capabilities record in it must read there: a node must not relay what peers refuse.
    private void CheckOutgoing(GossipMessage message)
    {
        int sender = Array.IndexOf(Addresses, message.To);
        if (sender >= 0)
        {
            ReadOnlySpan<byte> bytes = message.Payload.Span;
            byte[] scratch = new byte[bytes.Length];
            WireRejection opened = WireCodec.TryOpen(bytes, GossipDefaults.MaxMtu, FuzzInput.ClusterHash, _mesh.Keyring, scratch, out WireMessage reply);
            if (opened != WireRejection.None)
            {
                _outgoingViolation ??= $"The receiver sent a message that does not open ({opened}): {Convert.ToHexString(bytes)}";
                return;
            }

            ReadOnlySpan<byte> body = reply.Body;
            while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> payload, out bool malformed) || malformed)
            {
                if (malformed)
                {
                    _outgoingViolation ??= $"The receiver sent a message whose records are not framed: {Convert.ToHexString(bytes)}";
                    return;
                }

                WireRejection read = (RecordKind)kind switch
                {
                    RecordKind.NodeState => WireCodec.TryReadState(payload, _time.GetUtcNow().UtcTicks, _id, out _, out _),
                    RecordKind.Capabilities => WireCodec.TryReadCapabilities(payload, _id, out _, out _, out _),
                    RecordKind.Challenge => CaptureChallenge(payload, sender),
                    RecordKind.Echo => WireCodec.TryReadCookie(payload, out _),
                    _ => WireRejection.None,
                };
                if (read != WireRejection.None)
                {
                    _outgoingViolation ??= $"The receiver sent a record of kind {kind} that a peer refuses ({read}): {Convert.ToHexString(bytes)}";
                    return;
                }
            }
        }
        else
        {
            // Pull dissemination: the receiver only answers the peers that wrote to it.
            _outgoingViolation ??= $"The receiver sent a message to '{message.To ?? "(its gossip peers)"}', not to a peer it answers.";
        }
    }

    private WireRejection CaptureChallenge(ReadOnlySpan<byte> payload, int sender)
    {
        WireRejection read = WireCodec.TryReadCookie(payload, out Cookie cookie);
        if (read == WireRejection.None)
        {
            _challenges[sender] = cookie;
            _lastChallengeAt[sender] = _time.GetUtcNow();
            Challenged = true;
        }

        return read;
    }

    /// <summary>The change token source of the receiver's gossip options: firing it makes the options monitor build them again and tell its listeners, as a configuration reload does.</summary>
    private sealed class OptionsReload : IOptionsChangeTokenSource<GossipOptions>, IDisposable
    {
        private CancellationTokenSource _source = new();

        public string Name => Options.DefaultName;

        public IChangeToken GetChangeToken() => new CancellationChangeToken(_source.Token);

        // The monitor asks for a new token when this one fires, so the next one is in place first.
        public void Fire()
        {
            CancellationTokenSource fired = _source;
            _source = new CancellationTokenSource();
            fired.Cancel();
            fired.Dispose();
        }

        public void Dispose() => _source.Dispose();
    }

    private enum Proof
    {
        Failed,
        StillProven,
        ByEcho,
    }

    /// <summary>Checks each message the receiver sends, on the thread that sent it (the receive's own).</summary>
    private sealed class OutgoingObserver(GossipReceiverTarget target) : IObserver<GossipMessage>
    {
        public void OnCompleted()
        {
            // The adapter completes Outgoing when it is disposed: nothing more to check.
        }

        public void OnError(Exception error) => target._outgoingViolation ??= $"Outgoing failed: {error}";

        public void OnNext(GossipMessage value) => target.CheckOutgoing(value);
    }
}
