using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Network;

/// <summary>Whether this Windows process runs under Wine, whose stubs answer some calls with made-up values.</summary>
internal static class WineHost
{
    /// <summary>True when ntdll exports <c>wine_get_version</c> (Wine's own ntdll does; Windows' never has).</summary>
    public static bool IsWine { get; } = OperatingSystem.IsWindows()
        && NativeLibrary.TryLoad("ntdll.dll", out nint ntdll)
        && NativeLibrary.TryGetExport(ntdll, "wine_get_version", out _);
}
