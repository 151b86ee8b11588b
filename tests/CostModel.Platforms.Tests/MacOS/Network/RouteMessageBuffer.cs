using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

/// <summary>
/// Builds synthetic <c>sysctl NET_RT_IFLIST2</c> buffers from the header layouts: per interface an
/// <c>RTM_IFINFO2</c> message (<c>struct if_msghdr2</c>, 160 bytes, written byte by byte at the
/// header's offsets, not through the struct under test) followed, as the kernel does, by address
/// messages (<c>RTM_NEWADDR</c>, an <c>ifa_msghdr</c> of 20 bytes plus padding) that a reader must skip.
/// </summary>
internal sealed class RouteMessageBuffer
{
    /// <summary><c>RTM_NEWADDR</c> (<c>&lt;net/route.h&gt;</c>).</summary>
    public const byte RtmNewAddr = 0xc;

    /// <summary><c>RTM_NEWMADDR2</c> (<c>&lt;net/route.h&gt;</c>).</summary>
    public const byte RtmNewMAddr2 = 0x13;

    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    /// <summary>An <c>RTM_IFINFO2</c> message for interface <paramref name="index"/>.</summary>
    public RouteMessageBuffer Interface(ushort index, ulong receiveBytes, ulong transmitBytes, ulong baudRate = 0, byte version = InterfaceList.RtmVersion, int? messageLength = null, int flags = 0x8863)
    {
        byte[] message = new byte[160];
        Span<byte> m = message;
        BinaryPrimitives.WriteUInt16LittleEndian(m, (ushort)(messageLength ?? 160)); // ifm_msglen
        m[2] = version;                                                                // ifm_version
        m[3] = InterfaceList.RtmIfInfo2;                                               // ifm_type
        BinaryPrimitives.WriteInt32LittleEndian(m[4..], 0x10);                         // ifm_addrs: RTA_IFP
        BinaryPrimitives.WriteInt32LittleEndian(m[8..], flags);                        // ifm_flags
        BinaryPrimitives.WriteUInt16LittleEndian(m[12..], index);                      // ifm_index
        BinaryPrimitives.WriteInt32LittleEndian(m[16..], 0);                           // ifm_snd_len
        BinaryPrimitives.WriteInt32LittleEndian(m[20..], 512);                         // ifm_snd_maxlen
        Span<byte> data = m[32..];                                                     // ifm_data: if_data64
        data[0] = 6;                                                                   // ifi_type: IFT_ETHER
        BinaryPrimitives.WriteUInt32LittleEndian(data[8..], 1500);                     // ifi_mtu
        BinaryPrimitives.WriteUInt64LittleEndian(data[16..], baudRate);                // ifi_baudrate
        BinaryPrimitives.WriteUInt64LittleEndian(data[24..], 1000);                    // ifi_ipackets
        BinaryPrimitives.WriteUInt64LittleEndian(data[40..], 900);                     // ifi_opackets
        BinaryPrimitives.WriteUInt64LittleEndian(data[64..], receiveBytes);            // ifi_ibytes
        BinaryPrimitives.WriteUInt64LittleEndian(data[72..], transmitBytes);           // ifi_obytes
        BinaryPrimitives.WriteUInt64LittleEndian(data[80..], 7);                       // ifi_imcasts
        BinaryPrimitives.WriteInt32LittleEndian(data[120..], 1_700_000_000);           // ifi_lastchange.tv_sec
        // A length below 160 keeps that many bytes (at least the 4-byte common header, so the length itself is there).
        int take = messageLength is { } l && l < 160 ? Math.Max(l, InterfaceList.CommonHeaderBytes) : 160;
        _bytes.AddRange(message.AsSpan(0, take));
        for (int i = 160; i < (messageLength ?? 160); i++)
        {
            _bytes.Add(0);
        }

        return this;
    }

    /// <summary>An address message (<c>ifa_msghdr</c> + one 16-byte sockaddr) that the reader must skip.</summary>
    public RouteMessageBuffer Address(ushort index, byte type = RtmNewAddr)
    {
        byte[] message = new byte[36];
        BinaryPrimitives.WriteUInt16LittleEndian(message, 36);
        message[2] = InterfaceList.RtmVersion;
        message[3] = type;
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(12), index); // ifam_index
        message[20] = 16;                                                     // sa_len
        message[21] = 2;                                                      // sa_family: AF_INET
        _bytes.AddRange(message);
        return this;
    }

    /// <summary>Raw bytes, for hostile tails.</summary>
    public RouteMessageBuffer Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    /// <summary>The same message written through the struct, to cross-check the two.</summary>
    public static byte[] ThroughStruct(IfMsgHdr2 header)
    {
        byte[] bytes = new byte[Marshal.SizeOf<IfMsgHdr2>()];
        MemoryMarshal.Write(bytes, in header);
        return bytes;
    }
}
