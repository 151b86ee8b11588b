using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Collections.Immutable;
using System.Text;
using System.Text.Unicode;
using CostModel.Factors;

namespace CostModel.Gossip.Wire;

/// <summary>Why a message or record was refused. Each is counted and logged at Debug.</summary>
internal enum WireRejection
{
    None = 0,
    TooShort,
    TooLong,
    BadMagic,
    OtherProtocol,
    UnknownMessageType,
    ReservedFlags,
    OtherCluster,
    Unauthenticated,
    UnexpectedAuthentication,
    UnknownKey,
    BadTag,
    BadChecksum,
    MalformedRecord,
    TooManyRecords,
    BadNodeId,
    OutOfRange,
    GenerationTooFarAhead,
    OldGeneration,
    ViewFull,

    /// <summary>A node the host describes itself (its own entry in the view under the same id): gossip leaves it to the host.</summary>
    HostEntry,
}

/// <summary>A parsed message header.</summary>
internal readonly ref struct WireMessage
{
    public WireMessage(MessageType type, long senderClock, ReadOnlySpan<byte> body)
    {
        Type = type;
        SenderClock = senderClock;
        Body = body;
    }

    public MessageType Type { get; }

    /// <summary>The sender's monotonic clock when it wrote the message, in milliseconds since its adapter started.</summary>
    public long SenderClock { get; }

    public ReadOnlySpan<byte> Body { get; }
}

/// <summary>A challenge cookie: 128 bits, compared in constant time.</summary>
internal readonly record struct Cookie(ulong Low, ulong High)
{
    public static Cookie Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Low);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], High);
    }

    /// <summary>Equality without an early exit, so timing says nothing about how much of a guess was right.</summary>
    public bool FixedTimeEquals(Cookie other) => ((Low ^ other.Low) | (High ^ other.High)) == 0;
}

/// <summary>
/// Reads and writes the gossip wire format (docs/gossip-wire-format.md). Stateless and
/// allocation-free except where capabilities are materialised.
/// </summary>
internal static class WireCodec
{
    private const int NibbleBytes = (WireNodeState.HeadReadingCount + 1) / 2;

    // Offsets in a state record after the node id: generation (6), version (4), capabilities
    // version (4), then a quality nibble per reading, an age byte per group, then the values.
    private const int QualitiesAt = 14;
    private const int AgesAt = QualitiesAt + NibbleBytes;
    private const int ValuesAt = AgesAt + WireNodeState.GroupCount;

    // The arrival rate, appended to the values (offset from their start), then the routed rate's
    // quality (low nibble; the high one reserved, 0) and value.
    private const int ArrivalsAt = 30;
    private const int RoutedQualityAt = 32;
    private const int RoutedAt = 33;
    // A capabilities record after its node id: generation (6 bytes), version (4), model count (1).
    private const int CapabilitiesHeadBytes = 11;
    private const byte HasParameters = 0x01;
    private const byte HasQuantization = 0x02;
    private const byte HasContext = 0x04;
    private const byte HasPrefill = 0x08;
    private const byte HasDecode = 0x10;
    private const byte HasSlots = 0x20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ---------------------------------------------------------------- messages

    /// <summary>Writes the header (and the key id when keyed); returns where the records start.</summary>
    /// <param name="destination">The message buffer.</param>
    /// <param name="type">The message type.</param>
    /// <param name="clusterHash">The cluster hash.</param>
    /// <param name="keyring">Decides the protection.</param>
    /// <param name="senderClock">This node's monotonic clock in milliseconds since its adapter started.</param>
    public static int WriteHeader(Span<byte> destination, MessageType type, ReadOnlySpan<byte> clusterHash, GossipKeyring keyring, long senderClock)
    {
        WireProtection protection = keyring.Protection;
        destination[0] = WireFormat.Magic0;
        destination[1] = WireFormat.Magic1;
        destination[2] = WireFormat.ProtocolVersion;
        destination[3] = (byte)type;
        destination[4] = (byte)protection;
        clusterHash.CopyTo(destination[5..]);
        WriteUInt48(destination[WireFormat.SenderClockOffset..], Math.Clamp(senderClock, 0, WireFormat.MaxSenderClock));
        if (protection != WireProtection.None)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[WireFormat.HeaderBytes..], keyring.PrimaryKeyId);
        }

        return WireFormat.BodyOffset(protection);
    }

    /// <summary>
    /// Seals a message whose records end at <paramref name="length"/>: appends the checksum, or the
    /// HMAC tag, or encrypts the records in place (through a copy) and appends the AES-GCM tag.
    /// Returns the message's final length.
    /// </summary>
    public static int Seal(Span<byte> message, int length, GossipKeyring keyring)
    {
        switch (keyring.Protection)
        {
            case WireProtection.None:
                BinaryPrimitives.WriteUInt32LittleEndian(message[length..], Crc32.HashToUInt32(message[..length]));
                return length + WireFormat.ChecksumBytes;
            case WireProtection.Signed:
                keyring.Sign(message[..length], message.Slice(length, GossipKeyring.TagBytes));
                return length + GossipKeyring.TagBytes;
            default:
                int bodyOffset = WireFormat.BodyOffset(WireProtection.Encrypted);
                int bodyLength = length - bodyOffset;
                byte[] plain = ArrayPool<byte>.Shared.Rent(Math.Max(bodyLength, 1));
                try
                {
                    message[bodyOffset..length].CopyTo(plain);
                    keyring.Encrypt(
                        message.Slice(WireFormat.HeaderBytes + GossipKeyring.KeyIdBytes, GossipKeyring.NonceBytes),
                        message[..bodyOffset],
                        plain.AsSpan(0, bodyLength),
                        message[bodyOffset..length],
                        message.Slice(length, GossipKeyring.TagBytes));
                }
                finally
                {
                    plain.AsSpan(0, bodyLength).Clear();
                    ArrayPool<byte>.Shared.Return(plain);
                }

                return length + GossipKeyring.TagBytes;
        }
    }

    /// <summary>Checks framing, flags, cluster and protection; on success returns the body (decrypted into <paramref name="scratch"/> when encrypted).</summary>
    /// <param name="message">The bytes as received.</param>
    /// <param name="maxBytes">The MTU.</param>
    /// <param name="clusterHash">This mesh's cluster hash.</param>
    /// <param name="keyring">This node's keys.</param>
    /// <param name="scratch">At least as long as <paramref name="message"/>: receives the plaintext of an encrypted message.</param>
    /// <param name="opened">The parsed message.</param>
    public static WireRejection TryOpen(ReadOnlySpan<byte> message, int maxBytes, ReadOnlySpan<byte> clusterHash, GossipKeyring keyring, Span<byte> scratch, out WireMessage opened)
    {
        opened = default;
        if (message.Length < WireFormat.HeaderBytes)
        {
            return WireRejection.TooShort;
        }

        if (message.Length > maxBytes)
        {
            return WireRejection.TooLong;
        }

        if (message[0] != WireFormat.Magic0 || message[1] != WireFormat.Magic1)
        {
            return WireRejection.BadMagic;
        }

        if (message[2] != WireFormat.ProtocolVersion)
        {
            return WireRejection.OtherProtocol;
        }

        var type = (MessageType)message[3];
        if (!Enum.IsDefined(type))
        {
            return WireRejection.UnknownMessageType;
        }

        byte flags = message[4];
        var protection = (WireProtection)(flags & WireFormat.ProtectionMask);
        if ((flags & WireFormat.ReservedFlags) != 0 || !Enum.IsDefined(protection))
        {
            return WireRejection.ReservedFlags;
        }

        if (!message.Slice(5, WireFormat.ClusterHashBytes).SequenceEqual(clusterHash))
        {
            return WireRejection.OtherCluster;
        }

        if (keyring.IsEnabled != (protection != WireProtection.None))
        {
            // With a key configured nothing unprotected is believed (no downgrade); without one a sealed message cannot be checked.
            return keyring.IsEnabled ? WireRejection.Unauthenticated : WireRejection.UnexpectedAuthentication;
        }

        if (message.Length < WireFormat.Overhead(protection))
        {
            return WireRejection.TooShort;
        }

        long senderClock = ReadUInt48(message[WireFormat.SenderClockOffset..]);
        int bodyOffset = WireFormat.BodyOffset(protection);
        int bodyEnd = message.Length - WireFormat.TrailerBytes(protection);
        switch (protection)
        {
            case WireProtection.None:
                if (Crc32.HashToUInt32(message[..bodyEnd]) != BinaryPrimitives.ReadUInt32LittleEndian(message[bodyEnd..]))
                {
                    return WireRejection.BadChecksum;
                }

                opened = new WireMessage(type, senderClock, message[bodyOffset..bodyEnd]);
                return WireRejection.None;
            case WireProtection.Signed:
            {
                uint keyId = BinaryPrimitives.ReadUInt32LittleEndian(message[WireFormat.HeaderBytes..]);
                if (!keyring.Verify(keyId, message[..bodyEnd], message[bodyEnd..]))
                {
                    return keyring.Contains(keyId) ? WireRejection.BadTag : WireRejection.UnknownKey;
                }

                opened = new WireMessage(type, senderClock, message[bodyOffset..bodyEnd]);
                return WireRejection.None;
            }

            default:
            {
                uint keyId = BinaryPrimitives.ReadUInt32LittleEndian(message[WireFormat.HeaderBytes..]);
                Span<byte> plain = scratch[..(bodyEnd - bodyOffset)];
                if (!keyring.Decrypt(
                    keyId,
                    message.Slice(WireFormat.HeaderBytes + GossipKeyring.KeyIdBytes, GossipKeyring.NonceBytes),
                    message[..bodyOffset],
                    message[bodyOffset..bodyEnd],
                    message[bodyEnd..],
                    plain))
                {
                    return keyring.Contains(keyId) ? WireRejection.BadTag : WireRejection.UnknownKey;
                }

                opened = new WireMessage(type, senderClock, plain);
                return WireRejection.None;
            }
        }
    }

    /// <summary>Reads the next record of a body; false at the end or when the framing is broken (<paramref name="malformed"/>).</summary>
    public static bool TryReadRecord(ref ReadOnlySpan<byte> body, out byte kind, out ReadOnlySpan<byte> payload, out bool malformed)
    {
        kind = 0;
        payload = default;
        malformed = false;
        if (body.IsEmpty)
        {
            return false;
        }

        if (body.Length < WireFormat.RecordHeaderBytes)
        {
            malformed = true;
            return false;
        }

        kind = body[0];
        int length = BinaryPrimitives.ReadUInt16LittleEndian(body[1..]);
        if (length > body.Length - WireFormat.RecordHeaderBytes)
        {
            malformed = true;
            return false;
        }

        payload = body.Slice(WireFormat.RecordHeaderBytes, length);
        body = body[(WireFormat.RecordHeaderBytes + length)..];
        return true;
    }

    /// <summary>The bytes a challenge or echo record takes, record header included.</summary>
    public const int CookieRecordBytes = WireFormat.RecordHeaderBytes + WireFormat.CookieBytes;

    /// <summary>Writes a challenge or echo record; false when it does not fit.</summary>
    public static bool TryWriteCookie(Span<byte> destination, RecordKind kind, Cookie cookie, out int written)
    {
        written = 0;
        if (destination.Length < CookieRecordBytes)
        {
            return false;
        }

        destination[0] = (byte)kind;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], WireFormat.CookieBytes);
        cookie.Write(destination[WireFormat.RecordHeaderBytes..]);
        written = CookieRecordBytes;
        return true;
    }

    /// <summary>Reads a challenge or echo payload: exactly one cookie.</summary>
    public static WireRejection TryReadCookie(ReadOnlySpan<byte> payload, out Cookie cookie)
    {
        cookie = default;
        if (payload.Length != WireFormat.CookieBytes)
        {
            return WireRejection.MalformedRecord;
        }

        cookie = Cookie.Read(payload);
        return WireRejection.None;
    }

    // ---------------------------------------------------------------- node state

    /// <summary>The bytes a state record of this id takes, record header included.</summary>
    public static int StateRecordBytes(int nodeIdUtf8Bytes) =>
        WireFormat.RecordHeaderBytes + 1 + nodeIdUtf8Bytes + WireFormat.StateFixedBytes;

    /// <summary>
    /// Writes this node's own state record with ages relative to <paramref name="nowTicks"/>, from its
    /// groups' exact observation times; false when it does not fit, or when the node id is empty or
    /// longer than <see cref="WireFormat.MaxNodeIdBytes"/> (every reader refuses such a record:
    /// <see cref="WireRejection.BadNodeId"/>).
    /// </summary>
    public static bool TryWriteState(Span<byte> destination, ReadOnlySpan<byte> nodeIdUtf8, in WireOwnState own, long nowTicks, out int written) =>
        WriteState(destination, nodeIdUtf8, own.State, own.ObservedTicks, nowTicks, out written);

    /// <summary>
    /// Writes a received state record (a relay) with ages relative to <paramref name="nowTicks"/>, from
    /// the observation times it arrived with (<see cref="WireNodeState.ObservedTicks"/>); false as the
    /// own state's <see cref="TryWriteState(Span{byte}, ReadOnlySpan{byte}, in WireOwnState, long, out int)"/>.
    /// </summary>
    public static bool TryWriteState(Span<byte> destination, ReadOnlySpan<byte> nodeIdUtf8, in WireNodeState s, long nowTicks, out int written)
    {
        WireGroupTicks observed = default;
        for (int g = 0; g < WireNodeState.GroupCount; g++)
        {
            observed[g] = s.ObservedTicks(g);
        }

        return WriteState(destination, nodeIdUtf8, s, observed, nowTicks, out written);
    }

    // Both writes: the state's values with each group's age at nowTicks from its observation time.
    private static bool WriteState(Span<byte> destination, ReadOnlySpan<byte> nodeIdUtf8, in WireNodeState s, in WireGroupTicks observedTicks, long nowTicks, out int written)
    {
        written = StateRecordBytes(nodeIdUtf8.Length);
        if (!IsWritableNodeId(nodeIdUtf8) || destination.Length < written)
        {
            written = 0;
            return false;
        }

        destination[0] = (byte)RecordKind.NodeState;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)(written - WireFormat.RecordHeaderBytes));
        Span<byte> p = destination[WireFormat.RecordHeaderBytes..written];
        p[0] = (byte)nodeIdUtf8.Length;
        nodeIdUtf8.CopyTo(p[1..]);
        p = p[(1 + nodeIdUtf8.Length)..];

        WriteUInt48(p, s.Generation);
        BinaryPrimitives.WriteUInt32LittleEndian(p[6..], (uint)Math.Min(s.Version, uint.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(p[10..], (uint)Math.Min(s.CapabilitiesVersion, uint.MaxValue));
        Span<byte> qualities = p.Slice(QualitiesAt, NibbleBytes);
        qualities.Clear();
        for (int i = 0; i < WireNodeState.HeadReadingCount; i++)
        {
            qualities[i / 2] |= (byte)((byte)s.Qualities[i] << (i % 2 * 4));
        }

        Span<byte> ages = p.Slice(AgesAt, WireNodeState.GroupCount);
        for (int g = 0; g < WireNodeState.GroupCount; g++)
        {
            ages[g] = WireFormat.EncodeAge(nowTicks - observedTicks[g]);
        }

        Span<byte> v = p[ValuesAt..];
        v[0] = (byte)((s.PowerSource & 0x0F) | (s.ChargeState << 4));
        v[1] = s.BatteryCount;
        BinaryPrimitives.WriteUInt16LittleEndian(v[2..], s.BatteryHundredthsPercent);
        BinaryPrimitives.WriteHalfLittleEndian(v[4..], s.BatteryRateWatts);
        BinaryPrimitives.WriteUInt16LittleEndian(v[6..], s.CpuUtilization);
        v[8] = s.MemoryPressure;
        v[9] = s.GpuCount;
        BinaryPrimitives.WriteUInt16LittleEndian(v[10..], s.GpuBusiestUtilization);
        BinaryPrimitives.WriteHalfLittleEndian(v[12..], s.GpuTotalWatts);
        v[14] = (byte)((s.ThermalLevel & 0x0F) | (s.Metered ? 0x10 : 0) | (s.EnergySaver ? 0x20 : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(v[15..], s.ThrottleRatio);
        v[17] = s.HottestCelsiusOffset;
        BinaryPrimitives.WriteHalfLittleEndian(v[18..], s.BandwidthMegabitsPerSecond);
        BinaryPrimitives.WriteHalfLittleEndian(v[20..], s.CpuLimitCores);
        BinaryPrimitives.WriteUInt16LittleEndian(v[22..], s.QueueDepth);
        BinaryPrimitives.WriteUInt16LittleEndian(v[24..], s.InFlight);
        BinaryPrimitives.WriteHalfLittleEndian(v[26..], s.BatteryPercentPerHour);
        BinaryPrimitives.WriteHalfLittleEndian(v[28..], s.LoadSlopePerMinute);
        BinaryPrimitives.WriteHalfLittleEndian(v[ArrivalsAt..], s.ArrivalsPerSecond);
        v[RoutedQualityAt] = (byte)((byte)s.Qualities[(int)WireReading.RoutedPerSecond] & 0x0F);
        BinaryPrimitives.WriteHalfLittleEndian(v[RoutedAt..], s.RoutedPerSecond);
        return true;
    }

    /// <summary>
    /// Reads only the node id, generation and version of a state record, so that a receiver can tell
    /// a state it already holds (most records a node receives in a large mesh are relays of versions
    /// it has) without decoding the rest. The record must still pass <see cref="TryReadState"/>
    /// before anything of it is believed.
    /// </summary>
    /// <param name="payload">The record's payload.</param>
    /// <param name="nodeId">Receives the node id (at least <see cref="NodeCostFactors.MaxNodeIdLength"/> characters).</param>
    /// <param name="nodeIdLength">The node id's length.</param>
    /// <param name="generation">The state's generation.</param>
    /// <param name="version">The state's version.</param>
    /// <returns>None, or why the record's start is unreadable.</returns>
    public static WireRejection TryPeekState(ReadOnlySpan<byte> payload, Span<char> nodeId, out int nodeIdLength, out long generation, out long version)
    {
        generation = 0;
        version = 0;
        WireRejection idResult = TryReadNodeId(payload, nodeId, out nodeIdLength, out int consumed);
        if (idResult != WireRejection.None)
        {
            return idResult;
        }

        ReadOnlySpan<byte> p = payload[consumed..];
        if (p.Length < WireFormat.StateMinimumBytes)
        {
            return WireRejection.MalformedRecord;
        }

        generation = ReadUInt48(p);
        version = BinaryPrimitives.ReadUInt32LittleEndian(p[6..]);
        return WireRejection.None;
    }

    /// <summary>
    /// Reads a state payload: the node id (as chars into <paramref name="nodeId"/>) and the state with
    /// its ages and <paramref name="receivedTicks"/>, from which its observation times on this node's
    /// clock are computed (<see cref="WireNodeState.ObservedTicks"/>: <paramref name="receivedTicks"/> minus each age).
    /// Longer payloads (a newer minor layout) are read up to what this version knows.
    /// </summary>
    public static WireRejection TryReadState(ReadOnlySpan<byte> payload, long receivedTicks, Span<char> nodeId, out int nodeIdLength, out WireNodeState s)
    {
        s = default;
        WireRejection idResult = TryReadNodeId(payload, nodeId, out nodeIdLength, out int consumed);
        if (idResult != WireRejection.None)
        {
            return idResult;
        }

        ReadOnlySpan<byte> p = payload[consumed..];
        if (p.Length < WireFormat.StateMinimumBytes
            || (p.Length > WireFormat.StateMinimumBytes && p.Length < WireFormat.StateWithArrivalsBytes)
            || (p.Length > WireFormat.StateWithArrivalsBytes && p.Length < WireFormat.StateFixedBytes))
        {
            // Shorter than the oldest layout, or cut inside an appended field (the arrival rate, the
            // routed rate and its quality): no layout.
            return WireRejection.MalformedRecord;
        }

        s.Generation = ReadUInt48(p);
        s.Version = BinaryPrimitives.ReadUInt32LittleEndian(p[6..]);
        if (s.Generation == 0 || s.Version == 0)
        {
            // A generation is a start time and a version counts publications from 1: zero is no state.
            return WireRejection.OutOfRange;
        }

        s.CapabilitiesVersion = BinaryPrimitives.ReadUInt32LittleEndian(p[10..]);
        for (int i = 0; i < WireNodeState.HeadReadingCount; i++)
        {
            s.Qualities[i] = (SignalQuality)((p[QualitiesAt + (i / 2)] >> (i % 2 * 4)) & 0x0F);
        }

        s.ReceivedTicks = receivedTicks;
        p.Slice(AgesAt, WireNodeState.GroupCount).CopyTo(s.Ages);

        ReadOnlySpan<byte> v = p[ValuesAt..];
        s.PowerSource = (byte)(v[0] & 0x0F);
        s.ChargeState = (byte)(v[0] >> 4);
        s.BatteryCount = v[1];
        s.BatteryHundredthsPercent = BinaryPrimitives.ReadUInt16LittleEndian(v[2..]);
        s.BatteryRateWatts = BinaryPrimitives.ReadHalfLittleEndian(v[4..]);
        s.CpuUtilization = BinaryPrimitives.ReadUInt16LittleEndian(v[6..]);
        s.MemoryPressure = v[8];
        s.GpuCount = v[9];
        s.GpuBusiestUtilization = BinaryPrimitives.ReadUInt16LittleEndian(v[10..]);
        s.GpuTotalWatts = BinaryPrimitives.ReadHalfLittleEndian(v[12..]);
        if ((v[14] & 0xC0) != 0)
        {
            // Bits 6 and 7 of the thermal/metered/saver byte are reserved: an encoder of this version writes zeros.
            return WireRejection.OutOfRange;
        }

        s.ThermalLevel = (byte)(v[14] & 0x0F);
        s.Metered = (v[14] & 0x10) != 0;
        s.EnergySaver = (v[14] & 0x20) != 0;
        s.ThrottleRatio = BinaryPrimitives.ReadUInt16LittleEndian(v[15..]);
        s.HottestCelsiusOffset = v[17];
        s.BandwidthMegabitsPerSecond = BinaryPrimitives.ReadHalfLittleEndian(v[18..]);
        s.CpuLimitCores = BinaryPrimitives.ReadHalfLittleEndian(v[20..]);
        s.QueueDepth = BinaryPrimitives.ReadUInt16LittleEndian(v[22..]);
        s.InFlight = BinaryPrimitives.ReadUInt16LittleEndian(v[24..]);
        s.BatteryPercentPerHour = BinaryPrimitives.ReadHalfLittleEndian(v[26..]);
        s.LoadSlopePerMinute = BinaryPrimitives.ReadHalfLittleEndian(v[28..]);

        // Appended after the first version-2 layout: a shorter state (an older sender) has no
        // arrival rate; its quality nibble was the spare one, written 0 (Unknown).
        if (v.Length >= ArrivalsAt + 2)
        {
            s.ArrivalsPerSecond = BinaryPrimitives.ReadHalfLittleEndian(v[ArrivalsAt..]);
        }
        else if (s.Qualities[(int)WireReading.ArrivalsPerSecond] != SignalQuality.Unknown)
        {
            // An older sender wrote that nibble 0: a quality without its value is a state cut short.
            return WireRejection.MalformedRecord;
        }

        // Appended after the arrival rate: a shorter state (an older sender) has no routed rate, read Unknown.
        if (v.Length >= RoutedAt + 2)
        {
            if ((v[RoutedQualityAt] & 0xF0) != 0)
            {
                // The high nibble is reserved: an encoder of this version writes zeros.
                return WireRejection.OutOfRange;
            }

            s.Qualities[(int)WireReading.RoutedPerSecond] = (SignalQuality)v[RoutedQualityAt];
            s.RoutedPerSecond = BinaryPrimitives.ReadHalfLittleEndian(v[RoutedAt..]);
        }

        return WireQuantizer.Validate(s) is null ? WireRejection.None : WireRejection.OutOfRange;
    }

    // ---------------------------------------------------------------- capabilities

    /// <summary>Writes a capabilities record; false when it does not fit, or when the node id is empty or longer than <see cref="WireFormat.MaxNodeIdBytes"/> (as <see cref="TryWriteState(Span{byte}, ReadOnlySpan{byte}, in WireNodeState, long, out int)"/>).</summary>
    public static bool TryWriteCapabilities(Span<byte> destination, ReadOnlySpan<byte> nodeIdUtf8, long generation, NodeCapabilities capabilities, out int written)
    {
        written = 0;
        int at = WireFormat.RecordHeaderBytes;
        if (!IsWritableNodeId(nodeIdUtf8) || !TryPutText(destination, ref at, nodeIdUtf8) || !Fits(destination, at, 6 + 4 + 1))
        {
            return false;
        }

        WriteUInt48(destination[at..], generation);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(at + 6)..], (uint)Math.Min(capabilities.Version, uint.MaxValue));
        destination[at + 10] = (byte)capabilities.Models.Length;
        at += 11;
        Span<byte> utf8 = stackalloc byte[ServedModel.MaxModelIdLength * 3];
        foreach (ServedModel model in capabilities.Models)
        {
            int n = Encoding.UTF8.GetBytes(model.ModelId, utf8);
            if (!TryPutText(destination, ref at, utf8[..n]) || !Fits(destination, at, 1 + 4 + 2 + 4 + 4 + 4 + 2))
            {
                return false;
            }

            byte flags = (byte)((model.ParameterBillions is null ? 0 : HasParameters) | (model.QuantizationBits is null ? 0 : HasQuantization)
                | (model.ContextTokens is null ? 0 : HasContext) | (model.PrefillTokensPerSecond is null ? 0 : HasPrefill)
                | (model.DecodeTokensPerSecond is null ? 0 : HasDecode) | (model.ParallelSlots is null ? 0 : HasSlots));
            Span<byte> m = destination[at..];
            m[0] = flags;
            BinaryPrimitives.WriteSingleLittleEndian(m[1..], (float)(model.ParameterBillions ?? 0));
            BinaryPrimitives.WriteHalfLittleEndian(m[5..], (Half)(model.QuantizationBits ?? 0));
            BinaryPrimitives.WriteUInt32LittleEndian(m[7..], (uint)(model.ContextTokens ?? 0));
            BinaryPrimitives.WriteSingleLittleEndian(m[11..], (float)(model.PrefillTokensPerSecond ?? 0));
            BinaryPrimitives.WriteSingleLittleEndian(m[15..], (float)(model.DecodeTokensPerSecond ?? 0));
            BinaryPrimitives.WriteUInt16LittleEndian(m[19..], (ushort)Math.Min(model.ParallelSlots ?? 0, ushort.MaxValue));
            at += 21;
        }

        if (!Fits(destination, at, 1))
        {
            return false;
        }

        destination[at++] = (byte)capabilities.Relays.Length;
        Span<byte> via = stackalloc byte[NodeCostFactors.MaxNodeIdLength * 3];
        foreach (RelayRoute relay in capabilities.Relays)
        {
            int n = Encoding.UTF8.GetBytes(relay.ModelId, utf8);
            int k = Encoding.UTF8.GetBytes(relay.ViaNodeId, via);
            if (!TryPutText(destination, ref at, utf8[..n]) || !TryPutText(destination, ref at, via[..k]) || !Fits(destination, at, 1))
            {
                return false;
            }

            destination[at++] = (byte)relay.HopCount;
        }

        if (at - WireFormat.RecordHeaderBytes > ushort.MaxValue)
        {
            return false;
        }

        destination[0] = (byte)RecordKind.Capabilities;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)(at - WireFormat.RecordHeaderBytes));
        written = at;
        return true;
    }

    /// <summary>
    /// The start every capabilities record has: node id, generation (48 bits), version (32 bits) and
    /// model count (8 bits, 11 bytes with the two before it); <paramref name="at"/> is just past them.
    /// </summary>
    private static WireRejection TryReadCapabilitiesHead(ReadOnlySpan<byte> payload, Span<char> nodeId, out int nodeIdLength, out long generation, out long version, out int at)
    {
        generation = 0;
        version = 0;
        WireRejection idResult = TryReadNodeId(payload, nodeId, out nodeIdLength, out at);
        if (idResult != WireRejection.None)
        {
            return idResult;
        }

        if (payload.Length - at < CapabilitiesHeadBytes)
        {
            return WireRejection.MalformedRecord;
        }

        generation = ReadUInt48(payload[at..]);
        version = BinaryPrimitives.ReadUInt32LittleEndian(payload[(at + 6)..]);
        at += CapabilitiesHeadBytes;
        return WireRejection.None;
    }

    /// <summary>
    /// Reads only the node id, generation and version of a capabilities record, so that a receiver
    /// can tell a record it already holds without decoding (and allocating) its models. The record
    /// must still pass <see cref="TryReadCapabilities"/> before anything of it is believed.
    /// </summary>
    /// <param name="payload">The record's payload.</param>
    /// <param name="nodeId">Receives the node id (at least <see cref="NodeCostFactors.MaxNodeIdLength"/> characters).</param>
    /// <param name="nodeIdLength">The node id's length.</param>
    /// <param name="generation">The generation the capabilities belong to.</param>
    /// <param name="version">The capabilities' version.</param>
    /// <returns>None, or why the record's start is unreadable.</returns>
    public static WireRejection TryPeekCapabilities(ReadOnlySpan<byte> payload, Span<char> nodeId, out int nodeIdLength, out long generation, out long version) =>
        TryReadCapabilitiesHead(payload, nodeId, out nodeIdLength, out generation, out version, out _);

    /// <summary>Reads a capabilities payload. Allocates the capabilities (only done when their version is new).</summary>
    public static WireRejection TryReadCapabilities(ReadOnlySpan<byte> payload, Span<char> nodeId, out int nodeIdLength, out long generation, out NodeCapabilities? capabilities)
    {
        capabilities = null;
        WireRejection head = TryReadCapabilitiesHead(payload, nodeId, out nodeIdLength, out generation, out long version, out int at);
        if (head != WireRejection.None)
        {
            return head;
        }

        int modelCount = payload[at - 1]; // the head's last byte
        if (modelCount > NodeCapabilities.MaxModels)
        {
            return WireRejection.OutOfRange;
        }

        try
        {
            var models = ImmutableArray.CreateBuilder<ServedModel>(modelCount);
            for (int i = 0; i < modelCount; i++)
            {
                if (!TryTakeText(payload, ref at, ServedModel.MaxModelIdLength, out string? modelId) || payload.Length - at < 21)
                {
                    return WireRejection.MalformedRecord;
                }

                ReadOnlySpan<byte> m = payload[at..];
                byte flags = m[0];
                models.Add(new ServedModel(modelId)
                {
                    ParameterBillions = (flags & HasParameters) != 0 ? BinaryPrimitives.ReadSingleLittleEndian(m[1..]) : null,
                    QuantizationBits = (flags & HasQuantization) != 0 ? (double)BinaryPrimitives.ReadHalfLittleEndian(m[5..]) : null,
                    ContextTokens = (flags & HasContext) != 0 ? checked((int)BinaryPrimitives.ReadUInt32LittleEndian(m[7..])) : null,
                    PrefillTokensPerSecond = (flags & HasPrefill) != 0 ? BinaryPrimitives.ReadSingleLittleEndian(m[11..]) : null,
                    DecodeTokensPerSecond = (flags & HasDecode) != 0 ? BinaryPrimitives.ReadSingleLittleEndian(m[15..]) : null,
                    ParallelSlots = (flags & HasSlots) != 0 ? BinaryPrimitives.ReadUInt16LittleEndian(m[19..]) : null,
                });
                at += 21;
            }

            if (payload.Length - at < 1)
            {
                return WireRejection.MalformedRecord;
            }

            int relayCount = payload[at++];
            if (relayCount > NodeCapabilities.MaxRelays)
            {
                return WireRejection.OutOfRange;
            }

            var relays = ImmutableArray.CreateBuilder<RelayRoute>(relayCount);
            for (int i = 0; i < relayCount; i++)
            {
                if (!TryTakeText(payload, ref at, ServedModel.MaxModelIdLength, out string? modelId)
                    || !TryTakeText(payload, ref at, NodeCostFactors.MaxNodeIdLength, out string? viaId)
                    || payload.Length - at < 1)
                {
                    return WireRejection.MalformedRecord;
                }

                relays.Add(new RelayRoute(modelId, viaId, payload[at++]));
            }

            capabilities = new NodeCapabilities(new string(nodeId[..nodeIdLength]), version)
            {
                Models = models.MoveToImmutable(),
                Relays = relays.MoveToImmutable(),
            };
            return WireRejection.None;
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException)
        {
            // The factor model's own guards (ranges, NaN, control characters) refused a value: the
            // caller counts and logs the rejection; nothing was merged.
            return WireRejection.OutOfRange;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static WireRejection TryReadNodeId(ReadOnlySpan<byte> payload, Span<char> nodeId, out int nodeIdLength, out int consumed)
    {
        nodeIdLength = 0;
        consumed = 0;
        if (payload.IsEmpty)
        {
            return WireRejection.MalformedRecord;
        }

        int n = payload[0];
        if (n == 0 || n > WireFormat.MaxNodeIdBytes || payload.Length < 1 + n)
        {
            return WireRejection.BadNodeId;
        }

        OperationStatus status = Utf8.ToUtf16(payload.Slice(1, n), nodeId, out _, out nodeIdLength, replaceInvalidSequences: false);
        if (status != OperationStatus.Done || !IsValidId(nodeId[..nodeIdLength]))
        {
            return WireRejection.BadNodeId;
        }

        consumed = 1 + n;
        return WireRejection.None;
    }

    // The same rules as the factor model's text guard: not blank, no control characters, at most 64 characters.
    private static bool IsValidId(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > NodeCostFactors.MaxNodeIdLength || id.IsWhiteSpace())
        {
            return false;
        }

        foreach (char c in id)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    // A record's node id as every reader takes it (TryReadNodeId): 1 to MaxNodeIdBytes bytes. A longer
    // one would be refused by every peer (and past 255 bytes its length byte would wrap).
    private static bool IsWritableNodeId(ReadOnlySpan<byte> nodeIdUtf8) => nodeIdUtf8.Length is > 0 and <= WireFormat.MaxNodeIdBytes;

    private static bool TryPutText(Span<byte> destination, ref int at, ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > WireFormat.MaxTextBytes || !Fits(destination, at, 1 + utf8.Length))
        {
            return false;
        }

        destination[at] = (byte)utf8.Length;
        utf8.CopyTo(destination[(at + 1)..]);
        at += 1 + utf8.Length;
        return true;
    }

    private static bool TryTakeText(ReadOnlySpan<byte> payload, ref int at, int maxChars, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        text = null;
        if (payload.Length - at < 1)
        {
            return false;
        }

        int n = payload[at];
        if (n == 0 || payload.Length - at - 1 < n)
        {
            return false;
        }

        try
        {
            text = StrictUtf8.GetString(payload.Slice(at + 1, n));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        if (text.Length > maxChars)
        {
            text = null;
            return false;
        }

        at += 1 + n;
        return true;
    }

    private static bool Fits(Span<byte> destination, int at, int bytes) => destination.Length - at >= bytes;

    private static void WriteUInt48(Span<byte> destination, long value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)value);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], (ushort)(value >> 32));
    }

    private static long ReadUInt48(ReadOnlySpan<byte> source) =>
        BinaryPrimitives.ReadUInt32LittleEndian(source) | ((long)BinaryPrimitives.ReadUInt16LittleEndian(source[4..]) << 32);
}
