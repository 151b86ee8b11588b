using System.Runtime.InteropServices;

namespace CostModel.Platforms.Gpu;

/// <summary>
/// NVML loaded at run time with <see cref="NativeLibrary.TryLoad(string, out nint)"/>, called
/// through unmanaged function pointers: nothing is bound at type load (no <c>DllImport</c> that
/// would throw <see cref="DllNotFoundException"/> on a machine without the driver), no
/// marshalling stubs, AOT-safe. Functions this driver's NVML lacks are null and answer
/// <see cref="NvmlReturn.FunctionNotFound"/>.
/// </summary>
/// <remarks>
/// The library handle is never freed: NVML is reference counted by <c>nvmlInit</c>/<c>nvmlShutdown</c>,
/// and keeping the mapping means a call racing disposal gets <c>NVML_ERROR_UNINITIALIZED</c>
/// instead of jumping into unmapped code. NVML is documented as thread-safe.
/// </remarks>
internal sealed unsafe class NvmlLibrary : INvmlApi
{
    /// <summary>
    /// Where NVML lives. Linux: the driver's runtime library (the unversioned <c>libnvidia-ml.so</c>
    /// only comes with development packages). Windows: <c>nvml.dll</c> in System32 since driver
    /// R418, and in <c>NVSMI</c> before that.
    /// </summary>
    internal static IReadOnlyList<string> LibraryCandidates { get; } = OperatingSystem.IsWindows()
        ? ["nvml.dll", System.IO.Path.Combine(Environment.GetEnvironmentVariable("ProgramW6432") ?? @"C:\Program Files", "NVIDIA Corporation", "NVSMI", "nvml.dll")]
        : ["libnvidia-ml.so.1"];

    private readonly delegate* unmanaged[Cdecl]<NvmlReturn> _init;
    private readonly delegate* unmanaged[Cdecl]<NvmlReturn> _shutdown;
    private readonly delegate* unmanaged[Cdecl]<uint*, NvmlReturn> _getCount;
    private readonly delegate* unmanaged[Cdecl]<uint, nint*, NvmlReturn> _getHandleByIndex;
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, uint, NvmlReturn> _getName;
    private readonly delegate* unmanaged[Cdecl]<nint, NvmlUtilization*, NvmlReturn> _getUtilizationRates;
    private readonly delegate* unmanaged[Cdecl]<nint, NvmlMemory*, NvmlReturn> _getMemoryInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, int, uint*, NvmlReturn> _getTemperature;
    private readonly delegate* unmanaged[Cdecl]<nint, uint*, NvmlReturn> _getPowerUsage;
    private readonly delegate* unmanaged[Cdecl]<nint, ulong*, NvmlReturn> _getClocksEventReasons;
    private readonly delegate* unmanaged[Cdecl]<nint, uint*, uint*, NvmlReturn> _getMigMode;

    private NvmlLibrary(nint library, string path)
    {
        Path = path;
        _init = (delegate* unmanaged[Cdecl]<NvmlReturn>)Export(library, "nvmlInit_v2");
        _shutdown = (delegate* unmanaged[Cdecl]<NvmlReturn>)Export(library, "nvmlShutdown");
        _getCount = (delegate* unmanaged[Cdecl]<uint*, NvmlReturn>)Export(library, "nvmlDeviceGetCount_v2");
        _getHandleByIndex = (delegate* unmanaged[Cdecl]<uint, nint*, NvmlReturn>)Export(library, "nvmlDeviceGetHandleByIndex_v2");
        _getName = (delegate* unmanaged[Cdecl]<nint, byte*, uint, NvmlReturn>)Export(library, "nvmlDeviceGetName");
        _getUtilizationRates = (delegate* unmanaged[Cdecl]<nint, NvmlUtilization*, NvmlReturn>)Export(library, "nvmlDeviceGetUtilizationRates");
        _getMemoryInfo = (delegate* unmanaged[Cdecl]<nint, NvmlMemory*, NvmlReturn>)Export(library, "nvmlDeviceGetMemoryInfo");
        _getTemperature = (delegate* unmanaged[Cdecl]<nint, int, uint*, NvmlReturn>)Export(library, "nvmlDeviceGetTemperature");
        _getPowerUsage = (delegate* unmanaged[Cdecl]<nint, uint*, NvmlReturn>)Export(library, "nvmlDeviceGetPowerUsage");

        // Renamed in R535; the old name stays exported for compatibility. Prefer the new one.
        nint reasons = Export(library, "nvmlDeviceGetCurrentClocksEventReasons");
        if (reasons == 0)
        {
            reasons = Export(library, "nvmlDeviceGetCurrentClocksThrottleReasons");
        }

        _getClocksEventReasons = (delegate* unmanaged[Cdecl]<nint, ulong*, NvmlReturn>)reasons;
        _getMigMode = (delegate* unmanaged[Cdecl]<nint, uint*, uint*, NvmlReturn>)Export(library, "nvmlDeviceGetMigMode");
    }

    /// <summary>The library that was loaded.</summary>
    public string Path { get; }

    /// <summary>
    /// Loads NVML. Null when no candidate loads (no NVIDIA driver, or a container without the
    /// driver's libraries mounted) or when one loads but lacks the entry points every driver since
    /// R418 has; <paramref name="reason"/> says which.
    /// </summary>
    public static NvmlLibrary? TryLoad(out string reason) => TryLoad(LibraryCandidates, out reason);

    internal static NvmlLibrary? TryLoad(IReadOnlyList<string> candidates, out string reason)
    {
        foreach (string candidate in candidates)
        {
            if (!NativeLibrary.TryLoad(candidate, out nint library))
            {
                continue;
            }

            var nvml = new NvmlLibrary(library, candidate);
            if (nvml._init == null || nvml._shutdown == null || nvml._getCount == null || nvml._getHandleByIndex == null || nvml._getName == null)
            {
                reason = $"{candidate} loaded but lacks nvmlInit_v2/nvmlDeviceGetCount_v2/nvmlDeviceGetHandleByIndex_v2 (NVML older than driver R418)";
                return null;
            }

            reason = candidate;
            return nvml;
        }

        reason = $"{string.Join(" or ", candidates)} could not be loaded (no NVIDIA driver, or its libraries are not visible to this process)";
        return null;
    }

    public NvmlReturn Init() => _init();

    public NvmlReturn Shutdown() => _shutdown();

    public NvmlReturn DeviceGetCount(out uint count)
    {
        uint value = 0;
        NvmlReturn result = _getCount(&value);
        count = value;
        return result;
    }

    public NvmlReturn DeviceGetHandleByIndex(uint index, out nint device)
    {
        nint handle = 0;
        NvmlReturn result = _getHandleByIndex(index, &handle);
        device = handle;
        return result;
    }

    public NvmlReturn DeviceGetName(nint device, Span<byte> name)
    {
        fixed (byte* buffer = name)
        {
            return _getName(device, buffer, (uint)name.Length);
        }
    }

    public NvmlReturn DeviceGetUtilizationRates(nint device, out NvmlUtilization utilization)
    {
        utilization = default;
        if (_getUtilizationRates == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        fixed (NvmlUtilization* value = &utilization)
        {
            return _getUtilizationRates(device, value);
        }
    }

    public NvmlReturn DeviceGetMemoryInfo(nint device, out NvmlMemory memory)
    {
        memory = default;
        if (_getMemoryInfo == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        fixed (NvmlMemory* value = &memory)
        {
            return _getMemoryInfo(device, value);
        }
    }

    public NvmlReturn DeviceGetTemperature(nint device, int sensor, out uint celsius)
    {
        celsius = 0;
        if (_getTemperature == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        uint value = 0;
        NvmlReturn result = _getTemperature(device, sensor, &value);
        celsius = value;
        return result;
    }

    public NvmlReturn DeviceGetPowerUsage(nint device, out uint milliwatts)
    {
        milliwatts = 0;
        if (_getPowerUsage == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        uint value = 0;
        NvmlReturn result = _getPowerUsage(device, &value);
        milliwatts = value;
        return result;
    }

    public NvmlReturn DeviceGetCurrentClocksEventReasons(nint device, out ulong reasons)
    {
        reasons = 0;
        if (_getClocksEventReasons == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        ulong value = 0;
        NvmlReturn result = _getClocksEventReasons(device, &value);
        reasons = value;
        return result;
    }

    public NvmlReturn DeviceGetMigMode(nint device, out uint currentMode, out uint pendingMode)
    {
        currentMode = 0;
        pendingMode = 0;
        if (_getMigMode == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        uint current = 0;
        uint pending = 0;
        NvmlReturn result = _getMigMode(device, &current, &pending);
        currentMode = current;
        pendingMode = pending;
        return result;
    }

    private static nint Export(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out nint address) ? address : 0;
}
