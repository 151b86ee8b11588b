using System.Collections.Immutable;

namespace CostModel.Factors;

/// <summary>The node's GPUs.</summary>
public sealed record GpuFactors
{
    /// <summary>
    /// How many GPUs were found, with the quality of the search: Measured 0 means none present;
    /// NotSupported or Unknown means the node cannot tell (the reason says why).
    /// </summary>
    public Reading<int> DeviceCount { get; init => field = FactorGuard.NonNegative(value, nameof(DeviceCount)); }

    /// <summary>One entry per GPU that was found.</summary>
    public ImmutableArray<GpuDevice> Devices { get; init => field = value.IsDefault ? [] : value; } = [];
}

/// <summary>One GPU.</summary>
public sealed record GpuDevice
{
    /// <summary>
    /// The index the interface that read this device gives it: NVML's device index for an NVIDIA GPU
    /// read through NVML or nvidia-smi, the DRM card number on Linux (card0), DXGI's adapter ordinal
    /// on Windows, the accelerator's place in IOKit's list on macOS. Unique within one interface, not
    /// across them: a laptop's Intel GPU (DXGI ordinal 0) and its NVIDIA GPU (NVML index 0) may both
    /// be 0. Not an identity; <see cref="Name"/> and <see cref="Vendor"/> tell devices apart for a person.
    /// </summary>
    public int Index { get; init => field = FactorGuard.NonNegative(value, nameof(Index)); }

    /// <summary>Who made it.</summary>
    public GpuVendor Vendor { get; init; }

    /// <summary>The product name the driver reports (at most 64 characters; an unpaired surrogate in it is kept as U+FFFD, as JSON and gossip carry it).</summary>
    public string Name { get; init => field = FactorGuard.Label(value, MaxNameLength, nameof(Name)); } = "unnamed";

    /// <summary>Busy share of the GPU, 0 to 1 (the busiest engine).</summary>
    public Reading<double> Utilization { get; init => field = FactorGuard.Range(value, 0, 1, nameof(Utilization)); }

    /// <summary>Device memory in use, in bytes.</summary>
    public Reading<long> MemoryUsedBytes { get; init => field = FactorGuard.NonNegative(value, nameof(MemoryUsedBytes)); }

    /// <summary>Device memory in total, in bytes.</summary>
    public Reading<long> MemoryTotalBytes { get; init => field = FactorGuard.NonNegative(value, nameof(MemoryTotalBytes)); }

    /// <summary>Core temperature in degrees Celsius.</summary>
    public Reading<double> TemperatureCelsius { get; init => field = FactorGuard.Range(value, ThermalFactors.MinPlausibleCelsius, ThermalFactors.MaxPlausibleCelsius, nameof(TemperatureCelsius)); }

    /// <summary>Power draw in watts.</summary>
    public Reading<double> PowerWatts { get; init => field = FactorGuard.Range(value, 0, MaxGpuWatts, nameof(PowerWatts)); }

    /// <summary>True when the driver reports the clocks held down for heat or power.</summary>
    public Reading<bool> Throttled { get; init; }

    /// <summary>64 characters: the longest device name the model keeps.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// 5 kW: the most one device may draw in the model. A single accelerator board draws under 2 kW
    /// (an H200 NVL 600 W, a GB200 superchip 2.7 kW for two GPUs and a CPU); 5 kW rejects absurd
    /// values without limiting real hardware.
    /// </summary>
    public const double MaxGpuWatts = 5_000;
}
