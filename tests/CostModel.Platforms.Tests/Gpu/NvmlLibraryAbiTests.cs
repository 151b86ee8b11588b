using System.Diagnostics;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Gpu;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.Gpu;
using Microsoft.Extensions.Time.Testing;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Gpu;

/// <summary>
/// Compiles a stub <c>libnvidia-ml.so</c> from C declarations written as nvml.h writes them, so
/// that <see cref="NvmlLibrary"/>'s function pointers, argument order and struct layouts are
/// exercised through the real C ABI on a machine without a GPU. Skipped without a C compiler.
/// </summary>
public sealed class StubNvmlFixture : IDisposable
{
    // The declarations are nvml.h's; the bodies return fixed values that tell the fields apart.
    private const string Source = """
        #include <string.h>
        typedef struct nvmlDevice_st* nvmlDevice_t;
        typedef enum nvmlReturn_enum { NVML_SUCCESS = 0, NVML_ERROR_UNINITIALIZED = 1, NVML_ERROR_INVALID_ARGUMENT = 2,
            NVML_ERROR_NOT_SUPPORTED = 3, NVML_ERROR_INSUFFICIENT_SIZE = 7 } nvmlReturn_t;
        typedef enum nvmlTemperatureSensors_enum { NVML_TEMPERATURE_GPU = 0 } nvmlTemperatureSensors_t;
        typedef struct nvmlUtilization_st { unsigned int gpu; unsigned int memory; } nvmlUtilization_t;
        typedef struct nvmlMemory_st { unsigned long long total; unsigned long long free; unsigned long long used; } nvmlMemory_t;
        struct nvmlDevice_st { int index; };
        static struct nvmlDevice_st devices[2] = { { 0 }, { 1 } };
        static int initialized;
        nvmlReturn_t nvmlInit_v2(void) { initialized++; return NVML_SUCCESS; }
        nvmlReturn_t nvmlShutdown(void) { if (!initialized) return NVML_ERROR_UNINITIALIZED; initialized--; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount) { if (!initialized) return NVML_ERROR_UNINITIALIZED; *deviceCount = 2; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
            if (!initialized) return NVML_ERROR_UNINITIALIZED; if (index >= 2) return NVML_ERROR_INVALID_ARGUMENT; *device = &devices[index]; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
            const char *n = device->index == 0 ? "NVIDIA H100 80GB HBM3" : "NVIDIA A100-SXM4-40GB";
            if (strlen(n) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE; strcpy(name, n); return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
            if (device->index == 1) return NVML_ERROR_NOT_SUPPORTED; utilization->gpu = 42; utilization->memory = 17; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
            memory->total = 85520809984ULL; memory->used = 595853312ULL; memory->free = memory->total - memory->used; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType, unsigned int *temp) {
            if (sensorType != NVML_TEMPERATURE_GPU) return NVML_ERROR_INVALID_ARGUMENT; *temp = 33 + device->index; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) { *power = 71234 + device->index; return NVML_SUCCESS; }
        #ifdef OLD_DRIVER
        nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *reasons) { *reasons = 0x40ULL; return NVML_SUCCESS; }
        #else
        nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *reasons) { *reasons = device->index == 0 ? 0x4ULL : 0x1ULL; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *reasons) { *reasons = 0xdeadULL; return NVML_SUCCESS; }
        nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode) {
            *currentMode = device->index == 1; *pendingMode = 0; return NVML_SUCCESS; }
        #endif
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("costmodel-nvml-stub-").FullName;

    public StubNvmlFixture()
    {
        if (!OperatingSystem.IsLinux())
        {
            SkipReason = "the stub is a Linux shared object";
            return;
        }

        string? cc = ExecutableSearch.FindOnPath("cc") ?? ExecutableSearch.FindOnPath("gcc");
        if (cc is null)
        {
            SkipReason = "no C compiler (cc) on PATH to build the stub NVML";
            return;
        }

        string source = Path.Combine(_dir, "nvml-stub.c");
        File.WriteAllText(source, Source);
        Current = Compile(cc, source, "libnvml-stub-current.so", []);
        Old = Compile(cc, source, "libnvml-stub-old.so", ["-DOLD_DRIVER"]);
    }

    public string? SkipReason { get; private set; }

    public string Current { get; } = "";

    public string Old { get; } = "";

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Compile(string cc, string source, string output, string[] defines)
    {
        string path = Path.Combine(_dir, output);
        var start = new ProcessStartInfo(cc) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in (string[])[.. defines, "-shared", "-fPIC", "-O1", "-o", path, source])
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            SkipReason = $"cc failed: {errors}";
        }

        return path;
    }
}

[SupportedOSPlatform("linux")]
public sealed class NvmlLibraryAbiTests(StubNvmlFixture stub) : IClassFixture<StubNvmlFixture>
{
    private NvmlLibrary Load(string path)
    {
        if (stub.SkipReason is { } skip)
        {
            Assert.Skip(skip);
        }

        NvmlLibrary? nvml = NvmlLibrary.TryLoad([path], out string reason);
        Assert.True(nvml is not null, reason);
        return nvml;
    }

    [Fact]
    public void Calls_each_NVML_function_through_the_C_ABI_with_nvml_h_layouts()
    {
        NvmlLibrary nvml = Load(stub.Current);

        Assert.Equal(NvmlReturn.Success, nvml.Init());
        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetCount(out uint count));
        Assert.Equal(2u, count);
        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetHandleByIndex(0, out nint h100));
        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetHandleByIndex(1, out nint a100));
        Assert.Equal(NvmlReturn.InvalidArgument, nvml.DeviceGetHandleByIndex(2, out _));
        Assert.NotEqual(h100, a100);

        Span<byte> name = stackalloc byte[NvmlConstants.DeviceNameBufferSize];
        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetName(h100, name));
        Assert.Equal("NVIDIA H100 80GB HBM3", GpuNames.Sanitize(name, "?"));
        Assert.Equal(NvmlReturn.InsufficientSize, nvml.DeviceGetName(h100, name[..8]));

        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetUtilizationRates(h100, out NvmlUtilization utilization));
        Assert.Equal((42u, 17u), (utilization.Gpu, utilization.Memory));
        Assert.Equal(NvmlReturn.NotSupported, nvml.DeviceGetUtilizationRates(a100, out _));

        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetMemoryInfo(h100, out NvmlMemory memory));
        Assert.Equal(85_520_809_984UL, memory.Total);
        Assert.Equal(595_853_312UL, memory.Used);
        Assert.Equal(85_520_809_984UL - 595_853_312UL, memory.Free);

        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetTemperature(a100, NvmlConstants.TemperatureGpu, out uint celsius));
        Assert.Equal(34u, celsius);
        Assert.Equal(NvmlReturn.InvalidArgument, nvml.DeviceGetTemperature(a100, 1, out _));

        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetPowerUsage(a100, out uint milliwatts));
        Assert.Equal(71_235u, milliwatts);

        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetCurrentClocksEventReasons(h100, out ulong reasons));
        Assert.Equal(0x4UL, reasons); // the R535+ name is preferred over the old one (0xdead here)

        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetMigMode(a100, out uint current, out uint pending));
        Assert.Equal((1u, 0u), (current, pending));

        Assert.Equal(NvmlReturn.Success, nvml.Shutdown());
    }

    [Fact]
    public void An_old_driver_is_read_through_the_throttle_reasons_name_and_lacks_MIG()
    {
        NvmlLibrary nvml = Load(stub.Old);
        Assert.Equal(NvmlReturn.Success, nvml.Init());
        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetHandleByIndex(0, out nint gpu));

        Assert.Equal(NvmlReturn.Success, nvml.DeviceGetCurrentClocksEventReasons(gpu, out ulong reasons));
        Assert.Equal(0x40UL, reasons);
        Assert.Equal(NvmlReturn.FunctionNotFound, nvml.DeviceGetMigMode(gpu, out _, out _));
        Assert.Equal(NvmlReturn.Success, nvml.Shutdown());
    }

    [Fact]
    public void The_probe_reads_the_stub_end_to_end()
    {
        if (stub.SkipReason is { } skip)
        {
            Assert.Skip(skip);
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var failures = new RecordingProbeFailureReporter();
        var access = new NvidiaAccess((out string reason) => NvmlLibrary.TryLoad([stub.Current], out reason), () => null, new FakeProcessRunner());
        using var sys = new Linux.GpuSysfsFixture();
        using var probe = new LinuxGpuProbe(new LinuxProbeOptions { SysRoot = sys.Sys }, failures, time, access);
        var snapshot = new SnapshotBuilder(time);

        probe.Collect(snapshot);

        GpuFactors gpu = snapshot.Gpu;
        Assert.Equal(2, gpu.DeviceCount.Value);
        Assert.Equal(0.42, gpu.Devices[0].Utilization.Value, 10);
        Assert.Equal(71.234, gpu.Devices[0].PowerWatts.Value, 10);
        Assert.True(gpu.Devices[0].Throttled.Value);
        Assert.Equal("NVIDIA A100-SXM4-40GB", gpu.Devices[1].Name);
        Assert.StartsWith("MIG mode", gpu.Devices[1].Utilization.Reason, StringComparison.Ordinal);
        Assert.False(gpu.Devices[1].Throttled.Value);
        Assert.Empty(failures.Reports);
    }

    [Fact]
    public void A_library_without_NVML_entry_points_or_no_library_at_all_is_refused_with_the_reason()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("uses libc.so.6");
        }

        Assert.Null(NvmlLibrary.TryLoad(["libc.so.6"], out string notNvml));
        Assert.Contains("lacks nvmlInit_v2", notNvml, StringComparison.Ordinal);

        Assert.Null(NvmlLibrary.TryLoad(["libnvidia-ml-does-not-exist.so.1"], out string missing));
        Assert.Contains("could not be loaded", missing, StringComparison.Ordinal);
    }
}
