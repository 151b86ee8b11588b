using CostModel.Factors;
using CostModel.Platforms.Gpu;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Gpu;

public sealed class NvmlGpuReaderTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeNvml _nvml = new();
    private readonly RecordingProbeFailureReporter _failures = new();

    private NvmlGpuReader CreateReader() => new(_nvml, _failures, "linux.gpu");

    private static GpuDevice[] DiscoverAndRead(NvmlGpuReader reader)
    {
        Assert.True(reader.TryDiscover(out string? failure), failure);
        var devices = new GpuDevice[reader.Count];
        reader.Read(Now, devices);
        return devices;
    }

    [Fact]
    public void H100_under_load_reads_in_model_units()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu
        {
            Utilization = (NvmlReturn.Success, 97),
            Memory = (NvmlReturn.Success, 79_270UL * 1024 * 1024, 81_559UL * 1024 * 1024),
            Temperature = (NvmlReturn.Success, 64),
            Power = (NvmlReturn.Success, 612_345),
            Reasons = (NvmlReturn.Success, NvmlConstants.ReasonSwPowerCap),
        });
        using NvmlGpuReader reader = CreateReader();

        GpuDevice gpu = Assert.Single(DiscoverAndRead(reader));

        Assert.Equal(0, gpu.Index);
        Assert.Equal(GpuVendor.Nvidia, gpu.Vendor);
        Assert.Equal("NVIDIA H100 80GB HBM3", gpu.Name);
        Assert.Equal(0.97, gpu.Utilization.Value, 10);
        Assert.Equal(SignalQuality.Measured, gpu.Utilization.Quality);
        Assert.Equal(79_270L * 1024 * 1024, gpu.MemoryUsedBytes.Value);
        Assert.Equal(85_520_809_984L, gpu.MemoryTotalBytes.Value);
        Assert.Equal(64.0, gpu.TemperatureCelsius.Value);
        Assert.Equal(612.345, gpu.PowerWatts.Value, 10);
        Assert.True(gpu.Throttled.Value);
        Assert.Equal("nvml:nvmlDeviceGetPowerUsage", gpu.PowerWatts.Source);
        Assert.Equal(Now, gpu.PowerWatts.ObservedAt);
        Assert.Empty(_failures.Reports);
    }

    [Theory]
    [InlineData(NvmlConstants.ReasonGpuIdle, false)]
    [InlineData(NvmlConstants.ReasonApplicationsClocksSetting | NvmlConstants.ReasonSyncBoost | NvmlConstants.ReasonDisplayClockSetting, false)]
    [InlineData(NvmlConstants.ReasonSwPowerCap, true)]
    [InlineData(NvmlConstants.ReasonHwSlowdown, true)]
    [InlineData(NvmlConstants.ReasonSwThermalSlowdown, true)]
    [InlineData(NvmlConstants.ReasonHwThermalSlowdown | NvmlConstants.ReasonHwSlowdown, true)]
    [InlineData(NvmlConstants.ReasonHwPowerBrakeSlowdown, true)]
    public void Only_heat_and_power_event_reasons_count_as_throttled(ulong reasons, bool throttled)
    {
        _nvml.Gpus.Add(new FakeNvmlGpu { Reasons = (NvmlReturn.Success, reasons) });
        using NvmlGpuReader reader = CreateReader();

        Assert.Equal(throttled, Assert.Single(DiscoverAndRead(reader)).Throttled.Value);
    }

    [Fact]
    public void MIG_mode_makes_utilisation_NotSupported_with_MIG_as_the_reason()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu
        {
            Mig = (NvmlReturn.Success, NvmlConstants.DeviceMigEnable),
            Utilization = (NvmlReturn.NotSupported, 0),
        });
        using NvmlGpuReader reader = CreateReader();

        GpuDevice gpu = Assert.Single(DiscoverAndRead(reader));

        Assert.Equal(SignalQuality.NotSupported, gpu.Utilization.Quality);
        Assert.StartsWith("MIG mode", gpu.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Measured, gpu.MemoryUsedBytes.Quality);
        Assert.Equal(SignalQuality.Measured, gpu.PowerWatts.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Not_supported_outside_MIG_names_the_call_and_is_not_a_failure()
    {
        // A GeForce card: no utilisation counters through this call, no power sensor.
        _nvml.Gpus.Add(new FakeNvmlGpu
        {
            Name = "NVIDIA GeForce GTX 1050 Ti",
            Utilization = (NvmlReturn.NotSupported, 0),
            Power = (NvmlReturn.NotSupported, 0),
        });
        using NvmlGpuReader reader = CreateReader();

        GpuDevice gpu = Assert.Single(DiscoverAndRead(reader));

        Assert.Equal(SignalQuality.NotSupported, gpu.Utilization.Quality);
        Assert.DoesNotContain("MIG", gpu.Utilization.Reason, StringComparison.Ordinal);
        Assert.Contains("nvmlDeviceGetUtilizationRates", gpu.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, gpu.PowerWatts.Quality);
        Assert.Contains("nvmlDeviceGetPowerUsage", gpu.PowerWatts.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_function_missing_from_an_old_driver_is_NotSupported()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu { Reasons = (NvmlReturn.FunctionNotFound, 0) });
        using NvmlGpuReader reader = CreateReader();

        GpuDevice gpu = Assert.Single(DiscoverAndRead(reader));

        Assert.Equal(SignalQuality.NotSupported, gpu.Throttled.Quality);
        Assert.Contains("not exported", gpu.Throttled.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Init_failure_lists_nothing_reports_it_and_is_retried_at_the_next_discovery()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu());
        _nvml.InitResult = NvmlReturn.DriverNotLoaded;
        using NvmlGpuReader reader = CreateReader();

        Assert.False(reader.TryDiscover(out string? failure));
        Assert.Equal("nvmlInit_v2 failed: NVML_ERROR_DRIVER_NOT_LOADED (9): Driver Not Loaded", failure);
        Assert.Equal(0, reader.Count);
        Assert.Equal("missing", Assert.Single(_failures.Reports).Kind);

        _nvml.InitResult = NvmlReturn.Success;
        Assert.True(reader.TryDiscover(out _));
        Assert.True(reader.TryDiscover(out _));

        Assert.Equal(1, reader.Count);
        Assert.Equal(2, _nvml.InitCalls); // the failed one, then one success that is kept
    }

    [Fact]
    public void Initialises_once_even_when_discovery_races()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu());
        using NvmlGpuReader reader = CreateReader();

        Parallel.For(0, 16, _ => reader.TryDiscover(out string? _));

        Assert.Equal(1, _nvml.InitCalls);
    }

    [Fact]
    public void Dispose_shuts_NVML_down_once_and_only_after_a_successful_init()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu());
        NvmlGpuReader reader = CreateReader();
        _ = DiscoverAndRead(reader);

        reader.Dispose();
        reader.Dispose();
        Assert.Equal(1, _nvml.ShutdownCalls);

        var neverInitialised = new FakeNvml { InitResult = NvmlReturn.NoPermission };
        var other = new NvmlGpuReader(neverInitialised, _failures, "linux.gpu");
        Assert.False(other.TryDiscover(out _));
        other.Dispose();
        Assert.Equal(0, neverInitialised.ShutdownCalls);
        Assert.False(other.TryDiscover(out _)); // no init after dispose
        Assert.Equal(1, neverInitialised.InitCalls);
    }

    [Fact]
    public void A_device_that_errors_is_Unknown_while_the_others_read()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu());
        _nvml.Gpus.Add(new FakeNvmlGpu { Temperature = (NvmlReturn.GpuIsLost, 0), Power = (NvmlReturn.GpuIsLost, 0) });
        _nvml.Gpus.Add(new FakeNvmlGpu { HandleResult = NvmlReturn.NoPermission });
        using NvmlGpuReader reader = CreateReader();

        GpuDevice[] gpus = DiscoverAndRead(reader);

        Assert.Equal(3, gpus.Length);
        Assert.Equal(SignalQuality.Measured, gpus[0].PowerWatts.Quality);
        Assert.Equal(SignalQuality.Measured, gpus[1].Utilization.Quality);
        Assert.Equal(SignalQuality.Unknown, gpus[1].TemperatureCelsius.Quality);
        Assert.Equal("nvmlDeviceGetTemperature failed for GPU 1: NVML_ERROR_GPU_IS_LOST (15): GPU is lost", gpus[1].TemperatureCelsius.Reason);
        Assert.Equal(2, gpus[2].Index);
        Assert.Equal("NVIDIA GPU 2", gpus[2].Name);
        Assert.Equal(SignalQuality.Unknown, gpus[2].Utilization.Quality);
        Assert.Contains("Insufficient Permissions", gpus[2].MemoryTotalBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(["access-denied", "io", "io"], _failures.Kinds.Order());
        Assert.True(reader.NeedsRediscovery); // a lost GPU may have gone for good
    }

    [Fact]
    public void Implausible_values_are_Unknown_and_reported_as_out_of_range()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu
        {
            Utilization = (NvmlReturn.Success, 101),
            Memory = (NvmlReturn.Success, 2_000, 1_000),
            Temperature = (NvmlReturn.Success, 512),
            Power = (NvmlReturn.Success, 6_000_000), // 6 kW
        });
        using NvmlGpuReader reader = CreateReader();

        GpuDevice gpu = Assert.Single(DiscoverAndRead(reader));

        Assert.Equal(SignalQuality.Unknown, gpu.Utilization.Quality);
        Assert.Equal(SignalQuality.Unknown, gpu.MemoryUsedBytes.Quality);
        Assert.Equal(SignalQuality.Unknown, gpu.MemoryTotalBytes.Quality);
        Assert.Equal(SignalQuality.Unknown, gpu.TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.Unknown, gpu.PowerWatts.Quality);
        Assert.Contains("6000000 mW", gpu.PowerWatts.Reason, StringComparison.Ordinal);
        Assert.All(_failures.Reports, r => Assert.Equal("out-of-range", r.Kind));
        Assert.Equal(4, _failures.Reports.Count);
    }

    [Fact]
    public void Names_are_cut_to_the_model_limit_and_a_failed_name_falls_back_to_the_index()
    {
        _nvml.Gpus.Add(new FakeNvmlGpu { Name = new string('H', 90) });
        _nvml.Gpus.Add(new FakeNvmlGpu { NameResult = NvmlReturn.GpuIsLost });
        using NvmlGpuReader reader = CreateReader();

        GpuDevice[] gpus = DiscoverAndRead(reader);

        Assert.Equal(new string('H', 64), gpus[0].Name);
        Assert.Equal("NVIDIA GPU 1", gpus[1].Name);
    }

    [Fact]
    public void Count_failure_and_absurd_counts_are_reported()
    {
        _nvml.CountResult = NvmlReturn.Unknown;
        using NvmlGpuReader reader = CreateReader();

        Assert.False(reader.TryDiscover(out string? failure));
        Assert.Contains("NVML_ERROR_UNKNOWN (999)", failure, StringComparison.Ordinal);
        Assert.Equal("io", Assert.Single(_failures.Reports).Kind);
    }
}
