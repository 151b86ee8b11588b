using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Gpu;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.Gpu;
using CostModel.Platforms.Tests.Gpu;
using Microsoft.Extensions.Options;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// Runs against the real NVIDIA driver when there is one, and prints what NVML returns (raw and
/// mapped) and what the probe reports. Skips, with the reason, on a machine without NVML. Run:
/// <c>dotnet test tests/CostModel.Platforms.Tests --filter "FullyQualifiedName~NvmlOnThisMachine" --logger "console;verbosity=detailed"</c>.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NvmlOnThisMachineTests
{
    private const int TimedPasses = 200;

    [Fact]
    public void Prints_what_NVML_reads_on_this_machine()
    {
        NvmlLibrary? nvml = NvmlLibrary.TryLoad(out string reason);
        if (nvml is null)
        {
            Assert.Skip($"No NVML on this machine: {reason}");
        }

        var text = new StringBuilder();
        var failures = new RecordingProbeFailureReporter();
        text.AppendLine(CultureInfo.InvariantCulture, $"NVML library: {nvml.Path}");

        // 1. The raw calls, with their return codes, as the C API gives them.
        var reader = new NvmlGpuReader(nvml, failures, "linux.gpu");
        if (!reader.TryDiscover(out string? failure))
        {
            reader.Dispose();
            Assert.Skip($"NVML loaded but cannot list GPUs: {failure}");
        }

        Span<byte> name = stackalloc byte[NvmlConstants.DeviceNameBufferSize];
        for (uint i = 0; i < reader.Count; i++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"raw GPU {i}: nvmlDeviceGetHandleByIndex_v2 -> {nvml.DeviceGetHandleByIndex(i, out nint handle)}");
            name.Clear();
            NvmlReturn r = nvml.DeviceGetName(handle, name);
            text.AppendLine(CultureInfo.InvariantCulture, $"  nvmlDeviceGetName -> {r} '{GpuNames.Sanitize(name, "?")}'");
            r = nvml.DeviceGetUtilizationRates(handle, out NvmlUtilization utilization);
            text.AppendLine(CultureInfo.InvariantCulture, $"  nvmlDeviceGetUtilizationRates -> {r} gpu={utilization.Gpu}% memory={utilization.Memory}%");
            r = nvml.DeviceGetMemoryInfo(handle, out NvmlMemory memory);
            text.AppendLine(CultureInfo.InvariantCulture, $"  nvmlDeviceGetMemoryInfo -> {r} total={memory.Total} free={memory.Free} used={memory.Used} bytes");
            r = nvml.DeviceGetTemperature(handle, NvmlConstants.TemperatureGpu, out uint celsius);
            text.AppendLine(CultureInfo.InvariantCulture, $"  nvmlDeviceGetTemperature(GPU) -> {r} {celsius} C");
            r = nvml.DeviceGetPowerUsage(handle, out uint milliwatts);
            text.AppendLine(CultureInfo.InvariantCulture, $"  nvmlDeviceGetPowerUsage -> {r} {milliwatts} mW");
            r = nvml.DeviceGetCurrentClocksEventReasons(handle, out ulong reasons);
            text.AppendLine(CultureInfo.InvariantCulture, $"  nvmlDeviceGetCurrentClocks(Event|Throttle)Reasons -> {r} 0x{reasons:x16}");
            r = nvml.DeviceGetMigMode(handle, out uint current, out uint pending);
            text.AppendLine(CultureInfo.InvariantCulture, $"  nvmlDeviceGetMigMode -> {r} current={current} pending={pending}");
        }

        var devices = new GpuDevice[reader.Count];
        reader.Read(DateTimeOffset.UnixEpoch.AddDays(1), devices); // warm up (JIT)
        var watch = Stopwatch.StartNew();
        for (int pass = 0; pass < TimedPasses; pass++)
        {
            reader.Read(DateTimeOffset.UnixEpoch.AddDays(1), devices);
        }

        double readerMicroseconds = watch.Elapsed.TotalMicroseconds / TimedPasses;
        reader.Dispose();

        // 2. The probe on the real /sys and NVML, as the collector runs it.
        using var probe = new LinuxGpuProbe(Options.Create(new LinuxProbeOptions()), failures, TimeProvider.System);
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        probe.Collect(snapshot);
        long before = GC.GetAllocatedBytesForCurrentThread();
        watch.Restart();
        for (int pass = 0; pass < TimedPasses; pass++)
        {
            probe.Collect(snapshot);
        }

        double probeMicroseconds = watch.Elapsed.TotalMicroseconds / TimedPasses;
        long bytesPerPass = (GC.GetAllocatedBytesForCurrentThread() - before) / TimedPasses;
        GpuFactors gpu = snapshot.Gpu;

        text.AppendLine(CultureInfo.InvariantCulture, $"probe: NVIDIA path {probe.NvidiaPath}; DeviceCount {gpu.DeviceCount}");
        foreach (GpuDevice device in gpu.Devices)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"GPU {device.Index} {device.Vendor} '{device.Name}'");
            text.AppendLine(CultureInfo.InvariantCulture, $"  Utilization        {device.Utilization}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  MemoryUsedBytes    {device.MemoryUsedBytes}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  MemoryTotalBytes   {device.MemoryTotalBytes}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  TemperatureCelsius {device.TemperatureCelsius}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  PowerWatts         {device.PowerWatts}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  Throttled          {device.Throttled}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"NVML reader: {readerMicroseconds:0.0} us per pass for {devices.Length} GPU(s)");
        text.AppendLine(CultureInfo.InvariantCulture, $"probe: {probeMicroseconds:0.0} us and {bytesPerPass} bytes per Collect");
        foreach ((string _, string kind, string detail) in failures.Reports)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"failure reported: {kind}: {detail}");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(text.ToString());

        // What a working driver must give: every reading a value or an explicit NotSupported, never an error.
        Assert.Equal("nvml", probe.NvidiaPath);
        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        GpuDevice[] nvidia = [.. gpu.Devices.Where(d => d.Vendor == GpuVendor.Nvidia)];
        Assert.Equal(devices.Length, nvidia.Length);
        Assert.All(nvidia, d =>
        {
            Assert.True(d.MemoryTotalBytes.Value > 0);
            Assert.InRange(d.TemperatureCelsius.Value, 0, 120);
            Assert.NotEqual(SignalQuality.Unknown, d.Utilization.Quality);
            Assert.NotEqual(SignalQuality.Unknown, d.PowerWatts.Quality);
            Assert.NotEqual(SignalQuality.Unknown, d.Throttled.Quality);
        });
        Assert.Empty(failures.Reports);
    }
}
