using System.Globalization;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Gpu;

/// <summary>
/// Reads NVIDIA GPUs through NVML (any <see cref="INvmlApi"/>) into <see cref="GpuDevice"/>
/// records: initialises NVML once, lazily and thread-safely; lists the devices on
/// <see cref="TryDiscover"/>; on <see cref="Read"/> asks each device for utilisation, memory,
/// temperature, power and clock event reasons, and maps each NVML return code to a reading:
/// success to Measured (with range checks), <c>NVML_ERROR_NOT_SUPPORTED</c> and a missing
/// function to NotSupported (MIG mode named as the reason for utilisation), every other code
/// to Unknown with NVML's error text, reported to <see cref="IProbeFailureReporter"/>.
/// </summary>
/// <remarks>
/// <see cref="Read"/> is called from one thread at a time (the collector's); <see cref="Dispose"/>
/// may come from another, so initialisation and shutdown are under a lock. The hot path
/// allocates only the <see cref="GpuDevice"/> records: reasons for the steady states
/// (not supported, MIG) are constants, and strings are built only on failure.
/// </remarks>
internal sealed class NvmlGpuReader : IDisposable
{
    /// <summary>More GPUs than any NVML build supports in one node (DGX/HGX: 8 or 16); a larger count is garbage.</summary>
    internal const int MaxDevices = 64;

    private const string UtilizationFunction = "nvmlDeviceGetUtilizationRates";
    private const string MemoryFunction = "nvmlDeviceGetMemoryInfo";
    private const string TemperatureFunction = "nvmlDeviceGetTemperature";
    private const string PowerFunction = "nvmlDeviceGetPowerUsage";
    private const string ReasonsFunction = "nvmlDeviceGetCurrentClocksEventReasons";

    private const string NotSupportedSuffix = " returned NVML_ERROR_NOT_SUPPORTED: this GPU or driver does not report it";
    private const string MissingSuffix = " is not exported by the loaded NVML (driver too old)";

    /// <summary>The reason when utilisation is not supported on a GPU in MIG mode.</summary>
    internal const string MigReason =
        "MIG mode: NVML reports no whole-GPU utilisation while MIG is enabled (" + UtilizationFunction + " returned NVML_ERROR_NOT_SUPPORTED)";

    private static readonly Field Utilization = new(UtilizationFunction, "nvml:" + UtilizationFunction);
    private static readonly Field Memory = new(MemoryFunction, "nvml:" + MemoryFunction);
    private static readonly Field Temperature = new(TemperatureFunction, "nvml:" + TemperatureFunction);
    private static readonly Field Power = new(PowerFunction, "nvml:" + PowerFunction);
    private static readonly Field Reasons = new(ReasonsFunction, "nvml:" + ReasonsFunction);

    private readonly INvmlApi _api;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probe;
    private readonly Lock _lock = new();
    private bool _initialized;
    private bool _disposed;
    private Device[] _devices = [];

    public NvmlGpuReader(INvmlApi api, IProbeFailureReporter failures, string probeName)
    {
        _api = api;
        _failures = failures;
        _probe = probeName;
    }

    /// <summary>How many devices the last successful discovery found.</summary>
    public int Count => _devices.Length;

    /// <summary>True after a read failed in a way that may mean the device list changed (GPU lost, NVML reinitialised).</summary>
    public bool NeedsRediscovery { get; private set; }

    /// <summary>
    /// Initialises NVML if not yet done (a failed initialisation is tried again on the next
    /// discovery), counts the devices and gets each one's handle, name and MIG mode.
    /// </summary>
    /// <param name="failure">Why NVML could not list devices, or null.</param>
    /// <returns>False when NVML could not be initialised or could not count devices.</returns>
    public bool TryDiscover(out string? failure)
    {
        NeedsRediscovery = false;
        NvmlReturn result = EnsureInitialized();
        if (result != NvmlReturn.Success)
        {
            _devices = [];
            failure = "nvmlInit_v2 failed: " + NvmlErrors.Describe(result);
            _failures.Report(_probe, NvmlErrors.FailureKind(result), failure);
            return false;
        }

        result = _api.DeviceGetCount(out uint count);
        if (result != NvmlReturn.Success)
        {
            _devices = [];
            failure = "nvmlDeviceGetCount_v2 failed: " + NvmlErrors.Describe(result);
            _failures.Report(_probe, NvmlErrors.FailureKind(result), failure);
            return false;
        }

        if (count > MaxDevices)
        {
            _devices = [];
            failure = string.Create(CultureInfo.InvariantCulture, $"nvmlDeviceGetCount_v2 returned {count} devices, more than the {MaxDevices} any node has");
            _failures.Report(_probe, "out-of-range", failure);
            return false;
        }

        var devices = new Device[count];
        Span<byte> name = stackalloc byte[NvmlConstants.DeviceNameBufferSize];
        for (int i = 0; i < devices.Length; i++)
        {
            string fallbackName = string.Create(CultureInfo.InvariantCulture, $"NVIDIA GPU {i}");
            result = _api.DeviceGetHandleByIndex((uint)i, out nint handle);
            if (result != NvmlReturn.Success)
            {
                string error = string.Create(CultureInfo.InvariantCulture, $"nvmlDeviceGetHandleByIndex_v2({i}) failed: {NvmlErrors.Describe(result)}");
                _failures.Report(_probe, NvmlErrors.FailureKind(result), error);
                devices[i] = new Device(i, 0, fallbackName, migEnabled: false, error);
                continue;
            }

            name.Clear();
            string deviceName = _api.DeviceGetName(handle, name) == NvmlReturn.Success
                ? GpuNames.Sanitize(name, fallbackName)
                : fallbackName;

            // NOT_SUPPORTED (a GPU without MIG) or a missing function (driver before R450) both mean "not in MIG mode".
            bool mig = _api.DeviceGetMigMode(handle, out uint currentMode, out _) == NvmlReturn.Success
                && currentMode == NvmlConstants.DeviceMigEnable;
            devices[i] = new Device(i, handle, deviceName, mig, handleError: null);
        }

        _devices = devices;
        failure = null;
        return true;
    }

    /// <summary>Reads every discovered device into <paramref name="into"/> (length <see cref="Count"/>).</summary>
    public void Read(DateTimeOffset now, Span<GpuDevice> into)
    {
        Device[] devices = _devices;
        for (int i = 0; i < devices.Length && i < into.Length; i++)
        {
            into[i] = ReadDevice(devices[i], now);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_initialized)
            {
                _initialized = false;
                _ = _api.Shutdown();
            }
        }
    }

    private NvmlReturn EnsureInitialized()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return NvmlReturn.Uninitialized;
            }

            if (_initialized)
            {
                return NvmlReturn.Success;
            }

            NvmlReturn result = _api.Init();
            _initialized = result == NvmlReturn.Success;
            return result;
        }
    }

    private GpuDevice ReadDevice(Device device, DateTimeOffset now)
    {
        if (device.HandleError is { } handleError)
        {
            var unknownDouble = Reading.Unknown<double>(handleError, now);
            var unknownLong = Reading.Unknown<long>(handleError, now);
            return new GpuDevice
            {
                Index = device.Index,
                Vendor = GpuVendor.Nvidia,
                Name = device.Name,
                Utilization = unknownDouble,
                MemoryUsedBytes = unknownLong,
                MemoryTotalBytes = unknownLong,
                TemperatureCelsius = unknownDouble,
                PowerWatts = unknownDouble,
                Throttled = Reading.Unknown<bool>(handleError, now),
            };
        }

        nint handle = device.Handle;
        ReadMemory(device, now, out Reading<long> used, out Reading<long> total);
        return new GpuDevice
        {
            Index = device.Index,
            Vendor = GpuVendor.Nvidia,
            Name = device.Name,
            Utilization = ReadUtilization(device, now),
            MemoryUsedBytes = used,
            MemoryTotalBytes = total,
            TemperatureCelsius = ReadTemperature(device, now),
            PowerWatts = ReadPower(device, now),
            Throttled = _api.DeviceGetCurrentClocksEventReasons(handle, out ulong reasons) is var r && r == NvmlReturn.Success
                ? Reading.Measured((reasons & NvmlConstants.HeatOrPowerReasons) != 0, now, Reasons.Source)
                : Failed<bool>(r, Reasons, device, now),
        };
    }

    private Reading<double> ReadUtilization(Device device, DateTimeOffset now)
    {
        NvmlReturn result = _api.DeviceGetUtilizationRates(device.Handle, out NvmlUtilization utilization);
        if (result == NvmlReturn.NotSupported && device.MigEnabled)
        {
            return Reading.NotSupported<double>(MigReason, now);
        }

        if (result != NvmlReturn.Success)
        {
            return Failed<double>(result, Utilization, device, now);
        }

        if (!Plausible.GpuBusyPercent.Contains(utilization.Gpu))
        {
            return OutOfRange<double>(Plausible.GpuBusyPercent, Utilization, device, utilization.Gpu, "%", now);
        }

        // Percent of the last sample period (1/6 s to 1 s) in which a kernel ran -> 0..1.
        return Reading.Measured(utilization.Gpu / 100.0, now, Utilization.Source);
    }

    private void ReadMemory(Device device, DateTimeOffset now, out Reading<long> used, out Reading<long> total)
    {
        NvmlReturn result = _api.DeviceGetMemoryInfo(device.Handle, out NvmlMemory memory);
        if (result != NvmlReturn.Success)
        {
            used = total = Failed<long>(result, Memory, device, now);
            return;
        }

        if (!Plausible.GpuMemoryBytes.Contains(memory.Total))
        {
            used = total = OutOfRange<long>(Plausible.GpuMemoryBytes, Memory, device, memory.Total, " bytes total", now);
            return;
        }

        if (memory.Used > memory.Total)
        {
            string source = string.Create(CultureInfo.InvariantCulture, $"{MemoryFunction} for GPU {device.Index}");
            string reason = Plausible.Exceeds("VRAM used", source, memory.Used.ToString(CultureInfo.InvariantCulture), "VRAM total", source,
                memory.Total.ToString(CultureInfo.InvariantCulture), Plausible.GpuMemoryUsedWhy);
            _failures.Report(_probe, Plausible.OutOfRangeKind, reason);
            used = total = Reading.Unknown<long>(reason, now);
            return;
        }

        used = Reading.Measured((long)memory.Used, now, Memory.Source);
        total = Reading.Measured((long)memory.Total, now, Memory.Source);
    }

    private Reading<double> ReadTemperature(Device device, DateTimeOffset now)
    {
        NvmlReturn result = _api.DeviceGetTemperature(device.Handle, NvmlConstants.TemperatureGpu, out uint celsius);
        if (result != NvmlReturn.Success)
        {
            return Failed<double>(result, Temperature, device, now);
        }

        return Plausible.SensorCelsius.Contains(celsius)
            ? Reading.Measured((double)celsius, now, Temperature.Source)
            : OutOfRange<double>(Plausible.SensorCelsius, Temperature, device, celsius, " C", now);
    }

    private Reading<double> ReadPower(Device device, DateTimeOffset now)
    {
        NvmlReturn result = _api.DeviceGetPowerUsage(device.Handle, out uint milliwatts);
        if (result != NvmlReturn.Success)
        {
            return Failed<double>(result, Power, device, now);
        }

        // Milliwatts, for the whole board (GPU and memory) -> watts.
        double watts = milliwatts / 1000.0;
        return Plausible.GpuPowerWatts.Contains(watts)
            ? Reading.Measured(watts, now, Power.Source)
            : OutOfRange<double>(Plausible.GpuPowerWatts, Power, device, milliwatts, " mW", now);
    }

    private Reading<T> Failed<T>(NvmlReturn result, Field field, Device device, DateTimeOffset now)
        where T : struct
    {
        switch (result)
        {
            case NvmlReturn.NotSupported:
                return Reading.NotSupported<T>(field.NotSupportedReason, now);
            case NvmlReturn.FunctionNotFound:
                return Reading.NotSupported<T>(field.MissingReason, now);
            default:
                string reason = string.Create(CultureInfo.InvariantCulture, $"{field.Function} failed for GPU {device.Index}: {NvmlErrors.Describe(result)}");
                _failures.Report(_probe, NvmlErrors.FailureKind(result), reason);
                if (result is NvmlReturn.GpuIsLost or NvmlReturn.Uninitialized or NvmlReturn.InvalidArgument or NvmlReturn.NotFound or NvmlReturn.ResetRequired)
                {
                    NeedsRediscovery = true;
                }

                return Reading.Unknown<T>(reason, now);
        }
    }

    private Reading<T> OutOfRange<T>(PlausibleRange range, Field field, Device device, ulong value, string unit, DateTimeOffset now)
        where T : struct
    {
        string reason = Plausible.Reason(
            range, string.Create(CultureInfo.InvariantCulture, $"{field.Function} for GPU {device.Index}"), string.Create(CultureInfo.InvariantCulture, $"{value}{unit}"));
        _failures.Report(_probe, Plausible.OutOfRangeKind, reason);
        return Reading.Unknown<T>(reason, now);
    }

    private sealed class Field(string function, string source)
    {
        public string Function { get; } = function;

        public string Source { get; } = source;

        public string NotSupportedReason { get; } = function + NotSupportedSuffix;

        public string MissingReason { get; } = function + MissingSuffix;
    }

    private sealed class Device(int index, nint handle, string name, bool migEnabled, string? handleError)
    {
        public int Index { get; } = index;

        public nint Handle { get; } = handle;

        public string Name { get; } = name;

        public bool MigEnabled { get; } = migEnabled;

        public string? HandleError { get; } = handleError;
    }
}
