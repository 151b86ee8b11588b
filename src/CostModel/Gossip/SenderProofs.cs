using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using CostModel.Gossip.Wire;

namespace CostModel.Gossip;

/// <summary>
/// Which senders this node has proven live, and the messages it holds until the others prove it.
/// The rule (docs/gossip-wire-format.md, "Proving senders"): a message is merged only when its
/// sender has answered a challenge from this node, and the message is about as fresh as that
/// answer by the sender's own clock.
/// </summary>
/// <remarks>
/// <para>
/// A challenge is a 128-bit cookie, HMAC-SHA256 of the sender's address and a 10-second window
/// under a secret drawn when this node started: no state per challenge, so a flood of first
/// contacts costs no memory, and a cookie is good for one address and at most two windows. The
/// answer (an echo) comes in a message sealed with the mesh's key, so only a live key holder at
/// that address can give it; a replayed message cannot.
/// </para>
/// <para>
/// Every message carries its sender's monotonic clock (milliseconds since its adapter started).
/// For a proven sender this node keeps the offset between its own clock and the sender's as the
/// echo that proved it showed them; a later message whose offset is more than
/// <see cref="FreshnessTolerance"/> above it was written too long ago: a replay (perhaps from a
/// spoofed address), or a restart of the sender, which a new challenge tells apart. One more than
/// the tolerance below it claims a clock that ran ahead, which no monotonic clock does. Only an
/// answered challenge sets the reference, so no other message can move it (a ratchet of forged
/// clocks would otherwise make every honest message look late). Clocks drifting apart by parts
/// per million leave the window after days; the next message is then challenged and the
/// reference set again. Only each clock's own differences are used: the two machines' wall
/// clocks never meet.
/// </para>
/// Not thread-safe: the adapter calls it under its gate.
/// </remarks>
internal sealed class SenderProofs
{
    /// <summary>
    /// 10 s: a cookie is accepted in the window it was made and the next, so for 10 to 20 s. Many
    /// round trips on any LAN or WAN, and a queue of several seconds on a busy host, fit; a
    /// captured echo is useless after it.
    /// </summary>
    public static readonly TimeSpan ChallengeWindow = TimeSpan.FromSeconds(10);

    /// <summary>
    /// 10 s: how much longer than the sender's least-delayed message a message may have taken and
    /// still be fresh. Covers queueing on a busy host, scheduler and GC pauses and retransmitting
    /// links; a replay within it repeats what is current anyway (versions then ignore it).
    /// </summary>
    public static readonly TimeSpan FreshnessTolerance = TimeSpan.FromSeconds(10);

    /// <summary>1 s: the least time between two challenges to one address (a lost challenge is repeated on the sender's next message after it).</summary>
    public static readonly TimeSpan ChallengeInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// 200 challenges a second (and as many at once): a node meets a whole 4,096-node mesh in 20 s,
    /// while a flood of forged first contacts from any number of addresses makes it send at most
    /// about 18 KB/s of challenges (about 90 bytes each).
    /// </summary>
    public const double ChallengesPerSecond = 200;

    /// <summary>
    /// 256 messages held in all (at most 360 KB at the default 1,400-byte MTU): the first contacts
    /// of a few seconds in a busy mesh. When full, the oldest held message gives way.
    /// </summary>
    public const int MaxHeldMessages = 256;

    /// <summary>8 messages held per sender: a first gossip, a sync request and a few replies that overtook the echo.</summary>
    public const int MaxHeldPerSender = 8;

    private const int SecretBytes = 32;

    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(SecretBytes);
    private readonly Dictionary<string, Proof> _proofs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastChallenge = new(StringComparer.Ordinal);
    private readonly List<HeldMessage> _held = [];
    private readonly TokenBucket _challenges;
    private readonly long _windowMs = (long)ChallengeWindow.TotalMilliseconds;
    private readonly long _toleranceMs = (long)FreshnessTolerance.TotalMilliseconds;
    private readonly long _challengeIntervalMs = (long)ChallengeInterval.TotalMilliseconds;
    private readonly int _maxSenders;

    // No proof was accepted before this (a lower bound: acceptance times only move forward), so
    // Expire need not look at the proofs until this is more than the idle time ago. Without it,
    // every round of a node that has heard from n senders would look at all n.
    private long _earliestAcceptedMs = long.MaxValue;

    // No challenge time kept is older than this (a lower bound): the times older than the challenge
    // interval limit nothing any more and are dropped (Expire), so the table holds the last second's
    // challenges, not one for every peer ever challenged (each node of a large mesh challenges every other).
    private long _oldestChallengeMs = long.MaxValue;

    /// <summary>Creates the tables.</summary>
    /// <param name="maxSenders">The most proven senders remembered (the view's cap: one address per node).</param>
    /// <param name="nowMs">This node's clock now.</param>
    public SenderProofs(int maxSenders, long nowMs)
    {
        _maxSenders = maxSenders;
        _challenges = new TokenBucket(ChallengesPerSecond, ChallengesPerSecond, 1_000, nowMs);
    }

    /// <summary>How many senders are proven.</summary>
    public int ProvenCount => _proofs.Count;

    /// <summary>How many messages are held.</summary>
    public int HeldCount => _held.Count;

    /// <summary>The cookie to send <paramref name="from"/> now.</summary>
    public Cookie CookieFor(string from, long nowMs) => Compute(from, nowMs / _windowMs);

    /// <summary>True when <paramref name="echo"/> is a cookie this node made for <paramref name="from"/> in this window or the last.</summary>
    public bool IsValidEcho(string from, Cookie echo, long nowMs)
    {
        long window = nowMs / _windowMs;
        // Both compared, whatever the first gives: the time taken says nothing about the secret.
        bool current = Compute(from, window).FixedTimeEquals(echo);
        bool previous = Compute(from, window - 1).FixedTimeEquals(echo);
        return current | previous;
    }

    /// <summary>
    /// True when <paramref name="from"/> is proven and a message with this clock offset is fresh;
    /// then the sender counts as heard.
    /// </summary>
    /// <param name="from">The sender.</param>
    /// <param name="offsetMs">This node's clock when the message arrived minus the sender's clock when it wrote it.</param>
    /// <param name="nowMs">This node's clock now.</param>
    public bool TryAcceptFresh(string from, long offsetMs, long nowMs)
    {
        ref Proof proof = ref CollectionsMarshal.GetValueRefOrNullRef(_proofs, from);
        if (Unsafe.IsNullRef(ref proof) || !WithinTolerance(offsetMs - proof.ReferenceOffsetMs))
        {
            return false;
        }

        proof.LastAcceptedMs = nowMs;
        return true;
    }

    /// <summary>Records that <paramref name="from"/> answered a challenge in a message with this offset (the new reference: a restarted sender's clock starts again).</summary>
    /// <returns>The messages held for this sender, to be judged again against the new reference.</returns>
    public List<HeldMessage>? Prove(string from, long offsetMs, long nowMs)
    {
        if (!_proofs.ContainsKey(from) && _proofs.Count >= _maxSenders)
        {
            EvictLongestSilent();
        }

        _proofs[from] = new Proof(offsetMs, nowMs);
        _earliestAcceptedMs = Math.Min(_earliestAcceptedMs, nowMs);

        List<HeldMessage>? released = null;
        for (int i = _held.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_held[i].From, from, StringComparison.Ordinal))
            {
                (released ??= []).Add(_held[i]);
                _held.RemoveAt(i);
            }
        }

        released?.Reverse();
        return released;
    }

    /// <summary>True when a held message's offset is fresh against its sender's current reference.</summary>
    public bool IsFresh(string from, long offsetMs) =>
        _proofs.TryGetValue(from, out Proof proof) && WithinTolerance(offsetMs - proof.ReferenceOffsetMs);

    /// <summary>Keeps a copy of a message until its sender proves itself.</summary>
    /// <returns>False when the sender already has <see cref="MaxHeldPerSender"/> held (the message is dropped); when the table is full the oldest held message gives way.</returns>
    public bool TryHold(string from, ReadOnlySpan<byte> message, long offsetMs, long nowMs)
    {
        int fromSender = 0;
        foreach (HeldMessage held in _held)
        {
            if (string.Equals(held.From, from, StringComparison.Ordinal))
            {
                fromSender++;
            }
        }

        if (fromSender >= MaxHeldPerSender)
        {
            return false;
        }

        if (_held.Count >= MaxHeldMessages)
        {
            _held.RemoveAt(0);
        }

        _held.Add(new HeldMessage(from, message.ToArray(), offsetMs, nowMs));
        return true;
    }

    /// <summary>True when a challenge may go to <paramref name="from"/> now (one per address per interval, and the global budget); takes the budget when it may.</summary>
    public bool TryChallenge(string from, long nowMs)
    {
        if (_lastChallenge.TryGetValue(from, out long last) && nowMs - last < _challengeIntervalMs)
        {
            return false;
        }

        if (!_challenges.TryTake(1, nowMs))
        {
            return false;
        }

        // Bounded like the view; a flood of forged addresses empties it, which costs challenges
        // (capped by the budget above), never memory.
        if (_lastChallenge.Count >= _maxSenders)
        {
            _lastChallenge.Clear();
        }

        _lastChallenge[from] = nowMs;
        _oldestChallengeMs = Math.Min(_oldestChallengeMs, nowMs);
        return true;
    }

    /// <summary>Takes one message from the node-wide budget (an echo owed to a sender not proven yet); false when it is spent.</summary>
    public bool TryTakeBudget(long nowMs) => _challenges.TryTake(1, nowMs);

    /// <summary>How many challenge times are kept (each limits challenges to its address for <see cref="ChallengeInterval"/>).</summary>
    public int ChallengeTimesCount => _lastChallenge.Count;

    /// <summary>Forgets proofs idle longer than <paramref name="proofIdleMs"/>, challenge times older than the challenge interval and held messages older than a challenge window.</summary>
    /// <returns>How many held messages expired unproven.</returns>
    public int Expire(long nowMs, long proofIdleMs)
    {
        if (nowMs - _oldestChallengeMs >= _challengeIntervalMs)
        {
            // A time this old no longer holds back a challenge (TryChallenge): dropping it changes nothing.
            long oldest = long.MaxValue;
            foreach ((string address, long at) in _lastChallenge)
            {
                if (nowMs - at >= _challengeIntervalMs)
                {
                    _lastChallenge.Remove(address);
                }
                else
                {
                    oldest = Math.Min(oldest, at);
                }
            }

            _oldestChallengeMs = oldest;
        }

        if (nowMs - _earliestAcceptedMs > proofIdleMs)
        {
            List<string>? idle = null;
            long earliest = long.MaxValue;
            foreach ((string from, Proof proof) in _proofs)
            {
                if (nowMs - proof.LastAcceptedMs > proofIdleMs)
                {
                    (idle ??= []).Add(from);
                }
                else
                {
                    earliest = Math.Min(earliest, proof.LastAcceptedMs);
                }
            }

            _earliestAcceptedMs = earliest;
            if (idle is not null)
            {
                foreach (string from in idle)
                {
                    _proofs.Remove(from);
                }
            }
        }

        // A held message whose sender has not answered within two windows never will with a valid cookie.
        return _held.RemoveAll(h => nowMs - h.HeldAtMs > 2 * _windowMs);
    }

    // Late by more than the tolerance: written too long ago. Early by more than it: the sender's
    // clock ran ahead of ours, which a monotonic clock does not do (drift is parts per million).
    private bool WithinTolerance(long lagMs) => lagMs <= _toleranceMs && lagMs >= -_toleranceMs;

    private void EvictLongestSilent()
    {
        string? oldest = null;
        long oldestMs = long.MaxValue;
        foreach ((string from, Proof proof) in _proofs)
        {
            if (proof.LastAcceptedMs < oldestMs)
            {
                oldest = from;
                oldestMs = proof.LastAcceptedMs;
            }
        }

        if (oldest is not null)
        {
            _proofs.Remove(oldest);
        }
    }

    private Cookie Compute(string from, long window)
    {
        int length = Encoding.UTF8.GetByteCount(from) + sizeof(long);
        byte[]? rented = null;
        Span<byte> input = length <= 256 ? stackalloc byte[length] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            int written = Encoding.UTF8.GetBytes(from, input);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(input[written..], window);
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(_secret, input, mac);
            return Cookie.Read(mac);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // A struct in the dictionary, updated in place: one object fewer per proven sender (each node of a large mesh proves every other).
    private struct Proof(long referenceOffsetMs, long lastAcceptedMs)
    {
        /// <summary>This node's clock minus the sender's, as the proving echo showed them.</summary>
        public long ReferenceOffsetMs = referenceOffsetMs;

        public long LastAcceptedMs = lastAcceptedMs;
    }
}

/// <summary>A message held until its sender answers a challenge.</summary>
/// <param name="From">The sender.</param>
/// <param name="Bytes">The message as received.</param>
/// <param name="OffsetMs">This node's clock on arrival minus the sender's clock when it wrote the message.</param>
/// <param name="HeldAtMs">This node's clock on arrival.</param>
internal sealed record HeldMessage(string From, byte[] Bytes, long OffsetMs, long HeldAtMs);
