using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Gpu;
using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Windows.Tests.Gpu;

/// <summary>The real pdh.dll, dxgi.dll and nvml.dll paths: on Windows, and under Wine where they print what Wine returned.</summary>
public class WindowsGpuWin32Tests
{
    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    [SupportedOSPlatform("windows")] // skips with Win32.Require's reason elsewhere
    public void The_real_PDH_calls_answer_with_a_status_and_the_GPU_counters_open_or_say_why_not()
    {
        Win32.Require();
        RealPdh();
    }

    [Fact]
    [SupportedOSPlatform("windows")] // skips with Win32.Require's reason elsewhere
    public void The_real_DXGI_enumeration_completes_or_fails_with_an_HRESULT()
    {
        Win32.Require();
        RealDxgi();
    }

    [Fact]
    [SupportedOSPlatform("windows")] // skips with Win32.Require's reason elsewhere
    public void The_real_probe_collects_and_every_reading_is_a_value_or_has_a_reason()
    {
        Win32.Require();
        RealProbe();
    }

    [Fact]
    [SupportedOSPlatform("windows")]
    public void Under_Wine_the_probe_says_the_GPU_search_and_counters_are_not_supported_with_the_reasons()
    {
        Win32.RequireWine();

        // Wine 8 without a display: CreateDXGIFactory1 answers DXGI_ERROR_UNSUPPORTED, its pdh.dll has no
        // GPU counter sets (PDH_CSTATUS_NO_COUNTER), and there is no nvml.dll.
        var failures = new RecordingProbeFailureReporter();
        using var probe = new WindowsGpuProbe(failures, TimeProvider.System);
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        probe.Collect(snapshot);

        Assert.Equal(SignalQuality.NotSupported, snapshot.Gpu.DeviceCount.Quality);
        Assert.Contains("DXGI_ERROR_UNSUPPORTED", snapshot.Gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Contains("NVML: nvml.dll", snapshot.Gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Empty(snapshot.Gpu.Devices);
        Assert.False(probe.NvmlReady);

        GpuPdhSample sample = probe.LastSample!;
        Assert.Equal(SignalQuality.NotSupported, sample.Engine.Quality);
        Assert.Contains("PDH_CSTATUS_NO_COUNTER", sample.Engine.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, sample.Memory.Quality);
        Assert.Empty(failures.Reports); // lasting absences, not failures
    }

    [SupportedOSPlatform("windows")]
    private static void RealPdh()
    {
        IPdhApi pdh = Win32PdhApi.Instance;
        uint open = pdh.OpenQuery(out nint query);
        Log($"PdhOpenQueryW -> {PdhStatus.Describe(open)}, query {(query != 0 ? "non-null" : "null")}");
        Assert.Equal(PdhStatus.Success, open);
        Assert.NotEqual(0, query);
        try
        {
            foreach (string path in new[] { GpuPdhSampler.EngineCounterPath, GpuPdhSampler.MemoryCounterPath, @"\Processor(*)\% Processor Time", @"\Processor(_Total)\% Processor Time" })
            {
                uint add = pdh.AddEnglishCounter(query, path, out nint counter);
                Log($"PdhAddEnglishCounterW({path}) -> {PdhStatus.Describe(add)}");
                if (add != PdhStatus.Success)
                {
                    continue;
                }

                for (int i = 0; i < 2; i++)
                {
                    uint collect = pdh.CollectQueryData(query);
                    Log($"  PdhCollectQueryData #{i + 1} -> {PdhStatus.Describe(collect)}");
                }

                if (Win32.IsWine)
                {
                    // Wine 8's PdhGetFormattedCounterArrayW is an unimplemented stub: calling it aborts the
                    // thread ("Call from ... to unimplemented function"). The probe never gets here under
                    // Wine, because Wine has no GPU counter sets to add.
                    Log("  PdhGetFormattedCounterArrayW: not called, an unimplemented stub in Wine 8");
                    continue;
                }

                var array = new PdhCounterArray();
                uint read = array.Read(pdh, counter, out string? failure);
                Log($"  PdhGetFormattedCounterArrayW -> {PdhStatus.Describe(read)}{(failure is null ? "" : ": " + failure)}, {array.Count} items, buffer {array.Capacity} bytes");
                for (int i = 0; i < Math.Min(array.Count, 8); i++)
                {
                    array.GetItem(i, out ReadOnlySpan<char> name, out uint status, out double value);
                    Log($"    '{name}' status 0x{status:X8} value {value.ToString("R", CultureInfo.InvariantCulture)}");
                    Assert.False(name.IsEmpty, "a real PDH item has a name inside the buffer");
                }
            }
        }
        finally
        {
            Log($"PdhCloseQuery -> {PdhStatus.Describe(pdh.CloseQuery(query))}");
        }
    }

    [SupportedOSPlatform("windows")]
    private static void RealDxgi()
    {
        DxgiEnumeration listed = Win32DxgiAdapterSource.Instance.Enumerate();
        Log($"DXGI: failure {listed.Failure ?? "none"}, notSupported {listed.NotSupported}, {listed.Adapters.Length} adapters");
        foreach (DxgiAdapterInfo a in listed.Adapters)
        {
            Log(string.Create(CultureInfo.InvariantCulture,
                $"  #{a.Ordinal} '{a.Description}' vendor 0x{a.VendorId:X4} device 0x{a.DeviceId:X4} dedicated {a.DedicatedVideoMemoryBytes} luid 0x{a.Luid:X16} flags {a.Flags}"));
            Assert.True(a.Description.Length <= DxgiAdapterDesc1.DescriptionLength);
        }

        if (listed.Succeeded)
        {
            Assert.InRange(listed.Adapters.Length, 0, Win32DxgiAdapterSource.MaxAdapters);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(listed.Failure));
        }
    }

    [SupportedOSPlatform("windows")]
    private static void RealProbe()
    {
        var failures = new RecordingProbeFailureReporter();
        using var probe = new WindowsGpuProbe(failures, TimeProvider.System);
        probe.OnTimer(); // the second collection, without waiting for the timer
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        probe.Collect(snapshot);
        GpuFactors gpu = snapshot.Gpu;

        Log($"DeviceCount: {gpu.DeviceCount}; NVML ready: {probe.NvmlReady}");
        AssertHonest(gpu.DeviceCount);
        foreach (GpuDevice d in gpu.Devices)
        {
            Log($"  #{d.Index} {d.Vendor} '{d.Name}'");
            Log($"    utilization {d.Utilization}");
            Log($"    memory used {d.MemoryUsedBytes}");
            Log($"    memory total {d.MemoryTotalBytes}");
            Log($"    temperature {d.TemperatureCelsius}");
            Log($"    power {d.PowerWatts}");
            Log($"    throttled {d.Throttled}");
            AssertHonest(d.Utilization);
            AssertHonest(d.MemoryUsedBytes);
            AssertHonest(d.MemoryTotalBytes);
            AssertHonest(d.TemperatureCelsius);
            AssertHonest(d.PowerWatts);
            AssertHonest(d.Throttled);
        }

        foreach ((string p, string kind, string detail) in failures.Reports)
        {
            Log($"  reported {p} {kind}: {detail}");
        }

        // Cost of one pass, after a warm-up.
        probe.Collect(snapshot);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = TimeProvider.System.GetTimestamp();
        const int passes = 1000;
        for (int i = 0; i < passes; i++)
        {
            probe.Collect(snapshot);
        }

        double microseconds = TimeProvider.System.GetElapsedTime(start).TotalMicroseconds / passes;
        long bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / passes;
        Log(string.Create(CultureInfo.InvariantCulture, $"Collect: {microseconds:0.00} us and {bytes} bytes per pass"));

        start = TimeProvider.System.GetTimestamp();
        for (int i = 0; i < 20; i++)
        {
            probe.OnTimer();
        }

        Log(string.Create(CultureInfo.InvariantCulture, $"PDH sample (timer tick): {TimeProvider.System.GetElapsedTime(start).TotalMicroseconds / 20:0.0} us"));
    }

    private static void AssertHonest<T>(Reading<T> reading)
        where T : struct
    {
        if (!reading.HasValue)
        {
            Assert.False(string.IsNullOrWhiteSpace(reading.Reason));
            Assert.NotEqual("not collected", reading.Reason);
        }
    }
}
