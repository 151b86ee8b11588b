using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// <c>MIB_IF_ROW2</c> (netioapi.h), the row <c>GetIfEntry2</c> fills: 1352 bytes on x86 and x64
/// alike (no pointers; the 64-bit counters are 8-byte aligned by MSVC on both). Only the fields
/// the network probe reads are declared, at their SDK offsets; the rest is padding.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal unsafe struct MibIfRow2
{
    /// <summary>sizeof(MIB_IF_ROW2) in the Windows SDK.</summary>
    public const int Size = 1352;

    /// <summary>IF_MAX_STRING_SIZE + 1: the characters of <see cref="Alias"/> and <see cref="Description"/>, the terminating NUL included.</summary>
    public const int StringLength = 257;

    /// <summary>IF_TYPE_SOFTWARE_LOOPBACK (ipifcons.h).</summary>
    public const uint TypeSoftwareLoopback = 24;

    /// <summary>NET_LUID: the interface's locally unique identifier (type and index); a new one means a new interface.</summary>
    [FieldOffset(0)]
    public ulong InterfaceLuid;

    /// <summary>NET_IFINDEX: the input of <c>GetIfEntry2</c>; indexes may be reused after an interface is removed.</summary>
    [FieldOffset(8)]
    public uint InterfaceIndex;

    /// <summary>The interface's alias ("Ethernet", "Wi-Fi"), the name users see and rename, NUL-terminated.</summary>
    [FieldOffset(28)]
    public fixed char Alias[StringLength];

    /// <summary>The adapter's description (its driver's name), NUL-terminated.</summary>
    [FieldOffset(542)]
    public fixed char Description[StringLength];

    /// <summary>IFTYPE (ipifcons.h): 6 Ethernet, 71 IEEE 802.11, 24 software loopback, 131 tunnel, 243/244 mobile broadband.</summary>
    [FieldOffset(1128)]
    public uint Type;

    /// <summary>IF_OPER_STATUS: 1 up, 2 down, 3 testing, 4 unknown, 5 dormant, 6 not present, 7 lower layer down.</summary>
    [FieldOffset(1156)]
    public uint OperStatus;

    /// <summary>Transmit link speed in bits per second; 0 or ULONG64_MAX when the driver does not know.</summary>
    [FieldOffset(1192)]
    public ulong TransmitLinkSpeed;

    /// <summary>Receive link speed in bits per second; 0 or ULONG64_MAX when the driver does not know.</summary>
    [FieldOffset(1200)]
    public ulong ReceiveLinkSpeed;

    /// <summary>Octets received on the interface, framing characters included (64-bit).</summary>
    [FieldOffset(1208)]
    public ulong InOctets;

    /// <summary>Octets sent on the interface, framing characters included (64-bit).</summary>
    [FieldOffset(1280)]
    public ulong OutOctets;

    /// <summary>The alias up to its terminating NUL (the whole buffer when it has none).</summary>
    public readonly ReadOnlySpan<char> AliasSpan => Terminated(in Alias[0]);

    /// <summary>The description up to its terminating NUL.</summary>
    public readonly ReadOnlySpan<char> DescriptionSpan => Terminated(in Description[0]);

    /// <summary>Sets the alias (tests build rows with it); longer text is cut to fit with its NUL.</summary>
    public void SetAlias(ReadOnlySpan<char> value) => Write(ref Alias[0], value);

    /// <summary>Sets the description (tests build rows with it).</summary>
    public void SetDescription(ReadOnlySpan<char> value) => Write(ref Description[0], value);

    private static ReadOnlySpan<char> Terminated(in char first)
    {
        ReadOnlySpan<char> all = MemoryMarshal.CreateReadOnlySpan(in first, StringLength);
        int end = all.IndexOf('\0');
        return end < 0 ? all : all[..end];
    }

    private static void Write(ref char first, ReadOnlySpan<char> value)
    {
        Span<char> all = MemoryMarshal.CreateSpan(ref first, StringLength);
        all.Clear();
        value[..Math.Min(value.Length, StringLength - 1)].CopyTo(all);
    }
}
