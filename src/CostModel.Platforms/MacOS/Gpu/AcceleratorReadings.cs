using System.Globalization;
using CostModel.Factors;
using CostModel.Platforms.Gpu;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Gpu;

/// <summary>
/// Turns the properties of one <c>IOAccelerator</c> service (<see cref="AcceleratorKeys"/>) into a
/// <see cref="GpuDevice"/>: name, vendor, utilisation, memory and the readings macOS cannot give
/// without privileges. Platform-neutral, so it is tested everywhere on recorded <c>ioreg -a</c>
/// output. Every value is checked for kind and range; a value that fails is Unknown with what was
/// found, and is reported to <see cref="IProbeFailureReporter"/>.
/// </summary>
internal sealed class AcceleratorReadings(IProbeFailureReporter failures, string probe)
{
    /// <summary>Where utilisation, memory and temperature come from, for the readings' source.</summary>
    internal const string StatisticsSource = "IOKit IOAccelerator PerformanceStatistics";

    /// <summary>
    /// 1 TiB: the most memory one Mac GPU may report in use or in total. The largest Mac memory is
    /// 512 GB of unified memory (Mac Studio, M3 Ultra, 2025) and the largest discrete Mac GPU has
    /// 64 GB (Radeon Pro Vega II Duo, two 32 GB GPUs); more than twice the first is garbage.
    /// </summary>
    internal const long MaxPlausibleMemoryBytes = 1L << 40;

    /// <summary>
    /// 1024 GPU cores: above any Apple GPU (M3 Ultra has 80, M2 Ultra 76); a larger count is garbage
    /// and is left out of the name.
    /// </summary>
    internal const long MaxPlausibleGpuCores = 1024;

    /// <summary>PCI vendor ids (the PCI-SIG registry).</summary>
    internal const int AppleVendorId = 0x106b;

    /// <inheritdoc cref="AppleVendorId"/>
    internal const int IntelVendorId = 0x8086;

    /// <inheritdoc cref="AppleVendorId"/>
    internal const int AmdVendorId = 0x1002;

    /// <inheritdoc cref="AppleVendorId"/>
    internal const int NvidiaVendorId = 0x10de;

    /// <summary>Why power is not read.</summary>
    internal const string PowerNotSupported =
        "GPU power on macOS comes from the SMC or powermetrics (IOReport energy counters), which need root or a private entitlement";

    /// <summary>Why temperature is not read where the driver publishes none.</summary>
    internal const string TemperatureNotSupported =
        "the GPU driver publishes no temperature; the SMC sensors and powermetrics need root or a private entitlement";

    /// <summary>Why throttling is not read.</summary>
    internal const string ThrottledNotSupported =
        "no public macOS API reports GPU clock throttling (powermetrics needs root)";

    /// <summary>Why a unified or integrated GPU has no memory total.</summary>
    internal const string SharedMemoryTotalNotSupported =
        "the GPU shares the system's memory (unified memory on Apple silicon, shared on Intel graphics): there is no separate GPU total; the compute group reports the system's memory";

    /// <summary>
    /// Why the Neural Engine is not in the GPU list: macOS publishes no utilisation for it (the
    /// ANE registry entries carry no statistics; powermetrics reports its power only, as root).
    /// Documented in docs/macos/gpu.md; the model has no place for it either.
    /// </summary>
    internal const string NeuralEngineNotSupported =
        "the Apple Neural Engine publishes no utilisation through any public API (powermetrics reports its power only, and needs root)";

    private const string DeviceUtilizationSource = StatisticsSource + " \"" + AcceleratorKeys.DeviceUtilization + "\"";
    private const string GpuActivitySource = StatisticsSource + " \"" + AcceleratorKeys.GpuActivity + "\"";
    private const string InUseSystemMemorySource = StatisticsSource + " \"" + AcceleratorKeys.InUseSystemMemory + "\"";
    private const string VramUsedSource = StatisticsSource + " \"" + AcceleratorKeys.VramUsedBytes + "\"";
    private const string TemperatureSource = StatisticsSource + " \"" + AcceleratorKeys.TemperatureCelsius + "\"";
    private const string VramTotalSource = "IOKit IOAccelerator (or its PCI parent) \"" + AcceleratorKeys.VramTotalMB + "\"";

    private const double MinPercent = 0;
    private const double MaxPercent = 100;

    /// <summary>Reads one service's properties as the device at <paramref name="index"/>.</summary>
    public GpuDevice Read(IReadOnlyDictionary<string, object> service, int index, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(service);
        string className = ClassName(service);
        GpuVendor vendor = Vendor(service, className);
        string name = Name(service, className, vendor);
        string where = "IOAccelerator " + className;
        if (!PropertyValues.TryGetDictionary(service, AcceleratorKeys.PerformanceStatistics, out IReadOnlyDictionary<string, object>? statistics))
        {
            string reason = $"{where}: {PropertyValues.Describe(service, AcceleratorKeys.PerformanceStatistics)}";
            failures.Report(probe, service.ContainsKey(AcceleratorKeys.PerformanceStatistics) ? "garbage" : "missing", reason);
            return Device(index, vendor, name, Reading.Unknown<double>(reason, now), Reading.Unknown<long>(reason, now), Reading.Unknown<long>(reason, now),
                Reading.NotSupported<double>(TemperatureNotSupported, now), now);
        }

        (Reading<long> used, Reading<long> total) = Memory(service, statistics, vendor, where, now);
        return Device(index, vendor, name, Utilization(statistics, where, now), used, total, Temperature(statistics, where, now), now);
    }

    private static GpuDevice Device(int index, GpuVendor vendor, string name, Reading<double> utilization, Reading<long> used, Reading<long> total, Reading<double> temperature, DateTimeOffset now) => new()
    {
        Index = index,
        Vendor = vendor,
        Name = name,
        Utilization = utilization,
        MemoryUsedBytes = used,
        MemoryTotalBytes = total,
        TemperatureCelsius = temperature,
        PowerWatts = Reading.NotSupported<double>(PowerNotSupported, now),
        Throttled = Reading.NotSupported<bool>(ThrottledNotSupported, now),
    };

    /// <summary>The driver class (<c>IOClass</c>, else the object's class as ioreg prints it), or "IOAccelerator".</summary>
    internal static string ClassName(IReadOnlyDictionary<string, object> service) =>
        PropertyValues.TryGetString(service, AcceleratorKeys.IOClass, out string? ioClass) && ioClass.Length > 0
            ? GpuNames.Sanitize(ioClass, NativeAcceleratorsClass)
            : PropertyValues.TryGetString(service, AcceleratorKeys.IOObjectClass, out string? objectClass) && objectClass.Length > 0
                ? GpuNames.Sanitize(objectClass, NativeAcceleratorsClass)
                : NativeAcceleratorsClass;

    /// <summary>
    /// The vendor from <c>vendor-id</c> (4 bytes of little-endian data, or an integer); when that is
    /// absent or unknown, from the driver class's prefix (AGX: Apple; Intel; AMD, ATI; NV, GeForce: NVIDIA).
    /// </summary>
    internal static GpuVendor Vendor(IReadOnlyDictionary<string, object> service, string className)
    {
        int? id = service.TryGetValue(AcceleratorKeys.VendorId, out object? raw) ? raw switch
        {
            byte[] { Length: >= 2 } bytes => bytes[0] | (bytes[1] << 8),
            long l when l is >= 0 and <= 0xFFFF => (int)l,
            _ => null,
        } : null;

        GpuVendor fromId = id switch
        {
            AppleVendorId => GpuVendor.Apple,
            IntelVendorId => GpuVendor.Intel,
            AmdVendorId => GpuVendor.Amd,
            NvidiaVendorId => GpuVendor.Nvidia,
            _ => GpuVendor.Other,
        };

        return fromId != GpuVendor.Other ? fromId : VendorFromClass(className);
    }

    private static GpuVendor VendorFromClass(string className) =>
        className.StartsWith("AGX", StringComparison.Ordinal) ? GpuVendor.Apple
        : className.StartsWith("Intel", StringComparison.OrdinalIgnoreCase) ? GpuVendor.Intel
        : className.StartsWith("AMD", StringComparison.OrdinalIgnoreCase) || className.StartsWith("ATI", StringComparison.Ordinal) ? GpuVendor.Amd
        : className.StartsWith("NV", StringComparison.OrdinalIgnoreCase) || className.Contains("GeForce", StringComparison.OrdinalIgnoreCase) ? GpuVendor.Nvidia
        : GpuVendor.Other;

    /// <summary>
    /// <c>model</c> (a string, or NUL-terminated data), with Apple silicon's core count as Apple
    /// writes it ("Apple M1 Pro (16-core GPU)"); without a model, the vendor's name and the driver class.
    /// </summary>
    internal static string Name(IReadOnlyDictionary<string, object> service, string className, GpuVendor vendor)
    {
        // Cut to the model's 64 characters like any name: the class fits alone, not always with the vendor around it.
        string fallback = GpuNames.Sanitize(vendor switch
        {
            GpuVendor.Apple => $"Apple GPU ({className})",
            GpuVendor.Intel => $"Intel GPU ({className})",
            GpuVendor.Amd => $"AMD GPU ({className})",
            GpuVendor.Nvidia => $"NVIDIA GPU ({className})",
            _ => className,
        }, NativeAcceleratorsClass);

        string model = service.TryGetValue(AcceleratorKeys.Model, out object? raw) ? raw switch
        {
            string s => GpuNames.Sanitize(s, fallback),
            byte[] bytes => GpuNames.Sanitize(bytes, fallback),
            _ => fallback,
        } : fallback;

        if (PropertyValues.TryGetInt64(service, AcceleratorKeys.GpuCoreCount, out long cores) && cores is > 0 and <= MaxPlausibleGpuCores)
        {
            model = GpuNames.Sanitize(string.Create(CultureInfo.InvariantCulture, $"{model} ({cores}-core GPU)"), model);
        }

        return model;
    }

    private Reading<double> Utilization(IReadOnlyDictionary<string, object> statistics, string where, DateTimeOffset now)
    {
        string key = statistics.ContainsKey(AcceleratorKeys.DeviceUtilization) || !statistics.ContainsKey(AcceleratorKeys.GpuActivity)
            ? AcceleratorKeys.DeviceUtilization
            : AcceleratorKeys.GpuActivity;
        if (!PropertyValues.TryGetDouble(statistics, key, out double percent))
        {
            string reason = $"{where}: PerformanceStatistics: {PropertyValues.Describe(statistics, key)}";
            failures.Report(probe, statistics.ContainsKey(key) ? "garbage" : "missing", reason);
            return Reading.Unknown<double>(reason, now);
        }

        if (percent is < MinPercent or > MaxPercent)
        {
            // Seen on Intel Macs: exelban/stats issue 649, "Intel GPU reports more than 100% usage".
            string reason = string.Create(CultureInfo.InvariantCulture, $"{where}: PerformanceStatistics: {PropertyValues.Describe(statistics, key)}, outside {MinPercent}..{MaxPercent}");
            failures.Report(probe, "out-of-range", reason);
            return Reading.Unknown<double>(reason, now);
        }

        return Reading.Measured(percent / 100, now, key == AcceleratorKeys.DeviceUtilization ? DeviceUtilizationSource : GpuActivitySource);
    }

    private (Reading<long> Used, Reading<long> Total) Memory(
        IReadOnlyDictionary<string, object> service, IReadOnlyDictionary<string, object> statistics, GpuVendor vendor, string where, DateTimeOffset now)
    {
        // A dedicated GPU's memory is its VRAM; an integrated or unified one's is system memory with no total of its own.
        bool vram = statistics.ContainsKey(AcceleratorKeys.VramUsedBytes);
        bool dedicated = vram || vendor is GpuVendor.Amd or GpuVendor.Nvidia;
        string usedKey = vram ? AcceleratorKeys.VramUsedBytes : AcceleratorKeys.InUseSystemMemory;
        Reading<long> used = Bytes(statistics, usedKey, 1, where, "PerformanceStatistics: ", vram ? VramUsedSource : InUseSystemMemorySource, now);
        Reading<long> total = dedicated
            ? Bytes(service, AcceleratorKeys.VramTotalMB, 1L << 20, where, string.Empty, VramTotalSource, now)
            : Reading.NotSupported<long>(vendor is GpuVendor.Apple or GpuVendor.Intel
                ? SharedMemoryTotalNotSupported
                : $"{where}: an integrated GPU of an unknown vendor with no {AcceleratorKeys.VramUsedBytes}: the driver publishes no memory total", now);

        return (used, total);
    }

    private Reading<long> Bytes(IReadOnlyDictionary<string, object> properties, string key, long unitBytes, string where, string within, string source, DateTimeOffset now)
    {
        if (!PropertyValues.TryGetInt64(properties, key, out long raw))
        {
            string reason = $"{where}: {within}{PropertyValues.Describe(properties, key)}";
            failures.Report(probe, properties.ContainsKey(key) ? "garbage" : "missing", reason);
            return Reading.Unknown<long>(reason, now);
        }

        if (raw < 0 || raw > MaxPlausibleMemoryBytes / unitBytes)
        {
            string reason = string.Create(CultureInfo.InvariantCulture, $"{where}: {within}{PropertyValues.Describe(properties, key)}, outside 0..{MaxPlausibleMemoryBytes / unitBytes}");
            failures.Report(probe, "out-of-range", reason);
            return Reading.Unknown<long>(reason, now);
        }

        return Reading.Measured(raw * unitBytes, now, source);
    }

    private Reading<double> Temperature(IReadOnlyDictionary<string, object> statistics, string where, DateTimeOffset now)
    {
        // AMD drivers publish it; 0 means "not read" there (exelban/stats treats it the same way).
        if (!statistics.TryGetValue(AcceleratorKeys.TemperatureCelsius, out object? raw) || raw is 0L or 0.0)
        {
            return Reading.NotSupported<double>(TemperatureNotSupported, now);
        }

        if (!PropertyValues.TryGetDouble(statistics, AcceleratorKeys.TemperatureCelsius, out double celsius)
            || celsius is < ThermalFactors.MinPlausibleCelsius or > ThermalFactors.MaxPlausibleCelsius)
        {
            string reason = string.Create(CultureInfo.InvariantCulture, $"{where}: PerformanceStatistics: {PropertyValues.Describe(statistics, AcceleratorKeys.TemperatureCelsius)}, not a temperature in {ThermalFactors.MinPlausibleCelsius}..{ThermalFactors.MaxPlausibleCelsius} degrees C");
            failures.Report(probe, "out-of-range", reason);
            return Reading.Unknown<double>(reason, now);
        }

        return Reading.Measured(celsius, now, TemperatureSource);
    }

    private const string NativeAcceleratorsClass = "IOAccelerator";
}
