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
}

/// <summary>Byte layout constants of the wire format (docs/gossip-wire-format.md).</summary>
internal static class WireFormat
{
    /// <summary>"CM": the first two bytes of every message.</summary>
    public const byte Magic0 = 0x43;

    /// <inheritdoc cref="Magic0" />
    public const byte Magic1 = 0x4D;

    /// <summary>The protocol version this code writes and reads.</summary>
    public const byte ProtocolVersion = 1;

    /// <summary>Flag bit: the message carries a key id and a tag.</summary>
    public const byte FlagAuthenticated = 0x01;

    /// <summary>8 bytes of SHA-256 of the cluster id: a mismatch is a message for another mesh.</summary>
    public const int ClusterHashBytes = 8;

    /// <summary>Magic, version, type, flags, cluster hash.</summary>
    public const int HeaderBytes = 5 + ClusterHashBytes;

    /// <summary>Kind and a 16-bit length before each record.</summary>
    public const int RecordHeaderBytes = 3;

    /// <summary>Everything of a state record after the node id: versions, qualities, ages and values.</summary>
    public const int StateFixedBytes = 62;

    /// <summary>The longest node id on the wire, in UTF-8 bytes.</summary>
    public const int MaxNodeIdBytes = 64;

    /// <summary>128 bytes: the bound on one node state; the layout keeps it with the longest id.</summary>
    public const int MaxStateBytes = 128;

    /// <summary>The largest generation the 48-bit field holds (Unix milliseconds until the year 10889).</summary>
    public const long MaxGeneration = (1L << 48) - 1;

    /// <summary>4 bytes: the CRC-32 that ends an unauthenticated message (catches corruption UDP's optional checksum may not).</summary>
    public const int ChecksumBytes = 4;

    /// <summary>Bytes of the message around its records: header, then key id and tag when authenticated, else the checksum.</summary>
    public static int Overhead(bool authenticated) =>
        HeaderBytes + (authenticated ? GossipKeyring.KeyIdBytes + GossipKeyring.TagBytes : ChecksumBytes);

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
