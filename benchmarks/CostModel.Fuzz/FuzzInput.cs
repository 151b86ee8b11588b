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
/// unknown types; the others (3 to 126) still reach the receiver.
/// </para>
/// </remarks>
internal static class FuzzInput
{
    /// <summary>The bit of byte 0 that says "deliver the rest unwrapped".</summary>
    public const byte RawFlag = 0x80;

    /// <summary>Byte 0 of an input that only moves the clocks forward.</summary>
    public const byte ClockTag = 0x7F;

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
    /// <param name="senderClockMs">The proven sender's clock now (<see cref="SenderClockMs"/> plus the time clock inputs moved).</param>
    /// <param name="wrapped">True when the input was wrapped in a header and checksum; false when delivered raw.</param>
    public static int ToDatagram(ReadOnlySpan<byte> input, Span<byte> datagram, long senderClockMs, out bool wrapped)
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
        int overhead = WireFormat.Overhead(WireProtection.None);
        ReadOnlySpan<byte> body = input[1..];
        body = body[..Math.Min(body.Length, MaxDatagram - overhead)];
        return Seal(datagram, (MessageType)input[0], body, senderClockMs);
    }

    /// <summary>The time a clock input (byte 0 <see cref="ClockTag"/>) moves the clocks by; zero for any other input.</summary>
    public static TimeSpan ClockAdvance(ReadOnlySpan<byte> input) =>
        input.IsEmpty || input[0] != ClockTag ? TimeSpan.Zero : ClockStep * (input.Length > 1 ? input[1] + 1 : 1);

    /// <summary>Writes an unauthenticated message of the proven sender: header, records, CRC-32.</summary>
    /// <param name="destination">The buffer.</param>
    /// <param name="type">The message type.</param>
    /// <param name="records">The records.</param>
    /// <param name="senderClockMs">The sender's clock (<see cref="SenderClockMs"/> before any clock input).</param>
    /// <returns>The message's length.</returns>
    public static int Seal(Span<byte> destination, MessageType type, ReadOnlySpan<byte> records, long senderClockMs = SenderClockMs)
    {
        int at = WireCodec.WriteHeader(destination, type, ClusterHash, GossipKeyring.None, senderClockMs);
        records.CopyTo(destination[at..]);
        return WireCodec.Seal(destination, at + records.Length, GossipKeyring.None);
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

    /// <summary>Makes a fuzz input that delivers <paramref name="datagram"/> unwrapped.</summary>
    public static byte[] Raw(ReadOnlySpan<byte> datagram)
    {
        byte[] input = new byte[1 + datagram.Length];
        input[0] = RawFlag;
        datagram.CopyTo(input.AsSpan(1));
        return input;
    }
}
