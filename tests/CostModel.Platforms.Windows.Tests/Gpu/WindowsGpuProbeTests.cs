using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Gpu;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Gpu;

public class WindowsGpuProbeTests
{
    private const uint NvidiaLuid = 0xC1F2;
    private const uint AmdLuid = 0xD3A1;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero));
    private readonly FakePdh _pdh = new();
    private readonly FakeDxgi _dxgi = new();
    private readonly RecordingProbeFailureReporter _failures = new();

    public WindowsGpuProbeTests()
    {
        _dxgi.Result = FakeDxgi.Of(FakeDxgi.Rtx4090(0, NvidiaLuid), FakeDxgi.Radeon(1, AmdLuid), FakeDxgi.BasicRender(2));
        _pdh.Memory = [new(FakePdh.Adapter(NvidiaLuid), 2_147_483_648), new(FakePdh.Adapter(AmdLuid), 536_870_912), new(FakePdh.Adapter(0xF00D), 0)];
        _pdh.Engines =
        [
            new(FakePdh.Engine(10, NvidiaLuid, 0, "3D"), 35),
            new(FakePdh.Engine(11, NvidiaLuid, 0, "3D"), 15),
            new(FakePdh.Engine(11, NvidiaLuid, 5, "Compute_0"), 62),
            new(FakePdh.Engine(12, AmdLuid, 2, "VideoDecode"), 8),
        ];
    }

    [Fact]
    public void Without_NVML_each_DXGI_GPU_is_listed_with_PDH_utilisation_and_memory_and_the_basic_render_driver_is_not()
    {
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        _time.Advance(WindowsGpuProbe.SampleInterval); // the second PDH collection: rates are ready

        GpuFactors gpu = Collect(probe);

        Assert.Equal(2, gpu.DeviceCount.Value);
        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        Assert.Equal("dxgi", gpu.DeviceCount.Source);
        GpuDevice nvidia = gpu.Devices[0];
        Assert.Equal(0, nvidia.Index);
        Assert.Equal(GpuVendor.Nvidia, nvidia.Vendor);
        Assert.Equal("NVIDIA GeForce RTX 4090", nvidia.Name);
        Assert.Equal(0.62, nvidia.Utilization.Value, 6);
        Assert.Equal(GpuPdhSampler.EngineSource, nvidia.Utilization.Source);
        Assert.Equal(2_147_483_648, nvidia.MemoryUsedBytes.Value);
        Assert.Equal(24L << 30, nvidia.MemoryTotalBytes.Value);
        Assert.Equal(WindowsGpuProbe.DxgiSource, nvidia.MemoryTotalBytes.Source);
        Assert.Equal(SignalQuality.NotSupported, nvidia.TemperatureCelsius.Quality);
        Assert.StartsWith("NVML: nvml.dll or ", nvidia.TemperatureCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, nvidia.PowerWatts.Quality);
        Assert.Equal(SignalQuality.NotSupported, nvidia.Throttled.Quality);

        GpuDevice amd = gpu.Devices[1];
        Assert.Equal(1, amd.Index);
        Assert.Equal(GpuVendor.Amd, amd.Vendor);
        Assert.Equal(0.08, amd.Utilization.Value, 6);
        Assert.Equal(SignalQuality.NotSupported, amd.TemperatureCelsius.Quality);
        Assert.StartsWith("Windows has no vendor-neutral API for a GPU's temperature", amd.TemperatureCelsius.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Before_the_second_PDH_collection_utilisation_is_unknown_first_sample_and_memory_is_measured()
    {
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));

        GpuFactors gpu = Collect(probe);

        Assert.All(gpu.Devices, d =>
        {
            Assert.Equal(SignalQuality.Unknown, d.Utilization.Quality);
            Assert.StartsWith("first sample", d.Utilization.Reason, StringComparison.Ordinal);
            Assert.Equal(SignalQuality.Measured, d.MemoryUsedBytes.Quality);
        });
    }

    [Fact]
    public void PDH_is_collected_by_the_timer_every_interval_and_never_inside_Collect()
    {
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        Assert.Equal(1, _pdh.CollectCalls); // at construction

        _ = Collect(probe);
        _ = Collect(probe);
        Assert.Equal(1, _pdh.CollectCalls);

        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(4, _pdh.CollectCalls);
        Assert.Equal(1, _pdh.OpenCalls); // the query stays open
    }

    [Fact]
    public void With_NVML_the_NVIDIA_GPU_comes_from_NVML_once_and_the_others_from_DXGI()
    {
        var nvml = new FakeNvml();
        nvml.Gpus.Add("NVIDIA GeForce RTX 4090");
        _dxgi.Result = FakeDxgi.Of(FakeDxgi.IrisXe(0, 0xE0B2), FakeDxgi.Rtx4090(1, NvidiaLuid), FakeDxgi.BasicRender(2));
        _pdh.Memory = [new(FakePdh.Adapter(0xE0B2), 0)];
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi, nvml));
        _time.Advance(WindowsGpuProbe.SampleInterval);

        GpuFactors gpu = Collect(probe);

        Assert.Equal(2, gpu.DeviceCount.Value);
        Assert.Equal("nvml + dxgi", gpu.DeviceCount.Source);
        GpuDevice nvidia = gpu.Devices[0];
        Assert.Equal(GpuVendor.Nvidia, nvidia.Vendor);
        Assert.Equal(41, nvidia.TemperatureCelsius.Value);
        Assert.Equal(95, nvidia.PowerWatts.Value);
        Assert.Equal(0.37, nvidia.Utilization.Value, 6);
        Assert.StartsWith("nvml:", nvidia.Utilization.Source, StringComparison.Ordinal);
        GpuDevice intel = gpu.Devices[1];
        Assert.Equal(0, intel.Index);
        Assert.Equal(GpuVendor.Intel, intel.Vendor);

        // In the counters (memory) but no engine instance: no process has engine time on it.
        Assert.Equal(0, intel.Utilization.Value);
        Assert.Equal(128L << 20, intel.MemoryTotalBytes.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void When_NVML_lists_fewer_NVIDIA_GPUs_than_DXGI_every_GPU_is_read_as_DXGI_lists_it(int listed)
    {
        // Two RTX 4090s in DXGI, NVML listing none or one of them (a driver that hides one): each
        // stays in the count, read from DXGI and PDH, its sensors unknown with the reason.
        var nvml = new FakeNvml();
        for (int i = 0; i < listed; i++)
        {
            nvml.Gpus.Add("NVIDIA GeForce RTX 4090");
        }

        _dxgi.Result = FakeDxgi.Of(FakeDxgi.IrisXe(0, 0xE0B2), FakeDxgi.Rtx4090(1, NvidiaLuid), FakeDxgi.Rtx4090(2, NvidiaLuid + 1), FakeDxgi.BasicRender(3));
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi, nvml));
        _time.Advance(WindowsGpuProbe.SampleInterval);

        GpuFactors gpu = Collect(probe);

        Assert.Equal(3, gpu.DeviceCount.Value);
        Assert.Equal("dxgi", gpu.DeviceCount.Source);
        Assert.Equal([GpuVendor.Intel, GpuVendor.Nvidia, GpuVendor.Nvidia], gpu.Devices.Select(d => d.Vendor));
        GpuDevice nvidia = gpu.Devices[1];
        Assert.Equal(SignalQuality.Unknown, nvidia.TemperatureCelsius.Quality);
        Assert.Contains($"lists {listed} of the 2 NVIDIA GPUs DXGI lists", nvidia.TemperatureCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, nvidia.PowerWatts.Quality);
        Assert.Equal(0.62, nvidia.Utilization.Value, 6); // the busiest engine type (Compute_0), as PDH reads it
        Assert.StartsWith("pdh", nvidia.Utilization.Source, StringComparison.Ordinal);

        // The Intel GPU keeps its own reasons: nothing reads its sensors, NVML or not.
        Assert.Equal(SignalQuality.NotSupported, gpu.Devices[0].TemperatureCelsius.Quality);
    }

    [Fact]
    public void When_NVML_loads_but_cannot_initialise_the_NVIDIA_GPU_is_listed_from_DXGI_with_unknown_sensors()
    {
        var nvml = new FakeNvml { InitResult = Platforms.Gpu.NvmlReturn.DriverNotLoaded };
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi, nvml));

        GpuFactors gpu = Collect(probe);

        Assert.Equal(2, gpu.DeviceCount.Value);
        GpuDevice nvidia = gpu.Devices[0];
        Assert.Equal(GpuVendor.Nvidia, nvidia.Vendor);
        Assert.Equal(SignalQuality.Unknown, nvidia.TemperatureCelsius.Quality);
        Assert.Contains("nvmlInit_v2 failed", nvidia.TemperatureCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, nvidia.PowerWatts.Quality);
        Assert.Equal(SignalQuality.Measured, nvidia.MemoryTotalBytes.Quality);
    }

    [Fact]
    public void A_machine_with_only_the_basic_render_driver_has_zero_GPUs_measured()
    {
        _dxgi.Result = FakeDxgi.Of(FakeDxgi.BasicRender(0));
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        Assert.Equal(0, gpu.DeviceCount.Value);
        Assert.Empty(gpu.Devices);
    }

    [Fact]
    public void A_failed_enumeration_makes_the_count_unknown_not_zero()
    {
        _dxgi.Result = new DxgiEnumeration([], "CreateDXGIFactory1 failed: HRESULT 0x887A0004", NotSupported: false);
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.Equal("CreateDXGIFactory1 failed: HRESULT 0x887A0004", gpu.DeviceCount.Reason);
        Assert.Contains(_failures.Reports, r => r.Kind == "io");
    }

    [Fact]
    public void Without_DXGI_and_NVML_the_search_is_not_supported_with_both_reasons()
    {
        _dxgi.Result = new DxgiEnumeration([], "dxgi.dll or CreateDXGIFactory1 is not available: not found", NotSupported: true);
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.NotSupported, gpu.DeviceCount.Quality);
        Assert.Contains("dxgi.dll", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Contains("NVML: nvml.dll", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports); // a lasting absence is not a failure
    }

    [Fact]
    public void Without_DXGI_but_with_NVML_the_NVIDIA_GPUs_are_listed_and_the_count_is_unknown()
    {
        var nvml = new FakeNvml();
        nvml.Gpus.Add("NVIDIA RTX A6000");
        _dxgi.Result = new DxgiEnumeration([], "CreateDXGIFactory1 failed: HRESULT 0x80004005", NotSupported: false);
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi, nvml));

        GpuFactors gpu = Collect(probe);

        Assert.Equal("NVIDIA RTX A6000", Assert.Single(gpu.Devices).Name);
        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.StartsWith("GPUs other than NVIDIA's not searched", gpu.DeviceCount.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_adapter_missing_from_the_GPU_counters_reads_unknown_with_the_reason()
    {
        _pdh.Memory = [];
        _pdh.Engines = [];
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        _time.Advance(WindowsGpuProbe.SampleInterval);

        GpuDevice device = Collect(probe).Devices[0];

        Assert.Equal(SignalQuality.Unknown, device.Utilization.Quality);
        Assert.Equal(WindowsGpuProbe.NotInCounters, device.Utilization.Reason);
        Assert.Equal(WindowsGpuProbe.NotInMemoryCounters, device.MemoryUsedBytes.Reason);
    }

    [Fact]
    public void Without_GPU_counters_utilisation_and_memory_in_use_are_not_supported_with_PDHs_status()
    {
        _pdh.AddStatus[GpuPdhSampler.EngineCounterPath] = PdhStatus.NoObject;
        _pdh.AddStatus[GpuPdhSampler.MemoryCounterPath] = PdhStatus.NoObject;
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        _time.Advance(WindowsGpuProbe.SampleInterval);

        GpuDevice device = Collect(probe).Devices[1];

        Assert.Equal(SignalQuality.NotSupported, device.Utilization.Quality);
        Assert.Contains("PDH_CSTATUS_NO_OBJECT", device.Utilization.Reason, StringComparison.Ordinal);
        Assert.Contains("(0xC0000BB8)", device.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, device.MemoryUsedBytes.Quality);
        Assert.Equal(SignalQuality.Measured, device.MemoryTotalBytes.Quality);
        Assert.Equal(0, _pdh.CollectCalls); // nothing to collect: the query was closed
    }

    [Fact]
    public void A_sample_older_than_three_intervals_turns_unknown_as_stale()
    {
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        _time.Advance(WindowsGpuProbe.SampleInterval);

        // The collector's clock has moved on but the probe's timer has not fired (a stuck sampler).
        var later = new FakeTimeProvider(_time.GetUtcNow() + TimeSpan.FromSeconds(10));
        var snapshot = new SnapshotBuilder(later);
        probe.Collect(snapshot);

        GpuDevice device = snapshot.Gpu.Devices[0];
        Assert.Equal(SignalQuality.Unknown, device.Utilization.Quality);
        Assert.Contains("stale", device.Utilization.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(SignalQuality.Unknown, device.MemoryUsedBytes.Quality);
    }

    [Fact]
    public void Dedicated_usage_above_DXGIs_dedicated_memory_is_unknown_and_reported()
    {
        _pdh.Memory = [new(FakePdh.Adapter(NvidiaLuid), 30_000_000_000), new(FakePdh.Adapter(AmdLuid), 0)];
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));

        GpuDevice device = Collect(probe).Devices[0];

        Assert.Equal(SignalQuality.Unknown, device.MemoryUsedBytes.Quality);
        Assert.Contains("above the dedicated video memory", device.MemoryUsedBytes.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "out-of-range");
    }

    [Fact]
    public void An_implausible_DXGI_memory_size_is_unknown_and_a_name_is_sanitised()
    {
        _dxgi.Result = FakeDxgi.Of(FakeDxgi.Radeon(0, AmdLuid) with { DedicatedVideoMemoryBytes = ulong.MaxValue, Description = "  \u0001Radeon\tPro  " + new string('W', 100) });
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));

        GpuDevice device = Collect(probe).Devices[0];

        Assert.Equal(SignalQuality.Unknown, device.MemoryTotalBytes.Quality);
        Assert.Contains("18446744073709551615", device.MemoryTotalBytes.Reason, StringComparison.Ordinal);
        Assert.StartsWith("Radeon Pro  WWW", device.Name, StringComparison.Ordinal);
        Assert.InRange(device.Name.Length, 60, GpuDevice.MaxNameLength);
        Assert.DoesNotContain(device.Name, char.IsControl);
    }

    [Fact]
    public void Adapters_are_listed_again_after_the_rediscovery_interval()
    {
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        Assert.Equal(2, Collect(probe).Devices.Length);

        _dxgi.Result = FakeDxgi.Of(FakeDxgi.Radeon(0, AmdLuid), FakeDxgi.BasicRender(1)); // the eGPU was unplugged
        _time.Advance(WindowsGpuProbe.RediscoverInterval - TimeSpan.FromSeconds(1));
        Assert.Equal(2, Collect(probe).Devices.Length);
        _time.Advance(TimeSpan.FromSeconds(1));

        GpuFactors gpu = Collect(probe);
        Assert.Equal(GpuVendor.Amd, Assert.Single(gpu.Devices).Vendor);
        Assert.Equal(2, _dxgi.Calls);
    }

    [Fact]
    public void A_query_that_failed_to_open_is_opened_again_at_rediscovery()
    {
        _pdh.OpenStatus = PdhStatus.MemoryAllocationFailure;
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        Assert.Equal(SignalQuality.Unknown, Collect(probe).Devices[0].MemoryUsedBytes.Quality);

        _pdh.OpenStatus = PdhStatus.Success;
        _time.Advance(WindowsGpuProbe.RediscoverInterval);

        Assert.Equal(SignalQuality.Measured, Collect(probe).Devices[0].MemoryUsedBytes.Quality);
        Assert.Equal(2, _pdh.OpenCalls);
    }

    [Fact]
    public void Dispose_stops_the_timer_closes_the_query_and_shuts_NVML_down()
    {
        var nvml = new FakeNvml();
        nvml.Gpus.Add("NVIDIA L4");
        var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi, nvml));

        probe.Dispose();
        probe.Dispose();
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(1, _pdh.CollectCalls);
        Assert.Equal(1, _pdh.CloseCalls);
        Assert.Equal(1, nvml.ShutdownCalls);
    }

    [Fact]
    public void A_collect_with_two_GPUs_allocates_under_one_KiB()
    {
        using var probe = new WindowsGpuProbe(_failures, _time, FakeAccess.Of(_pdh, _dxgi));
        _time.Advance(WindowsGpuProbe.SampleInterval);
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        probe.Collect(snapshot);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(2, snapshot.Gpu.Devices.Length);
        Assert.InRange(allocated, 1, 1024);
    }

    private GpuFactors Collect(WindowsGpuProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Gpu;
    }
}
