using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Gpu;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.Gpu;
using CostModel.Platforms.Tests.Gpu;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Linux;

[SupportedOSPlatform("linux")]
public sealed class LinuxGpuProbeTests : IDisposable
{
    private const string NvidiaSmiPath = "/usr/bin/nvidia-smi";

    private readonly GpuSysfsFixture _sys = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeProcessRunner _runner = new();
    private int _nvidiaSmiLookups;

    public void Dispose() => _sys.Dispose();

    private LinuxGpuProbe CreateProbe(FakeNvml? nvml = null, bool nvidiaSmiOnPath = false, bool allowFallback = true, string? sysRoot = null, TimeSpan? nvidiaSmiTimeout = null)
    {
        var access = new NvidiaAccess(
            (out string reason) =>
            {
                reason = nvml is null ? "libnvidia-ml.so.1 could not be loaded (test)" : "fake NVML";
                return nvml;
            },
            () =>
            {
                _nvidiaSmiLookups++;
                return nvidiaSmiOnPath ? NvidiaSmiPath : null;
            },
            _runner);
        var options = new LinuxProbeOptions { SysRoot = sysRoot ?? _sys.Sys, AllowNvidiaSmiFallback = allowFallback };
        if (nvidiaSmiTimeout is { } timeout)
        {
            options.NvidiaSmiTimeout = timeout;
        }

        return new LinuxGpuProbe(options, _failures, _time, access);
    }

    private GpuFactors Collect(LinuxGpuProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Gpu;
    }

    [Fact]
    public void Machine_without_GPUs_measures_zero_devices_and_starts_no_process()
    {
        using LinuxGpuProbe probe = CreateProbe();

        GpuFactors gpu = Collect(probe);

        Assert.Equal("linux.gpu", probe.Name);
        Assert.Equal(SignalGroup.Gpu, probe.Group);
        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        Assert.Equal(0, gpu.DeviceCount.Value);
        Assert.Empty(gpu.Devices);
        Assert.Equal(0, _runner.Calls);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Amd_card_reads_busy_percent_vram_edge_temperature_and_average_power()
    {
        _sys.AddAmdRadeon();
        using LinuxGpuProbe probe = CreateProbe();

        GpuFactors gpu = Collect(probe);

        Assert.Equal(1, gpu.DeviceCount.Value); // card0-DP-1 and renderD128 are not cards
        GpuDevice amd = Assert.Single(gpu.Devices);
        Assert.Equal(0, amd.Index);
        Assert.Equal(GpuVendor.Amd, amd.Vendor);
        Assert.Equal("AMD GPU 1002:73BF at 0000:03:00.0", amd.Name);
        Assert.Equal(0.37, amd.Utilization.Value, 10);
        Assert.EndsWith("class/drm/card0/device/gpu_busy_percent", amd.Utilization.Source, StringComparison.Ordinal);
        Assert.Equal(2_147_483_648L, amd.MemoryUsedBytes.Value);
        Assert.Equal(17_163_091_968L, amd.MemoryTotalBytes.Value);
        Assert.Equal(45.0, amd.TemperatureCelsius.Value); // temp1 is "edge", millidegrees
        Assert.Equal(48.0, amd.PowerWatts.Value); // microwatts
        Assert.Equal(SignalQuality.NotSupported, amd.Throttled.Quality);
        Assert.Equal(DrmCard.AmdThrottleReason, amd.Throttled.Reason);
        Assert.Equal(_time.GetUtcNow(), amd.Utilization.ObservedAt);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Amd_values_are_read_again_on_every_pass()
    {
        string device = _sys.AddAmdRadeon();
        using LinuxGpuProbe probe = CreateProbe();
        Assert.Equal(0.37, Collect(probe).Devices[0].Utilization.Value, 10);

        GpuSysfsFixture.Write(device, "gpu_busy_percent", "90\n");
        GpuSysfsFixture.Write(device, "hwmon/hwmon3/power1_average", "231500000\n");
        _time.Advance(TimeSpan.FromSeconds(1));
        GpuDevice amd = Collect(probe).Devices[0];

        Assert.Equal(0.9, amd.Utilization.Value, 10);
        Assert.Equal(231.5, amd.PowerWatts.Value, 10);
    }

    [Fact]
    public void Amd_board_with_a_product_name_power_input_and_no_edge_sensor()
    {
        // An Instinct-class board: FRU product name, power1_input (newer SMU), temp2 (junction) as the first sensor.
        string device = _sys.AddPciFunction("0000:c1:00.0", "0x1002", "0x740f", "0x038000", "amdgpu");
        _sys.AddDrmCard(1, "0000:c1:00.0");
        GpuSysfsFixture.Write(device, "product_name", "AMD Instinct MI210\n");
        GpuSysfsFixture.Write(device, "gpu_busy_percent", "0\n");
        GpuSysfsFixture.Write(device, "mem_info_vram_used", "10485760\n");
        GpuSysfsFixture.Write(device, "mem_info_vram_total", "68702699520\n");
        GpuSysfsFixture.Write(device, "hwmon/hwmon5/temp2_input", "38000\n");
        GpuSysfsFixture.Write(device, "hwmon/hwmon5/temp3_input", "41000\n");
        GpuSysfsFixture.Write(device, "hwmon/hwmon5/power1_input", "42000000\n");
        using LinuxGpuProbe probe = CreateProbe();

        GpuDevice amd = Assert.Single(Collect(probe).Devices);

        Assert.Equal(1, amd.Index);
        Assert.Equal("AMD Instinct MI210", amd.Name);
        Assert.Equal(0.0, amd.Utilization.Value);
        Assert.Equal(38.0, amd.TemperatureCelsius.Value);
        Assert.Equal(42.0, amd.PowerWatts.Value);
    }

    [Fact]
    public void Amd_card_without_sensors_says_NotSupported_not_zero()
    {
        // An old kernel: no gpu_busy_percent, no VRAM files, no hwmon.
        _sys.AddPciFunction("0000:03:00.0", "0x1002", "0x67df", "0x030000", "amdgpu");
        _sys.AddDrmCard(0, "0000:03:00.0");
        using LinuxGpuProbe probe = CreateProbe();

        GpuDevice amd = Assert.Single(Collect(probe).Devices);

        Assert.Equal(SignalQuality.NotSupported, amd.Utilization.Quality);
        Assert.Contains("gpu_busy_percent", amd.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, amd.MemoryUsedBytes.Quality);
        Assert.Equal(SignalQuality.NotSupported, amd.TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.NotSupported, amd.PowerWatts.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Garbage_and_absurd_sysfs_values_are_Unknown_and_reported()
    {
        string device = _sys.AddAmdRadeon();
        GpuSysfsFixture.Write(device, "gpu_busy_percent", "lots\n");
        GpuSysfsFixture.Write(device, "hwmon/hwmon3/temp1_input", "511000\n");
        using LinuxGpuProbe probe = CreateProbe();

        GpuDevice amd = Assert.Single(Collect(probe).Devices);

        Assert.Equal(SignalQuality.Unknown, amd.Utilization.Quality);
        Assert.Contains("does not hold an integer", amd.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, amd.TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.Measured, amd.PowerWatts.Quality);
        Assert.Equal(["garbage", "out-of-range"], _failures.Kinds.Order());
    }

    [Fact]
    public void VRAM_used_beyond_any_GPU_is_Unknown_with_the_raw_text()
    {
        // Issue 12, finding 12: mem_info_vram_used of 2^63-1 (9.2E18 B) was kept as Measured.
        string device = _sys.AddAmdRadeon();
        GpuSysfsFixture.Write(device, "mem_info_vram_used", "9223372036854775807\n");
        using LinuxGpuProbe probe = CreateProbe();

        GpuDevice amd = Assert.Single(Collect(probe).Devices);

        Assert.Equal(SignalQuality.Unknown, amd.MemoryUsedBytes.Quality);
        Assert.StartsWith("implausible GPU memory '9223372036854775807' in ", amd.MemoryUsedBytes.Reason, StringComparison.Ordinal);
        Assert.Contains("mem_info_vram_used (plausible 0..17592186044416 bytes: ", amd.MemoryUsedBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(17_163_091_968, amd.MemoryTotalBytes.Value);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Fact]
    public void VRAM_used_above_VRAM_total_makes_both_Unknown()
    {
        string device = _sys.AddAmdRadeon();
        GpuSysfsFixture.Write(device, "mem_info_vram_used", "20000000000\n");
        using LinuxGpuProbe probe = CreateProbe();

        GpuDevice amd = Assert.Single(Collect(probe).Devices);

        Assert.Equal(SignalQuality.Unknown, amd.MemoryUsedBytes.Quality);
        Assert.Equal(amd.MemoryUsedBytes.Reason, amd.MemoryTotalBytes.Reason);
        Assert.StartsWith("implausible VRAM used '20000000000' in ", amd.MemoryUsedBytes.Reason, StringComparison.Ordinal);
        Assert.Contains("above the VRAM total '17163091968'", amd.MemoryUsedBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Measured, amd.Utilization.Quality);
    }

    [Fact]
    public void A_GPU_temperature_below_minus_40_C_is_Unknown()
    {
        string device = _sys.AddAmdRadeon();
        GpuSysfsFixture.Write(device, "hwmon/hwmon3/temp1_input", "-44000\n");
        using LinuxGpuProbe probe = CreateProbe();

        GpuDevice amd = Assert.Single(Collect(probe).Devices);

        Assert.Equal(SignalQuality.Unknown, amd.TemperatureCelsius.Quality);
        Assert.StartsWith("implausible temperature '-44000' in ", amd.TemperatureCelsius.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("permission")]
    public void A_card_whose_vendor_cannot_be_read_makes_the_count_Unknown_and_the_others_are_still_listed(string how)
    {
        // Issue 12, finding 13: an unreadable vendor skipped the card, leaving a Measured count.
        _sys.AddAmdRadeon(0, "0000:03:00.0");
        string second = _sys.AddAmdRadeon(1, "0000:04:00.0");
        string vendor = Path.Combine(second, "vendor");
        if (how == "directory")
        {
            SpecialFiles.MakeDirectory(vendor);
        }
        else
        {
            Assert.SkipWhen(Environment.IsPrivilegedProcess, "running as root: file permissions do not stop root from reading");
            File.SetUnixFileMode(vendor, UnixFileMode.None);
        }

        using LinuxGpuProbe probe = CreateProbe();

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.StartsWith("cannot tell whether card1 is an AMD or Intel GPU: ", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Equal("0000:03:00.0", Assert.Single(gpu.Devices).Name[^12..]);
    }

    [Fact]
    public void An_empty_sys_root_with_NVML_does_not_count_the_NVIDIA_GPUs_as_all_of_them()
    {
        // Issue 12, finding 13: an empty sys root gave a Measured count although AMD and Intel were never searched.
        var nvml = new FakeNvml();
        nvml.Gpus.Add(new FakeNvmlGpu());
        using var bare = new GpuSysfsFixture(mountSysfs: false);
        using LinuxGpuProbe probe = CreateProbe(nvml, sysRoot: bare.Sys);

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.StartsWith("AMD and Intel GPUs not searched: ", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Equal(GpuVendor.Nvidia, Assert.Single(gpu.Devices).Vendor);
    }

    [Fact]
    public void A_PCI_function_whose_vendor_cannot_be_read_makes_the_count_Unknown_without_NVML()
    {
        _sys.AddPciFunction("0000:18:00.0", "0x10de", "0x2330", "0x030200", null);
        string unknown = _sys.AddPciFunction("0000:3b:00.0", "0x10de", "0x2330", "0x030200", null);
        SpecialFiles.MakeDirectory(Path.Combine(unknown, "vendor"));
        using LinuxGpuProbe probe = CreateProbe();

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.StartsWith("NVIDIA GPUs on the PCI bus may be missed: cannot tell whether 0000:3b:00.0 is a GPU: ", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Equal("NVIDIA GPU 0x2330 at 0000:18:00.0", Assert.Single(gpu.Devices).Name);
    }

    [Fact]
    public void Intel_integrated_GPU_is_listed_with_NotSupported_utilisation_and_its_throttle_flag()
    {
        _sys.AddPciFunction("0000:00:02.0", "0x8086", "0x46a6", "0x030000", "i915");
        string card = _sys.AddDrmCard(1, "0000:00:02.0");
        GpuSysfsFixture.Write(card, "gt/gt0/throttle_reason_status", "1\n");
        GpuSysfsFixture.Write(card, "gt/gt0/throttle_reason_pl1", "1\n");
        using LinuxGpuProbe probe = CreateProbe();

        GpuFactors gpu = Collect(probe);

        Assert.Equal(1, gpu.DeviceCount.Value);
        GpuDevice intel = Assert.Single(gpu.Devices);
        Assert.Equal(GpuVendor.Intel, intel.Vendor);
        Assert.Equal(1, intel.Index);
        Assert.Equal("Intel GPU 8086:46A6 at 0000:00:02.0", intel.Name);
        Assert.Equal(SignalQuality.NotSupported, intel.Utilization.Quality);
        Assert.Contains("perf", intel.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, intel.MemoryUsedBytes.Quality);
        Assert.Equal(SignalQuality.NotSupported, intel.TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.NotSupported, intel.PowerWatts.Quality);
        Assert.True(intel.Throttled.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Intel_discrete_GPU_power_comes_from_the_energy_counter_over_two_passes()
    {
        string device = _sys.AddPciFunction("0000:03:00.0", "0x8086", "0x56a0", "0x030000", "i915");
        _sys.AddDrmCard(0, "0000:03:00.0");
        string energy = Path.Combine(device, "hwmon", "hwmon4");
        GpuSysfsFixture.Write(energy, "name", "i915\n");
        GpuSysfsFixture.Write(energy, "energy1_input", "1000000000\n");
        GpuSysfsFixture.Write(energy, "power1_max", "190000000\n"); // a cap, not a draw: not read
        using LinuxGpuProbe probe = CreateProbe();

        GpuDevice first = Collect(probe).Devices[0];
        Assert.Equal(SignalQuality.Unknown, first.PowerWatts.Quality);
        Assert.Equal(DrmCard.FirstEnergySampleReason, first.PowerWatts.Reason);

        GpuSysfsFixture.Write(energy, "energy1_input", "1035000000\n"); // +35 J
        _time.Advance(TimeSpan.FromSeconds(1));
        GpuDevice second = Collect(probe).Devices[0];
        Assert.Equal(SignalQuality.Estimated, second.PowerWatts.Quality);
        Assert.Equal(35.0, second.PowerWatts.Value, 10);

        GpuSysfsFixture.Write(energy, "energy1_input", "5000\n"); // reset
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(DrmCard.EnergyWentBackReason, Collect(probe).Devices[0].PowerWatts.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Nvidia_cards_come_from_NVML_once_and_BMC_video_is_not_a_GPU()
    {
        var nvml = new FakeNvml();
        nvml.Gpus.Add(new FakeNvmlGpu());
        nvml.Gpus.Add(new FakeNvmlGpu { Utilization = (NvmlReturn.Success, 55) });
        _sys.AddPciFunction("0000:18:00.0", "0x10de", "0x2330", "0x030200", "nvidia");
        _sys.AddDrmCard(1, "0000:18:00.0"); // nvidia-drm
        _sys.AddPciFunction("0000:02:00.0", "0x1a03", "0x2000", "0x030000", "ast");
        _sys.AddDrmCard(0, "0000:02:00.0"); // ASPEED BMC framebuffer
        _sys.AddAmdRadeon(2, "0000:c3:00.0");
        using LinuxGpuProbe probe = CreateProbe(nvml);

        GpuFactors gpu = Collect(probe);

        Assert.Equal("nvml", probe.NvidiaPath);
        Assert.Equal(3, gpu.DeviceCount.Value);
        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        Assert.StartsWith("nvml + ", gpu.DeviceCount.Source, StringComparison.Ordinal);
        Assert.Equal([GpuVendor.Nvidia, GpuVendor.Nvidia, GpuVendor.Amd], gpu.Devices.Select(d => d.Vendor));
        Assert.Equal(0.55, gpu.Devices[1].Utilization.Value, 10);
        Assert.Equal(2, gpu.Devices[2].Index);
        Assert.Equal(0, _nvidiaSmiLookups); // NVML works: nvidia-smi is not even looked for
        Assert.Equal(1, nvml.InitCalls);
    }

    [Fact]
    public void Dispose_shuts_NVML_down()
    {
        var nvml = new FakeNvml();
        nvml.Gpus.Add(new FakeNvmlGpu());
        LinuxGpuProbe probe = CreateProbe(nvml);
        _ = Collect(probe);

        probe.Dispose();

        Assert.Equal(1, nvml.ShutdownCalls);
    }

    [Fact]
    public void Nvidia_GPU_without_NVML_or_nvidia_smi_is_listed_with_the_reason()
    {
        _sys.AddPciFunction("0000:18:00.0", "0x10de", "0x2330", "0x030200", null);
        _sys.AddPciFunction("0000:18:00.1", "0x10de", "0x22a3", "0x040300", null); // its audio function: not a GPU
        using LinuxGpuProbe probe = CreateProbe();

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        Assert.Equal(1, gpu.DeviceCount.Value);
        GpuDevice nvidia = Assert.Single(gpu.Devices);
        Assert.Equal(GpuVendor.Nvidia, nvidia.Vendor);
        Assert.Equal("NVIDIA GPU 0x2330 at 0000:18:00.0", nvidia.Name);
        Assert.Equal(SignalQuality.NotSupported, nvidia.Utilization.Quality);
        Assert.Contains("libnvidia-ml.so.1", nvidia.Utilization.Reason, StringComparison.Ordinal);
        Assert.Contains("nvidia-smi is not on PATH", nvidia.PowerWatts.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _runner.Calls);
    }

    [Fact]
    public void Nvidia_GPU_whose_driver_is_not_loaded_is_Unknown_with_NVMLs_error()
    {
        var nvml = new FakeNvml { InitResult = NvmlReturn.DriverNotLoaded };
        _sys.AddPciFunction("0000:18:00.0", "0x10de", "0x2330", "0x030200", null);
        using LinuxGpuProbe probe = CreateProbe(nvml, nvidiaSmiOnPath: true);

        GpuDevice nvidia = Assert.Single(Collect(probe).Devices);

        Assert.Equal(SignalQuality.Unknown, nvidia.TemperatureCelsius.Quality);
        Assert.Contains("Driver Not Loaded", nvidia.TemperatureCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _runner.Calls); // NVML loaded, so nvidia-smi (which needs the same driver) is not tried
    }

    [Fact]
    public void Without_NVML_the_probe_serves_the_cached_nvidia_smi_answer_and_marks_it_stale()
    {
        _runner.Respond = (_, _) => Task.FromResult(new ProcessOutput(0, NvidiaSmiCsvTests.HgxH100, ""));
        using LinuxGpuProbe probe = CreateProbe(nvidiaSmiOnPath: true);
        Assert.Equal("nvidia-smi", probe.NvidiaPath);
        Assert.Equal(1, _runner.Calls); // the first refresh ran off the collection path, at construction

        GpuFactors fresh = Collect(probe);
        Assert.Equal(1, _runner.Calls); // collecting ran nothing
        Assert.Equal(4, fresh.DeviceCount.Value);
        Assert.StartsWith("nvidia-smi + ", fresh.DeviceCount.Source, StringComparison.Ordinal);
        Assert.Equal(0.0, fresh.Devices[0].Utilization.Value);
        Assert.Equal(687.33, fresh.Devices[1].PowerWatts.Value, 10);
        Assert.Same(probe.NvidiaSmi!.State.Devices[1], fresh.Devices[1]); // served from the cache, not re-parsed

        _runner.Respond = (_, _) => Task.FromResult(new ProcessOutput(9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", ""));
        _time.Advance(NvidiaSmiMonitor.MaxAge + TimeSpan.FromSeconds(1));
        GpuFactors stale = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, stale.DeviceCount.Quality);
        Assert.StartsWith("stale", stale.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, stale.Devices[1].PowerWatts.Quality);
        Assert.StartsWith("stale", stale.Devices[1].PowerWatts.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Before_nvidia_smi_first_answers_the_count_is_Unknown_but_other_GPUs_are_listed()
    {
        _runner.Respond = (_, token) => _runner.Hang(token);
        _sys.AddAmdRadeon();
        using LinuxGpuProbe probe = CreateProbe(nvidiaSmiOnPath: true);

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.Equal("waiting for the first nvidia-smi answer", gpu.DeviceCount.Reason);
        Assert.Equal(GpuVendor.Amd, Assert.Single(gpu.Devices).Vendor);
    }

    [Fact]
    public void The_configured_nvidia_smi_timeout_kills_a_hung_run_and_a_non_positive_one_falls_back_to_two_seconds()
    {
        _runner.Respond = (_, token) => _runner.Hang(token);
        using LinuxGpuProbe probe = CreateProbe(nvidiaSmiOnPath: true, nvidiaSmiTimeout: TimeSpan.Zero);
        Assert.Equal("out-of-range", Assert.Single(_failures.Reports).Kind);

        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(0, _runner.Killed);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(1, _runner.Killed);
        GpuFactors gpu = Collect(probe);
        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.Contains("did not answer within 2 s", gpu.DeviceCount.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void With_the_fallback_off_nvidia_smi_is_neither_looked_for_nor_run()
    {
        using LinuxGpuProbe probe = CreateProbe(nvidiaSmiOnPath: true, allowFallback: false);
        _time.Advance(TimeSpan.FromMinutes(5));

        _ = Collect(probe);

        Assert.Equal("none", probe.NvidiaPath);
        Assert.Equal(0, _nvidiaSmiLookups);
        Assert.Equal(0, _runner.Calls);
    }

    [Fact]
    public void Without_sysfs_and_NVML_the_search_itself_is_NotSupported()
    {
        using var bare = new GpuSysfsFixture(mountSysfs: false);
        using LinuxGpuProbe probe = CreateProbe(sysRoot: bare.Sys);

        GpuFactors gpu = Collect(probe);

        Assert.Equal(SignalQuality.NotSupported, gpu.DeviceCount.Quality);
        Assert.StartsWith("cannot search for GPUs", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Empty(gpu.Devices);
    }

    [Fact]
    public void A_card_that_appears_is_found_at_the_next_rediscovery_not_before()
    {
        _sys.AddAmdRadeon();
        using LinuxGpuProbe probe = CreateProbe();
        Assert.Single(Collect(probe).Devices);

        _sys.AddAmdRadeon(1, "0000:04:00.0");
        _time.Advance(LinuxGpuProbe.RediscoverInterval - TimeSpan.FromSeconds(1));
        Assert.Single(Collect(probe).Devices);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, Collect(probe).Devices.Length);
    }

    [Fact]
    public void A_pass_allocates_little_beyond_the_factor_records()
    {
        _sys.AddAmdRadeon();
        using LinuxGpuProbe probe = CreateProbe();
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        probe.Collect(snapshot);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // GpuFactors + one GpuDevice (six readings) + the array: about 400 bytes.
        Assert.InRange(allocated, 1, 1024);
    }

    [Fact]
    public void This_machine_real_sys_collects_without_throwing_and_starts_no_process_without_nvidia_smi()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs Linux /sys");
        }

        var access = new NvidiaAccess(NvidiaAccess.System.LoadNvml, NvidiaAccess.System.FindNvidiaSmi, _runner);
        using var probe = new LinuxGpuProbe(new LinuxProbeOptions(), _failures, TimeProvider.System, access);
        var snapshot = new SnapshotBuilder(TimeProvider.System);

        probe.Collect(snapshot);
        GpuFactors gpu = snapshot.Gpu;

        TestContext.Current.TestOutputHelper?.WriteLine($"NVIDIA path: {probe.NvidiaPath}; DeviceCount: {gpu.DeviceCount}");
        if (probe.NvidiaPath == "none")
        {
            Assert.Equal(0, _runner.Calls); // neither NVML nor nvidia-smi: no process, ever
        }

        bool hasGpu = Directory.Exists("/sys/class/drm") || probe.NvidiaPath != "none";
        if (!hasGpu)
        {
            // This VM: no DRM, no NVIDIA driver.
            Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
            Assert.Equal(0, gpu.DeviceCount.Value);
            Assert.Empty(gpu.Devices);
        }
    }

    [Fact]
    public void Registered_for_Linux_through_dependency_injection()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Linux probes register only on Linux");
        }

        var services = new ServiceCollection();
        services.AddCostModel(_ => { }).AddPlatformProbes();
        using ServiceProvider provider = services.BuildServiceProvider();

        ISignalProbe probe = Assert.Single(provider.GetServices<ISignalProbe>(), p => p.Name == "linux.gpu");
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        probe.Collect(snapshot);

        Assert.NotEqual(SignalQuality.Unknown, snapshot.Gpu.DeviceCount.Quality);
    }
}
