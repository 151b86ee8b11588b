namespace CostModel.Platforms.MacOS.Gpu;

/// <summary>
/// The GPUs' registry entries, as plain values: the seam between the IOKit calls
/// (<see cref="NativeAccelerators"/>) and the logic (<see cref="AcceleratorReadings"/>), so that the
/// logic is tested on readings recorded on real Macs.
/// </summary>
internal interface IMacAcceleratorSource
{
    /// <summary>
    /// Searches the registry for <c>IOAccelerator</c> services and reads the few properties the
    /// probe uses (see <see cref="AcceleratorKeys"/>). Throws <see cref="IOException"/> with the
    /// <c>kern_return_t</c> when the registry cannot be searched, and
    /// <see cref="InvalidDataException"/> when a value crosses the conversion's bounds.
    /// </summary>
    AcceleratorScan Scan();
}

/// <summary>What one registry search found.</summary>
/// <param name="Services">
/// One property dictionary per service, in the registry's order, in the shape
/// <c>ioreg -r -c IOAccelerator -a</c> prints (at most <see cref="AcceleratorKeys.MaxServices"/>).
/// </param>
/// <param name="Found">How many services the search matched, read or not.</param>
internal sealed record AcceleratorScan(IReadOnlyList<IReadOnlyDictionary<string, object>> Services, int Found);

/// <summary>The registry property names the GPU probe reads, and where each one lives.</summary>
internal static class AcceleratorKeys
{
    /// <summary>Services read at most: a Mac has one to three GPUs (Mac Pro 2019: two MPX modules of two GPUs each, plus none integrated).</summary>
    public const int MaxServices = 16;

    /// <summary>The driver's statistics dictionary (on the accelerator).</summary>
    public const string PerformanceStatistics = "PerformanceStatistics";

    /// <summary>The driver class the accelerator matched (a personality property, on the accelerator): AGXAcceleratorG13X, IntelAccelerator, AMDRadeonX6000_AMDNavi14GraphicsAccelerator.</summary>
    public const string IOClass = "IOClass";

    /// <summary>
    /// The object's class name. Not a property: <c>ioreg -a</c> adds it to each entry it prints,
    /// and the native layer adds it from <c>IOObjectGetClass</c>, so both have the same shape.
    /// </summary>
    public const string IOObjectClass = "IOObjectClass";

    /// <summary>The product name: a string on Apple silicon's accelerator ("Apple M1 Pro"), NUL-terminated data on an Intel Mac's PCI display device (the accelerator's parent).</summary>
    public const string Model = "model";

    /// <summary>The PCI vendor id as 4 bytes of data, little-endian (<c>&lt;6b100000&gt;</c> is 0x106b, Apple); on the accelerator on Apple silicon, on its PCI parent otherwise.</summary>
    public const string VendorId = "vendor-id";

    /// <summary>Apple silicon's GPU core count (on the accelerator).</summary>
    public const string GpuCoreCount = "gpu-core-count";

    /// <summary>A discrete GPU's memory in MiB (AMD and NVIDIA drivers on Intel Macs; on the accelerator or its PCI parent).</summary>
    public const string VramTotalMB = "VRAM,totalMB";

    /// <summary>Read from the accelerator itself.</summary>
    public static readonly string[] OnService = [PerformanceStatistics, IOClass, GpuCoreCount, Model, VendorId, VramTotalMB];

    /// <summary>Read from the accelerator's parent in the IOService plane when the accelerator lacks them (Intel Macs keep them on the PCI device).</summary>
    public static readonly string[] OnParent = [Model, VendorId, VramTotalMB];

    // Keys inside PerformanceStatistics.

    /// <summary>The whole GPU's busy share in percent (Apple, Intel and most AMD drivers).</summary>
    public const string DeviceUtilization = "Device Utilization %";

    /// <summary>The busy share in percent that some AMD drivers publish instead (read by exelban/stats' GPU reader as the fallback).</summary>
    public const string GpuActivity = "GPU Activity(%)";

    /// <summary>System memory the GPU has in use, in bytes: unified memory on Apple silicon.</summary>
    public const string InUseSystemMemory = "In use system memory";

    /// <summary>Device memory in use on a discrete GPU, in bytes.</summary>
    public const string VramUsedBytes = "vramUsedBytes";

    /// <summary>The core temperature in degrees Celsius that AMD drivers publish; absent on Apple silicon and Intel.</summary>
    public const string TemperatureCelsius = "Temperature(C)";
}
