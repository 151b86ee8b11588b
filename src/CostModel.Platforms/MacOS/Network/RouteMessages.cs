using System.Runtime.InteropServices;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// <c>struct if_data64</c> (<c>&lt;net/if_var.h&gt;</c>, declared inside <c>#pragma pack(4)</c>): an
/// interface's statistics with 64-bit counters, as the kernel writes it into each
/// <c>RTM_IFINFO2</c> message of <c>sysctl NET_RT_IFLIST2</c>. 128 bytes, 4-byte aligned, the same on
/// arm64 and x86_64 (every field has a fixed width; <c>ifi_lastchange</c> is a
/// <c>struct timeval32</c>, two <c>int32_t</c>, not the 16-byte <c>timeval</c>).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct IfData64
{
    public byte Type;
    public byte TypeLength;
    public byte Physical;
    public byte AddressLength;
    public byte HeaderLength;
    public byte ReceiveQuota;
    public byte TransmitQuota;
    public byte Unused1;
    public uint Mtu;
    public uint Metric;

    /// <summary><c>ifi_baudrate</c>: the link speed the driver reports, bits per second (0: not reported).</summary>
    public ulong BaudRate;
    public ulong InputPackets;
    public ulong InputErrors;
    public ulong OutputPackets;
    public ulong OutputErrors;
    public ulong Collisions;

    /// <summary><c>ifi_ibytes</c>: octets received since the interface was attached.</summary>
    public ulong InputBytes;

    /// <summary><c>ifi_obytes</c>: octets sent since the interface was attached.</summary>
    public ulong OutputBytes;
    public ulong InputMulticasts;
    public ulong OutputMulticasts;
    public ulong InputQueueDrops;
    public ulong NoProtocol;
    public uint ReceiveTiming;
    public uint TransmitTiming;

    /// <summary><c>ifi_lastchange.tv_sec</c> (<c>struct timeval32</c>).</summary>
    public int LastChangeSeconds;

    /// <summary><c>ifi_lastchange.tv_usec</c>.</summary>
    public int LastChangeMicroseconds;
}

/// <summary>
/// <c>struct if_msghdr2</c> (<c>&lt;net/if.h&gt;</c>): one <c>RTM_IFINFO2</c> message of
/// <c>sysctl {CTL_NET, PF_ROUTE, 0, 0, NET_RT_IFLIST2, 0}</c>. 160 bytes; <c>ifm_data</c> at offset 32.
/// Only its layout is used: the buffer comes from the kernel as bytes and each message is read
/// from it after its length and type were checked (<see cref="InterfaceList"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IfMsgHdr2
{
    /// <summary><c>ifm_msglen</c>: this message's length in bytes, to skip to the next.</summary>
    public ushort MessageLength;

    /// <summary><c>ifm_version</c>: <see cref="InterfaceList.RtmVersion"/>.</summary>
    public byte Version;

    /// <summary><c>ifm_type</c>: <see cref="InterfaceList.RtmIfInfo2"/> for this layout.</summary>
    public byte Type;
    public int Addresses;

    /// <summary><c>ifm_flags</c>: the interface's <c>IFF_*</c> flags.</summary>
    public int Flags;

    /// <summary><c>ifm_index</c>: the interface index (<c>if_nametoindex</c>).</summary>
    public ushort Index;
    public int SendQueueLength;
    public int SendQueueMaxLength;
    public int SendQueueDrops;
    public int Timer;

    /// <summary><c>ifm_data</c>.</summary>
    public IfData64 Data;
}
