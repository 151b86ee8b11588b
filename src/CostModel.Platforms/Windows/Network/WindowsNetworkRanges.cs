
namespace CostModel.Platforms.Windows.Network;

/// <summary>The plausible ranges of the values the Windows network probe reads (reasons built by <see cref="Plausible.Reason"/>).</summary>
internal static class WindowsNetworkRanges
{
    /// <summary>
    /// A link speed of <c>MIB_IF_ROW2</c> (<c>ReceiveLinkSpeed</c>, <c>TransmitLinkSpeed</c>): 1 bit/s
    /// to 8e12 bits/s, ten times the fastest adapters sold (800 Gbit/s). 0 and ULONG64_MAX are the
    /// drivers' "not known" (a disconnected or virtual adapter) and are not failures.
    /// </summary>
    internal static readonly PlausibleRange LinkSpeedBitsPerSecond = new(
        "link speed", 1, 8e12, "bits/s",
        "above 0 and at most ten times the fastest adapters sold (800 Gbit/s)");
}
