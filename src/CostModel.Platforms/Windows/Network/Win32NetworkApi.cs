using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// The real IP Helper calls (iphlpapi.dll, source-generated <see cref="LibraryImportAttribute"/>
/// stubs: no marshalling, AOT-clean). Stateless and thread-safe; every call is a user-mode call
/// into the TCP/IP stack's NSI, no elevation needed.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed partial class Win32NetworkApi : IWindowsNetworkApi
{
    /// <summary>8.8.8.8: a public IPv4 address, so the lookup resolves through the default route and no more specific one. Only the routing table is consulted.</summary>
    internal static readonly byte[] RouteProbeIPv4 = [8, 8, 8, 8];

    /// <summary>2001:4860:4860::8888: a public IPv6 address, for the IPv6 fallback when IPv4 has no route.</summary>
    internal static readonly byte[] RouteProbeIPv6 = [0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88];

    // ws2def.h: AF_INET 2, AF_INET6 23 (Windows' value, unlike Linux's 10).
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 23;

    // sizeof(SOCKADDR_IN) 16 and sizeof(SOCKADDR_IN6) 28; the buffer holds either.
    private const int SockaddrIn6Size = 28;

    /// <summary>The one instance (the class holds no state).</summary>
    public static Win32NetworkApi Instance { get; } = new();

    public unsafe uint GetBestInterface(AddressFamily family, out uint interfaceIndex)
    {
        byte* address = stackalloc byte[SockaddrIn6Size];
        var span = new Span<byte>(address, SockaddrIn6Size);
        span.Clear();
        if (family == AddressFamily.InterNetworkV6)
        {
            // SOCKADDR_IN6: family, port, flowinfo, 16-byte address, scope id.
            BinaryPrimitives.WriteUInt16LittleEndian(span, AfInet6);
            RouteProbeIPv6.CopyTo(span[8..]);
        }
        else
        {
            // SOCKADDR_IN: family, port, 4-byte address, 8 bytes of zero.
            BinaryPrimitives.WriteUInt16LittleEndian(span, AfInet);
            RouteProbeIPv4.CopyTo(span[4..]);
        }

        uint index = 0;
        uint error = GetBestInterfaceEx(address, &index);
        interfaceIndex = index;
        return error;
    }

    public unsafe uint GetIfEntry(ref MibIfRow2 row)
    {
        row.InterfaceLuid = 0;
        fixed (MibIfRow2* p = &row)
        {
            return GetIfEntry2(p);
        }
    }

    [LibraryImport("iphlpapi.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static unsafe partial uint GetBestInterfaceEx(byte* destinationAddress, uint* bestIfIndex);

    [LibraryImport("iphlpapi.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static unsafe partial uint GetIfEntry2(MibIfRow2* row);
}
