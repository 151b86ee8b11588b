namespace CostModel.Gossip.Wire;

/// <summary>Message types (header byte 3). Append-only: a receiver skips types it does not know.</summary>
internal enum MessageType : byte
{
    /// <summary>States and capabilities being disseminated.</summary>
    Gossip = 1,

    /// <summary>A joining node's own records and a request for the receiver's full state.</summary>
    SyncRequest = 2,

    /// <summary>Part of a full state sent in answer to a sync request.</summary>
    SyncReply = 3,
}

/// <summary>Record kinds inside a message body. Append-only: a receiver skips kinds it does not know.</summary>
internal enum RecordKind : byte
{
    /// <summary>One node's routing factors (<see cref="WireNodeState"/>).</summary>
    NodeState = 1,

    /// <summary>One node's capabilities (models served, relays).</summary>
    Capabilities = 2,

    /// <summary>A cookie the receiver must echo to prove it is live and holds the mesh's key (first contact).</summary>
    Challenge = 3,

    /// <summary>The echo of a cookie this node's peer sent in a <see cref="Challenge"/>.</summary>
    Echo = 4,
}

/// <summary>How a message is protected (the low two bits of the flags byte).</summary>
internal enum WireProtection : byte
{
    /// <summary>No key: a CRC-32 trailer catches corruption; anyone can read and forge it.</summary>
    None = 0,

    /// <summary>HMAC-SHA256 tag over the whole message: authentic, but readable on the wire.</summary>
    Signed = 1,

    /// <summary>AES-256-GCM: the records are encrypted, the header authenticated.</summary>
    Encrypted = 2,
}

/// <summary>Byte layout constants of the wire format (docs/gossip-wire-format.md).</summary>
internal static class WireFormat
{
    /// <summary>"CM": the first two bytes of every message.</summary>
    public const byte Magic0 = 0x43;

    /// <inheritdoc cref="Magic0" />
    public const byte Magic1 = 0x4D;

    /// <summary>
    /// The protocol version this code writes and reads. Version 2 added the sender clock, the
    /// encrypted protection, and challenges; version 1 messages are refused (<c>other-protocol</c>).
    /// </summary>
    public const byte ProtocolVersion = 2;

    /// <summary>The flag bits that say how the message is protected (<see cref="WireProtection"/>).</summary>
    public const byte ProtectionMask = 0x03;

    /// <summary>Flag bits no version defines yet: they must be 0 (a message with any set is refused unread).</summary>
    public const byte ReservedFlags = unchecked((byte)~ProtectionMask);

    /// <summary>8 bytes of SHA-256 of the cluster id: a mismatch is a message for another mesh.</summary>
    public const int ClusterHashBytes = 8;

    /// <summary>Where the sender clock starts: after magic, version, type, flags and the cluster hash.</summary>
    public const int SenderClockOffset = 5 + ClusterHashBytes;

    /// <summary>6 bytes: the sender's monotonic clock in milliseconds since its adapter started (48 bits: 8,900 years).</summary>
    public const int SenderClockBytes = 6;

    /// <summary>The largest sender clock the field holds.</summary>
    public const long MaxSenderClock = (1L << 48) - 1;

    /// <summary>Magic, version, type, flags, cluster hash, sender clock.</summary>
    public const int HeaderBytes = SenderClockOffset + SenderClockBytes;

    /// <summary>16 bytes: a challenge cookie (128 bits: cannot be guessed).</summary>
    public const int CookieBytes = 16;

    /// <summary>Kind and a 16-bit length before each record.</summary>
    public const int RecordHeaderBytes = 3;

    /// <summary>Everything of a state record after the node id as this version writes it: versions, qualities, ages and values (the arrival rate, then the routed rate with its quality, appended).</summary>
    public const int StateFixedBytes = 68;

    /// <summary>A state of the layout with the arrival rate and before the routed rate (read with the routed rate Unknown).</summary>
    public const int StateWithArrivalsBytes = 65;

    /// <summary>The shortest state accepted after the node id: the layout before the arrival rate was appended (read as Unknown when absent).</summary>
    public const int StateMinimumBytes = 63;

    /// <summary>The longest node id on the wire, in UTF-8 bytes.</summary>
    public const int MaxNodeIdBytes = 64;

    /// <summary>
    /// 255 bytes: the longest model id (or a relay route's model or node id) on the wire, in UTF-8
    /// bytes: it travels after a one-byte length. The factor model takes 128 characters, which
    /// outside ASCII can be more (128 x "é" is 256 bytes).
    /// </summary>
    public const int MaxTextBytes = byte.MaxValue;

    /// <summary>133 bytes: one node state with the longest id (the 128 bytes, plus the 2-byte arrival rate and the 3-byte routed rate appended since); ten fit one 1,400-byte open or signed message, nine an encrypted one.</summary>
    public const int MaxStateBytes = 133;

    /// <summary>The largest generation the 48-bit field holds (Unix milliseconds until the year 10889).</summary>
    public const long MaxGeneration = (1L << 48) - 1;

    /// <summary>4 bytes: the CRC-32 that ends an unauthenticated message (catches corruption UDP's optional checksum may not).</summary>
    public const int ChecksumBytes = 4;

    /// <summary>Bytes before the records: the header, then the key id (keyed), then the nonce (encrypted).</summary>
    public static int BodyOffset(WireProtection protection) => protection switch
    {
        WireProtection.None => HeaderBytes,
        WireProtection.Signed => HeaderBytes + GossipKeyring.KeyIdBytes,
        _ => HeaderBytes + GossipKeyring.KeyIdBytes + GossipKeyring.NonceBytes,
    };

    /// <summary>Bytes after the records: the tag (keyed) or the checksum.</summary>
    public static int TrailerBytes(WireProtection protection) =>
        protection == WireProtection.None ? ChecksumBytes : GossipKeyring.TagBytes;

    /// <summary>Bytes of the message around its records.</summary>
    public static int Overhead(WireProtection protection) => BodyOffset(protection) + TrailerBytes(protection);

    /// <summary>
    /// Encodes an age in one byte, rounding up (a receiver never sees a value as fresher than it is):
    /// 0..99 are tenths of a second (0-9.9 s), 100..189 whole seconds from 10 s (10-99 s),
    /// 190..254 tens of seconds from 100 s (100-740 s), 255 means 750 s or older.
    /// </summary>
    public static byte EncodeAge(long ageTicks)
    {
        if (ageTicks <= 0)
        {
            return 0;
        }

        long tenths = (ageTicks + TimeSpan.TicksPerSecond / 10 - 1) / (TimeSpan.TicksPerSecond / 10);
        if (tenths < 100)
        {
            return (byte)tenths;
        }

        long seconds = (ageTicks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        if (seconds < 100)
        {
            return (byte)(100 + (seconds - 10));
        }

        long tens = (seconds + 9) / 10;
        return tens < 75 ? (byte)(190 + (tens - 10)) : byte.MaxValue;
    }

    /// <summary>The age a byte stands for (the upper end of its step; 255 decodes as 750 s).</summary>
    public static long DecodeAge(byte age) => age switch
    {
        < 100 => age * (TimeSpan.TicksPerSecond / 10),
        < 190 => (10 + (age - 100)) * TimeSpan.TicksPerSecond,
        _ => (100 + ((age - 190) * 10)) * TimeSpan.TicksPerSecond,
    };
}
