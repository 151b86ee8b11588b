using System.Globalization;
using System.Runtime.InteropServices;

namespace CostModel.Platforms.Gpu;

// The NVML types and calls this library uses, transcribed from nvml.h (NVML API version 12; the
// same ABI since the _v2 entry points of driver R418). NVML is the same C API on Linux
// (libnvidia-ml.so.1) and Windows (nvml.dll), so this folder is platform-neutral.

/// <summary><c>nvmlReturn_t</c>: a C enum, 4 bytes.</summary>
internal enum NvmlReturn
{
    Success = 0,
    Uninitialized = 1,
    InvalidArgument = 2,
    NotSupported = 3,
    NoPermission = 4,
    AlreadyInitialized = 5,
    NotFound = 6,
    InsufficientSize = 7,
    InsufficientPower = 8,
    DriverNotLoaded = 9,
    Timeout = 10,
    IrqIssue = 11,
    LibraryNotFound = 12,
    FunctionNotFound = 13,
    CorruptedInforom = 14,
    GpuIsLost = 15,
    ResetRequired = 16,
    OperatingSystem = 17,
    LibRmVersionMismatch = 18,
    InUse = 19,
    Memory = 20,
    NoData = 21,
    VgpuEccNotSupported = 22,
    InsufficientResources = 23,
    FreqNotSupported = 24,
    ArgumentVersionMismatch = 25,
    Deprecated = 26,
    NotReady = 27,
    GpuNotFound = 28,
    InvalidState = 29,
    Unknown = 999,
}

/// <summary><c>nvmlUtilization_t</c>: percent of the last sample period (1/6 s to 1 s) with a kernel running / memory busy.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlUtilization
{
    public uint Gpu;
    public uint Memory;
}

/// <summary><c>nvmlMemory_t</c> (v1): bytes; the field order is total, free, used.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlMemory
{
    public ulong Total;
    public ulong Free;
    public ulong Used;
}

/// <summary>Constants from nvml.h.</summary>
internal static class NvmlConstants
{
    /// <summary><c>NVML_TEMPERATURE_GPU</c>: the GPU die sensor (<c>nvmlTemperatureSensors_t</c>).</summary>
    public const int TemperatureGpu = 0;

    /// <summary><c>NVML_DEVICE_NAME_V2_BUFFER_SIZE</c>: a buffer this size always holds the name and its NUL.</summary>
    public const int DeviceNameBufferSize = 96;

    /// <summary><c>NVML_DEVICE_MIG_ENABLE</c>: the current mode reported by <c>nvmlDeviceGetMigMode</c> when MIG is on.</summary>
    public const uint DeviceMigEnable = 1;

    // nvmlClocksEventReasons (formerly nvmlClocksThrottleReasons); the bits are identical.
    public const ulong ReasonGpuIdle = 0x1;
    public const ulong ReasonApplicationsClocksSetting = 0x2;
    public const ulong ReasonSwPowerCap = 0x4;
    public const ulong ReasonHwSlowdown = 0x8;
    public const ulong ReasonSyncBoost = 0x10;
    public const ulong ReasonSwThermalSlowdown = 0x20;
    public const ulong ReasonHwThermalSlowdown = 0x40;
    public const ulong ReasonHwPowerBrakeSlowdown = 0x80;
    public const ulong ReasonDisplayClockSetting = 0x100;

    /// <summary>
    /// The reasons that mean "clocks held down for heat or power" (<c>GpuDevice.Throttled</c>):
    /// software power cap, hardware slowdown (temperature or power brake, clocks halved or worse),
    /// software and hardware thermal slowdown, power brake. Idle, application clocks, sync boost
    /// and display clocks are not heat or power, and an idle GPU is not throttled.
    /// </summary>
    public const ulong HeatOrPowerReasons =
        ReasonSwPowerCap | ReasonHwSlowdown | ReasonSwThermalSlowdown | ReasonHwThermalSlowdown | ReasonHwPowerBrakeSlowdown;
}

/// <summary>The text of NVML return codes, as <c>nvmlErrorString</c> gives it, so that fakes and the real library explain errors the same way.</summary>
internal static class NvmlErrors
{
    /// <summary>"NVML_ERROR_GPU_IS_LOST (15): GPU is lost".</summary>
    public static string Describe(NvmlReturn code) => code switch
    {
        NvmlReturn.Success => "NVML_SUCCESS (0)",
        NvmlReturn.Uninitialized => "NVML_ERROR_UNINITIALIZED (1): Uninitialized",
        NvmlReturn.InvalidArgument => "NVML_ERROR_INVALID_ARGUMENT (2): Invalid Argument",
        NvmlReturn.NotSupported => "NVML_ERROR_NOT_SUPPORTED (3): Not Supported",
        NvmlReturn.NoPermission => "NVML_ERROR_NO_PERMISSION (4): Insufficient Permissions",
        NvmlReturn.AlreadyInitialized => "NVML_ERROR_ALREADY_INITIALIZED (5): Already Initialized",
        NvmlReturn.NotFound => "NVML_ERROR_NOT_FOUND (6): Not Found",
        NvmlReturn.InsufficientSize => "NVML_ERROR_INSUFFICIENT_SIZE (7): Insufficient Size",
        NvmlReturn.InsufficientPower => "NVML_ERROR_INSUFFICIENT_POWER (8): Insufficient External Power",
        NvmlReturn.DriverNotLoaded => "NVML_ERROR_DRIVER_NOT_LOADED (9): Driver Not Loaded",
        NvmlReturn.Timeout => "NVML_ERROR_TIMEOUT (10): Timeout",
        NvmlReturn.IrqIssue => "NVML_ERROR_IRQ_ISSUE (11): Interrupt request issue",
        NvmlReturn.LibraryNotFound => "NVML_ERROR_LIBRARY_NOT_FOUND (12): NVML Shared Library Not Found",
        NvmlReturn.FunctionNotFound => "NVML_ERROR_FUNCTION_NOT_FOUND (13): Function Not Found",
        NvmlReturn.CorruptedInforom => "NVML_ERROR_CORRUPTED_INFOROM (14): Corrupted infoROM",
        NvmlReturn.GpuIsLost => "NVML_ERROR_GPU_IS_LOST (15): GPU is lost",
        NvmlReturn.ResetRequired => "NVML_ERROR_RESET_REQUIRED (16): GPU requires restart",
        NvmlReturn.OperatingSystem => "NVML_ERROR_OPERATING_SYSTEM (17): The operating system has blocked the request",
        NvmlReturn.LibRmVersionMismatch => "NVML_ERROR_LIB_RM_VERSION_MISMATCH (18): RM has detected an NVML/RM version mismatch (driver updated without a reboot?)",
        NvmlReturn.InUse => "NVML_ERROR_IN_USE (19): In use by another client",
        NvmlReturn.Memory => "NVML_ERROR_MEMORY (20): Insufficient Memory",
        NvmlReturn.NoData => "NVML_ERROR_NO_DATA (21): No data",
        NvmlReturn.VgpuEccNotSupported => "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED (22): vGPU operation not available while ECC is enabled",
        NvmlReturn.InsufficientResources => "NVML_ERROR_INSUFFICIENT_RESOURCES (23): Ran out of critical resources, other than memory",
        NvmlReturn.FreqNotSupported => "NVML_ERROR_FREQ_NOT_SUPPORTED (24): Frequency not supported",
        NvmlReturn.ArgumentVersionMismatch => "NVML_ERROR_ARGUMENT_VERSION_MISMATCH (25): Argument version mismatch",
        NvmlReturn.Deprecated => "NVML_ERROR_DEPRECATED (26): Deprecated",
        NvmlReturn.NotReady => "NVML_ERROR_NOT_READY (27): System not ready",
        NvmlReturn.GpuNotFound => "NVML_ERROR_GPU_NOT_FOUND (28): No GPUs were found",
        NvmlReturn.InvalidState => "NVML_ERROR_INVALID_STATE (29): Invalid state",
        NvmlReturn.Unknown => "NVML_ERROR_UNKNOWN (999): Unknown Error",
        _ => string.Create(CultureInfo.InvariantCulture, $"NVML error {(int)code}"),
    };

    /// <summary>The low-cardinality failure kind for <c>IProbeFailureReporter</c>.</summary>
    public static string FailureKind(NvmlReturn code) => code switch
    {
        NvmlReturn.NoPermission or NvmlReturn.OperatingSystem => "access-denied",
        NvmlReturn.DriverNotLoaded or NvmlReturn.LibraryNotFound or NvmlReturn.GpuNotFound => "missing",
        _ => "io",
    };
}

/// <summary>
/// The NVML calls the GPU probes make, one method per C function, returning NVML's own return
/// code. The real implementation is <see cref="NvmlLibrary"/>; tests use a fake that returns the
/// real codes and structs, so the mapping logic (<see cref="NvmlGpuReader"/>) runs without a GPU.
/// A function the loaded library does not export returns <see cref="NvmlReturn.FunctionNotFound"/>.
/// </summary>
internal interface INvmlApi
{
    /// <summary><c>nvmlReturn_t nvmlInit_v2(void)</c>.</summary>
    NvmlReturn Init();

    /// <summary><c>nvmlReturn_t nvmlShutdown(void)</c>.</summary>
    NvmlReturn Shutdown();

    /// <summary><c>nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)</c>.</summary>
    NvmlReturn DeviceGetCount(out uint count);

    /// <summary><c>nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)</c>.</summary>
    NvmlReturn DeviceGetHandleByIndex(uint index, out nint device);

    /// <summary><c>nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)</c>: NUL-terminated UTF-8.</summary>
    NvmlReturn DeviceGetName(nint device, Span<byte> name);

    /// <summary><c>nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization)</c>.</summary>
    NvmlReturn DeviceGetUtilizationRates(nint device, out NvmlUtilization utilization);

    /// <summary><c>nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)</c>.</summary>
    NvmlReturn DeviceGetMemoryInfo(nint device, out NvmlMemory memory);

    /// <summary><c>nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType, unsigned int *temp)</c>: degrees C.</summary>
    NvmlReturn DeviceGetTemperature(nint device, int sensor, out uint celsius);

    /// <summary><c>nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power)</c>: milliwatts.</summary>
    NvmlReturn DeviceGetPowerUsage(nint device, out uint milliwatts);

    /// <summary>
    /// <c>nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *clocksEventReasons)</c>
    /// (driver R535+), else its older name <c>nvmlDeviceGetCurrentClocksThrottleReasons</c> (same signature and bits).
    /// </summary>
    NvmlReturn DeviceGetCurrentClocksEventReasons(nint device, out ulong reasons);

    /// <summary><c>nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode)</c> (R450+).</summary>
    NvmlReturn DeviceGetMigMode(nint device, out uint currentMode, out uint pendingMode);
}
