using System.Globalization;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Linux.Gpu;

/// <summary>A PCI display controller: its address and ids.</summary>
/// <param name="Slot">The PCI address ("0000:18:00.0").</param>
/// <param name="DeviceId">The device id as sysfs prints it ("0x2330").</param>
internal readonly record struct PciDisplayDevice(string Slot, string DeviceId);

/// <summary>
/// Finds NVIDIA GPUs on the PCI bus (<c>&lt;SysRoot&gt;/bus/pci/devices/*/{vendor,class}</c>),
/// whatever driver is bound: used only when neither NVML nor nvidia-smi can read them, so that a
/// node with GPUs it cannot read says so instead of reporting none.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class PciDisplayScan
{
    /// <summary>PCI base class 0x03: display controller (0x0300 VGA, 0x0302 3D controller such as an H100).</summary>
    private const int DisplayControllerClass = 0x03;

    /// <summary>Lists the display controllers of <paramref name="vendorId"/>, sorted by address (NVML's default order).</summary>
    /// <returns>
    /// False when the PCI tree cannot be listed, or a function's <c>vendor</c> or <c>class</c>
    /// exists but cannot be read (it may be such a controller); <paramref name="error"/> says why.
    /// The functions that could be read are listed either way.
    /// </returns>
    public static bool TryScan(string sysRoot, string vendorId, List<PciDisplayDevice> into, out string? error)
    {
        string devices = Path.Combine(sysRoot, "bus", "pci", "devices");
        error = null;
        try
        {
            if (!Directory.Exists(devices))
            {
                // No PCI bus (some Arm boards, some containers): nothing to find.
                return true;
            }

            foreach (string entry in Directory.EnumerateFileSystemEntries(devices))
            {
                if (!DrmGpuReader.TryReadOptionalText(Path.Combine(entry, "vendor"), out string? vendor, out string? failure, out _))
                {
                    error ??= $"cannot tell whether {Path.GetFileName(entry)} is a GPU: {failure}";
                    continue;
                }

                if (!string.Equals(vendor, vendorId, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (!DrmGpuReader.TryReadOptionalText(Path.Combine(entry, "class"), out string? pciClass, out failure, out _))
                {
                    error ??= $"cannot tell whether {Path.GetFileName(entry)} is a GPU: {failure}";
                    continue;
                }

                if (pciClass is null || !TryParseClass(pciClass, out int classCode) || classCode >> 16 != DisplayControllerClass)
                {
                    continue;
                }

                into.Add(new PciDisplayDevice(Path.GetFileName(entry), DrmGpuReader.ReadText(Path.Combine(entry, "device")) ?? "?"));
            }

            into.Sort(static (a, b) => string.CompareOrdinal(a.Slot, b.Slot));
            return error is null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"cannot list {devices}: {ex.Message}";
            return false;
        }
    }

    private static bool TryParseClass(string text, out int value)
    {
        ReadOnlySpan<char> hex = text.AsSpan().Trim();
        if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[2..];
        }

        return int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
