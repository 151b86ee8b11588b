using System.Security.Cryptography;
using System.Text;
using CostModel.Gossip;
using CostModel.Gossip.Wire;

namespace CostModel.Fuzz;

/// <summary>
/// The layout of one fuzz input, and how it becomes the datagram handed to <c>Receive</c>.
/// </summary>
/// <remarks>
/// <para>
/// Byte 0 with its top bit clear is a message type (0 to 127: the three defined ones and the
/// unknown rest); the remaining bytes are the records. They are wrapped in a valid v2 header that
/// carries the proven sender's clock and sealed with a correct CRC-32 trailer, so a mutation of the
/// records reaches the record parsers and the merge instead of dying at the checksum, which random
/// bytes almost never match.
/// </para>
/// <para>
/// Byte 0 with its top bit set (<see cref="RawFlag"/>) hands the remaining bytes to the receiver as
/// they are, so the framing checks (length, magic, version, type, flags, cluster, checksum) are
/// fuzzed too. A flag in the input, rather than every N-th execution, keeps one input on one path:
/// AFL keeps an input for the coverage it showed, and an input whose path depended on a counter
/// would show different coverage each time it ran.
/// </para>
/// <para>
/// Byte 0 equal to <see cref="ClockTag"/> delivers nothing: it moves the receiver's clock and the
/// proven sender's forward together by (byte 1 + 1) x <see cref="ClockStep"/> (one step without a
/// byte 1), firing whatever timers fall due (gossip rounds, liveness, tombstone and proof expiry),
/// so that inputs which follow meet a receiver whose state has aged. Message type 127 is one of the
/// unknown types; the others (3 to 125) still reach the receiver.
/// </para>
/// <para>
/// Byte 0 equal to <see cref="DriftTag"/> first moves only the proven sender's clock, by byte 1
/// read as a signed count of <see cref="ClockStep"/>s (0 counts as +1; -32 s to +32 s), as an NTP
/// step or a suspended laptop moves a peer's clock, then delivers the rest (from byte 2) as the
/// records of a gossip message written at the new clock. Past the receiver's freshness tolerance
/// (10 s) that message, and the ones after it, carry a clock the receiver's proof of the sender no
/// longer vouches for: held (when they bring news) and answered with a challenge (at most one a
/// second), until a clock input lets the sender answer it (the held messages are then judged again).
/// </para>
/// <para>
/// Byte 0 equal to <see cref="RotateTag"/> reloads the receiver's options as a host's configuration
/// reload does, its keys set by byte 1 (bits 0 and 1: <see cref="FuzzMesh.ReceiverKeys"/>) and the
/// sender's sealing key too (bit 2: <see cref="FuzzMesh.Sealer"/>), then delivers the rest (from
/// byte 2) as the records of a gossip message sealed with the sender's key: a key rotation's steps in
/// any order, a key removed while messages sealed with it are held, a sender still sealing with a key
/// the receiver dropped. In an open mesh the reload keeps the (empty) keys.
/// </para>
/// <para>
/// Byte 0 equal to <see cref="SenderTag"/> delivers the rest (from byte 2) as the records of a gossip
/// message from another of the receiver's peers, the one byte 1 names (<see cref="Sender"/>: 1 to
/// <see cref="GossipReceiverTarget.SenderCount"/> - 1), which proves its address first if the
/// receiver does not hold a proof of it: several peers relaying states of the same nodes, each with
/// its own proof, challenges and held messages. Every other input comes from peer 0.
/// </para>
/// <para>
/// In a keyed mesh (<see cref="FuzzMesh"/>) a wrapped input is sealed with the sender's key (the mesh's
/// first key until a rotation input changes it) instead of the CRC-32, so a mutation still reaches the records.
/// </para>
/// </remarks>
internal static class FuzzInput
{
    /// <summary>The bit of byte 0 that says "deliver the rest unwrapped".</summary>
    public const byte RawFlag = 0x80;

    /// <summary>Byte 0 of an input that only moves the clocks forward.</summary>
    public const byte ClockTag = 0x7F;

    /// <summary>Byte 0 of an input that moves the sender's clock alone (either way), then sends a gossip message at it.</summary>
    public const byte DriftTag = 0x7E;

    /// <summary>Byte 0 of an input that reloads the receiver's keys and the sender's sealing key, then sends a gossip message.</summary>
    public const byte RotateTag = 0x7D;

    /// <summary>Byte 0 of an input that sends a gossip message from another peer than peer 0.</summary>
    public const byte SenderTag = 0x7C;

    /// <summary>
    /// 250 ms: one step of a clock input, about a gossip round (200 ms); a byte's 256 steps (64 s)
    /// pass the defaults' dead-after (30 s) and remove-after (60 s) in one input.
    /// </summary>
    public static readonly TimeSpan ClockStep = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The sender clock written into a wrapped message before any clock input: the value the proven
    /// sender had when it answered the challenge. Clock inputs move it with the receiver's clock, so
    /// the offset between the two never changes and every wrapped input is as fresh as that answer.
    /// </summary>
    public const long SenderClockMs = 60_000;

    /// <summary>The largest datagram the receiver is offered (UDP's own limit); longer inputs are cut there.</summary>
    public const int MaxDatagram = GossipDefaults.MaxMtu;

    /// <summary>The default mesh's 8-byte cluster hash, as every node of it writes it.</summary>
    public static byte[] ClusterHash { get; } = SHA256.HashData(Encoding.UTF8.GetBytes(GossipDefaults.ClusterId))[..WireFormat.ClusterHashBytes];

    /// <summary>Turns an input into the bytes to deliver; returns their length in <paramref name="datagram"/>.</summary>
    /// <param name="input">The fuzz input.</param>
    /// <param name="datagram">At least <see cref="MaxDatagram"/> bytes.</param>
    /// <param name="senderClockMs">The proven sender's clock now (<see cref="SenderClockMs"/> plus the time clock and drift inputs moved it).</param>
    /// <param name="sealer">The keyring a wrapped input is sealed with (<see cref="FuzzMesh.Sealer"/>).</param>
    /// <param name="wrapped">True when the input was wrapped in a header and sealed; false when delivered raw.</param>
    public static int ToDatagram(ReadOnlySpan<byte> input, Span<byte> datagram, long senderClockMs, GossipKeyring sealer, out bool wrapped)
    {
        if (input.IsEmpty || (input[0] & RawFlag) != 0)
        {
            wrapped = false;
            ReadOnlySpan<byte> raw = input.IsEmpty ? input : input[1..];
            raw = raw[..Math.Min(raw.Length, MaxDatagram)];
            raw.CopyTo(datagram);
            return raw.Length;
        }

        wrapped = true;
        bool tagged = input[0] is DriftTag or RotateTag or SenderTag;
        MessageType type = tagged ? MessageType.Gossip : (MessageType)input[0];
        ReadOnlySpan<byte> body = tagged ? input[Math.Min(2, input.Length)..] : input[1..];
        body = body[..Math.Min(body.Length, MaxDatagram - WireFormat.Overhead(sealer.Protection))];
        return Seal(datagram, type, body, senderClockMs, sealer);
    }

    /// <summary>The peer an input comes from: for a sender input (byte 0 <see cref="SenderTag"/>) 1 + byte 1 modulo <see cref="GossipReceiverTarget.SenderCount"/> - 1; 0 for any other input.</summary>
    /// <param name="input">The input.</param>
    /// <returns>The peer's index.</returns>
    public static int Sender(ReadOnlySpan<byte> input) =>
        input.IsEmpty || input[0] != SenderTag ? 0 : 1 + ((input.Length > 1 ? input[1] : 0) % (GossipReceiverTarget.SenderCount - 1));

    /// <summary>What a rotation input (byte 0 <see cref="RotateTag"/>) sets: the receiver's key set and whether the sender seals with the second key; null for any other input.</summary>
    /// <param name="input">The input.</param>
    /// <returns>The key set (0 to <see cref="FuzzMesh.KeySetCount"/> - 1) and the sender's key, or null.</returns>
    public static (int Set, bool SenderSealsWithSecond)? Rotation(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty || input[0] != RotateTag)
        {
            return null;
        }

        int choice = input.Length > 1 ? input[1] : 0;
        return (choice % FuzzMesh.KeySetCount, (choice & 4) != 0);
    }

    /// <summary>The time a clock input (byte 0 <see cref="ClockTag"/>) moves the clocks by; zero for any other input.</summary>
    public static TimeSpan ClockAdvance(ReadOnlySpan<byte> input) =>
        input.IsEmpty || input[0] != ClockTag ? TimeSpan.Zero : ClockStep * (input.Length > 1 ? input[1] + 1 : 1);

    /// <summary>The signed time a drift input (byte 0 <see cref="DriftTag"/>) moves the sender's clock by; zero for any other input.</summary>
    public static TimeSpan SenderDrift(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty || input[0] != DriftTag)
        {
            return TimeSpan.Zero;
        }

        int steps = input.Length > 1 ? (sbyte)input[1] : 1;
        return ClockStep * (steps == 0 ? 1 : steps);
    }

    /// <summary>Writes a message of the proven sender as a member of <paramref name="mesh"/> writes it: header, records, then the CRC-32, the HMAC tag or AES-GCM.</summary>
    /// <param name="destination">The buffer.</param>
    /// <param name="type">The message type.</param>
    /// <param name="records">The records.</param>
    /// <param name="senderClockMs">The sender's clock (<see cref="SenderClockMs"/> before any clock or drift input).</param>
    /// <param name="mesh">The mesh.</param>
    /// <returns>The message's length.</returns>
    public static int Seal(Span<byte> destination, MessageType type, ReadOnlySpan<byte> records, long senderClockMs, FuzzMesh mesh) =>
        Seal(destination, type, records, senderClockMs, mesh.Keyring);

    /// <summary>Writes a message of the proven sender sealed with <paramref name="sealer"/>'s first key (see the overload taking the mesh).</summary>
    /// <param name="destination">The buffer.</param>
    /// <param name="type">The message type.</param>
    /// <param name="records">The records.</param>
    /// <param name="senderClockMs">The sender's clock.</param>
    /// <param name="sealer">The keyring the sender seals with.</param>
    /// <returns>The message's length.</returns>
    public static int Seal(Span<byte> destination, MessageType type, ReadOnlySpan<byte> records, long senderClockMs, GossipKeyring sealer)
    {
        int at = WireCodec.WriteHeader(destination, type, ClusterHash, sealer, senderClockMs);
        records.CopyTo(destination[at..]);
        return WireCodec.Seal(destination, at + records.Length, sealer);
    }

    /// <summary>Makes a fuzz input that wraps <paramref name="records"/> as a message of <paramref name="type"/>.</summary>
    public static byte[] Wrapped(MessageType type, ReadOnlySpan<byte> records)
    {
        byte[] input = new byte[1 + records.Length];
        input[0] = (byte)type;
        records.CopyTo(input.AsSpan(1));
        return input;
    }

    /// <summary>Makes a fuzz input that moves the clocks forward by <paramref name="steps"/> x <see cref="ClockStep"/> (1 to 256).</summary>
    public static byte[] Clock(int steps) => [ClockTag, (byte)(Math.Clamp(steps, 1, 256) - 1)];

    /// <summary>Makes a fuzz input that moves the sender's clock by <paramref name="steps"/> x <see cref="ClockStep"/> (-128 to 127; 0 is taken as 1) and then sends <paramref name="records"/> as a gossip message.</summary>
    public static byte[] Drift(int steps, ReadOnlySpan<byte> records) =>
        [DriftTag, unchecked((byte)(sbyte)Math.Clamp(steps, sbyte.MinValue, sbyte.MaxValue)), .. records];

    /// <summary>Makes a fuzz input that reloads the receiver with key set <paramref name="set"/>, has the sender seal with the second key when <paramref name="senderSealsWithSecond"/>, and sends <paramref name="records"/> as a gossip message.</summary>
    public static byte[] Rotate(int set, bool senderSealsWithSecond, ReadOnlySpan<byte> records) =>
        [RotateTag, (byte)((set % FuzzMesh.KeySetCount) | (senderSealsWithSecond ? 4 : 0)), .. records];

    /// <summary>Makes a fuzz input that sends <paramref name="records"/> as a gossip message from peer <paramref name="sender"/> (1 to <see cref="GossipReceiverTarget.SenderCount"/> - 1).</summary>
    public static byte[] FromSender(int sender, ReadOnlySpan<byte> records) =>
        [SenderTag, (byte)(Math.Clamp(sender, 1, GossipReceiverTarget.SenderCount - 1) - 1), .. records];

    /// <summary>Makes a fuzz input that delivers <paramref name="datagram"/> unwrapped.</summary>
    public static byte[] Raw(ReadOnlySpan<byte> datagram)
    {
        byte[] input = new byte[1 + datagram.Length];
        input[0] = RawFlag;
        datagram.CopyTo(input.AsSpan(1));
        return input;
    }
}
