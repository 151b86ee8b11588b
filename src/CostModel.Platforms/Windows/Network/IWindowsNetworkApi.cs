using System.Net.Sockets;

namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// The IP Helper calls the network probe makes, raw: Win32 error codes and the SDK's row. The
/// real one is <see cref="Win32NetworkApi"/>; tests fake the rows to drive every case on any OS.
/// </summary>
internal interface IWindowsNetworkApi
{
    /// <summary>
    /// <c>GetBestInterfaceEx</c> towards <see cref="Win32NetworkApi.RouteProbeIPv4"/> or
    /// <see cref="Win32NetworkApi.RouteProbeIPv6"/>: the interface the routing table would send a
    /// packet to the internet through. A route lookup only: no packet is sent.
    /// </summary>
    /// <param name="family"><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</param>
    /// <param name="interfaceIndex">The interface index (NET_IFINDEX) when the call succeeds.</param>
    /// <returns>0 (NO_ERROR) or a Win32 error code.</returns>
    uint GetBestInterface(AddressFamily family, out uint interfaceIndex);

    /// <summary><c>GetIfEntry2</c>: fills <paramref name="row"/> for its <see cref="MibIfRow2.InterfaceIndex"/> (the LUID is zeroed first, so the index is what selects).</summary>
    /// <returns>0 (NO_ERROR) or a Win32 error code (ERROR_FILE_NOT_FOUND when the interface is gone).</returns>
    uint GetIfEntry(ref MibIfRow2 row);
}
