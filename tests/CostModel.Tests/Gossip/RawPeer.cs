using System.Security.Cryptography;
using System.Text;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;

namespace CostModel.Tests.Gossip;

/// <summary>
/// A test peer that speaks the wire format itself, with no adapter behind it: it builds any message
/// (valid, hostile or replayed), sends it from its address, and answers challenges the way a live
/// node does, so a test can be a proven sender of whatever bytes it likes, or an attacker who cannot answer.
/// </summary>
internal sealed class RawPeer
{
    private readonly TestWire _wire;
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly byte[] _clusterHash;

    public RawPeer(string address, TestWire wire, TimeProvider time, GossipKeyring keyring, string? clusterId = null)
    {
        Address = address;
        _wire = wire;
        _time = time;
        _start = time.GetTimestamp();
        Keyring = keyring;
        _clusterHash = SHA256.HashData(Encoding.UTF8.GetBytes(clusterId ?? GossipDefaults.ClusterId))[..WireFormat.ClusterHashBytes];
        wire.Attach(address, Receive);
    }

    public string Address { get; }

    public GossipKeyring Keyring { get; }

    /// <summary>False for an attacker: challenges reach it but go unanswered.</summary>
    public bool AnswersChallenges { get; set; } = true;

    /// <summary>Shifts the sender clock this peer writes (a replay of an old message carries an old clock).</summary>
    public long ClockShiftMs { get; set; }

    /// <summary>Every message this peer received, in order.</summary>
    public List<byte[]> Received { get; } = [];

    /// <summary>The challenges this peer received, in order.</summary>
    public List<Cookie> Challenges { get; } = [];

    public long ClockMs => (long)_time.GetElapsedTime(_start).TotalMilliseconds + ClockShiftMs;

    /// <summary>Builds a sealed message of the given records (each a whole record: kind, length, payload).</summary>
    public byte[] Message(MessageType type, params byte[][] records)
    {
        byte[] buffer = new byte[GossipDefaults.MaxMtu];
        int at = WireCodec.WriteHeader(buffer, type, _clusterHash, Keyring, ClockMs);
        foreach (byte[] record in records)
        {
            record.CopyTo(buffer.AsSpan(at));
            at += record.Length;
        }

        int length = WireCodec.Seal(buffer, at, Keyring);
        return buffer[..length];
    }

    /// <summary>Sends bytes to a node and lets the wire carry what that sets off.</summary>
    /// <returns>What the node's Receive answered.</returns>
    public bool SendTo(GossipNodeFixture node, byte[] message) => node.Deliver(message, Address);

    /// <summary>A state record of <paramref name="nodeId"/>, with ages relative to now.</summary>
    public static byte[] StateRecord(string nodeId, in WireNodeState state, long nowTicks)
    {
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, Encoding.UTF8.GetBytes(nodeId), state, nowTicks, out int written));
        return buffer[..written];
    }

    /// <summary>A state record of <paramref name="nodeId"/> as its own node writes it, with ages relative to now.</summary>
    public static byte[] StateRecord(string nodeId, in WireOwnState state, long nowTicks)
    {
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, Encoding.UTF8.GetBytes(nodeId), state, nowTicks, out int written));
        return buffer[..written];
    }

    /// <summary>A capabilities record.</summary>
    public static byte[] CapabilitiesRecord(string nodeId, long generation, NodeCapabilities capabilities)
    {
        byte[] buffer = new byte[GossipDefaults.Mtu];
        Assert.True(WireCodec.TryWriteCapabilities(buffer, Encoding.UTF8.GetBytes(nodeId), generation, capabilities, out int written));
        return buffer[..written];
    }

    /// <summary>A record of any kind and payload, framed.</summary>
    public static byte[] Record(byte kind, ReadOnlySpan<byte> payload)
    {
        byte[] record = new byte[WireFormat.RecordHeaderBytes + payload.Length];
        record[0] = kind;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(1), (ushort)payload.Length);
        payload.CopyTo(record.AsSpan(WireFormat.RecordHeaderBytes));
        return record;
    }

    /// <summary>A plausible state: a node on mains at 20 % CPU, every group observed at <paramref name="observedTicks"/> (as received then, at age 0).</summary>
    public static WireNodeState State(long generation, long version, long observedTicks)
    {
        var state = default(WireNodeState);
        state.Generation = generation;
        state.Version = version;
        state.Qualities[(int)WireReading.PowerSource] = SignalQuality.Measured;
        state.PowerSource = (byte)PowerSource.Mains;
        state.Qualities[(int)WireReading.CpuUtilization] = SignalQuality.Measured;
        state.CpuUtilization = (ushort)(0.2 * ushort.MaxValue);
        state.ReceivedTicks = observedTicks;

        return state;
    }

    private bool Receive(byte[] bytes, string from)
    {
        Received.Add(bytes);
        byte[] scratch = new byte[bytes.Length];
        if (WireCodec.TryOpen(bytes, GossipDefaults.MaxMtu, _clusterHash, Keyring, scratch, out WireMessage message) != WireRejection.None)
        {
            return false;
        }

        ReadOnlySpan<byte> body = message.Body;
        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> payload, out _))
        {
            if (kind == (byte)RecordKind.Challenge && WireCodec.TryReadCookie(payload, out Cookie cookie) == WireRejection.None)
            {
                Challenges.Add(cookie);
                if (AnswersChallenges)
                {
                    byte[] echo = new byte[WireCodec.CookieRecordBytes];
                    WireCodec.TryWriteCookie(echo, RecordKind.Echo, cookie, out _);
                    _wire.Send(Address, from, Message(MessageType.Gossip, echo));
                }
            }
        }

        return true;
    }
}
