using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Gpu;
using CostModel.Platforms.MacOS;
using CostModel.Platforms.MacOS.Gpu;
using CostModel.Testing.Fakes;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.MacOS.Gpu;

/// <summary>The macOS GPU probe on readings recorded on real Macs (Fixtures/gpu/README.md names each one's source) and on hostile ones.</summary>
public sealed class MacGpuProbeTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly RecordingProbeFailureReporter _failures = new();

    private GpuFactors Collect(IMacAcceleratorSource source)
    {
        var probe = new MacGpuProbe(source, _failures);
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Gpu;
    }

    private GpuFactors CollectFixture(string fixture) => Collect(new RecordedSource(fixture));

    [Fact]
    public void An_M1_Pro_recorded_on_Monterey_is_one_Apple_GPU_2_percent_busy_with_its_unified_memory_in_use()
    {
        GpuFactors gpu = CollectFixture("gpu/m1pro-monterey-stats1094.plist");

        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        Assert.Equal(1, gpu.DeviceCount.Value);
        Assert.Equal(MacGpuProbe.CountSource, gpu.DeviceCount.Source);
        GpuDevice device = Assert.Single(gpu.Devices);
        Assert.Equal(0, device.Index);
        Assert.Equal(GpuVendor.Apple, device.Vendor);

        // The recording stops before "model": the name falls back to the vendor and the class ioreg printed.
        Assert.Equal("Apple GPU (AGXAcceleratorG13X)", device.Name);
        Assert.Equal(SignalQuality.Measured, device.Utilization.Quality);
        Assert.Equal(0.02, device.Utilization.Value, 10);
        Assert.Equal(Now, device.Utilization.ObservedAt);
        Assert.Contains("Device Utilization %", device.Utilization.Source, StringComparison.Ordinal);
        Assert.Equal(340_983_808, device.MemoryUsedBytes.Value);
        Assert.Contains("In use system memory", device.MemoryUsedBytes.Source, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, device.MemoryTotalBytes.Quality);
        Assert.Contains("unified memory", device.MemoryTotalBytes.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Temperature_power_and_throttling_of_an_Apple_GPU_are_NotSupported_with_the_reason_never_0()
    {
        GpuDevice device = Assert.Single(CollectFixture("gpu/m1pro-monterey-stats1094.plist").Devices);

        Assert.Equal(SignalQuality.NotSupported, device.TemperatureCelsius.Quality);
        Assert.Contains("root or a private entitlement", device.TemperatureCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, device.PowerWatts.Quality);
        Assert.Contains("SMC or powermetrics", device.PowerWatts.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, device.Throttled.Quality);
        Assert.Contains("throttling", device.Throttled.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_Intel_Mac_lists_its_integrated_and_discrete_GPUs_with_names_from_model_data_and_vendors_from_vendor_id()
    {
        GpuFactors gpu = CollectFixture("gpu/synthetic-intel-amd-dual.plist");

        Assert.Equal(2, gpu.DeviceCount.Value);
        Assert.Equal([0, 1], gpu.Devices.Select(d => d.Index));
        Assert.Equal(["Intel UHD Graphics 630", "AMD Radeon Pro 5500M"], gpu.Devices.Select(d => d.Name));
        Assert.Equal([GpuVendor.Intel, GpuVendor.Amd], gpu.Devices.Select(d => d.Vendor));
        Assert.Equal(0.07, gpu.Devices[0].Utilization.Value, 10);
        Assert.Equal(0.64, gpu.Devices[1].Utilization.Value, 10);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_integrated_Intel_GPU_uses_system_memory_with_no_total_and_a_discrete_AMD_one_its_VRAM()
    {
        GpuFactors gpu = CollectFixture("gpu/synthetic-intel-amd-dual.plist");
        GpuDevice intel = gpu.Devices[0];
        GpuDevice amd = gpu.Devices[1];

        Assert.Equal(268_435_456, intel.MemoryUsedBytes.Value);
        Assert.Equal(SignalQuality.NotSupported, intel.MemoryTotalBytes.Quality);
        Assert.Equal(2_147_483_648, amd.MemoryUsedBytes.Value);
        Assert.Contains("vramUsedBytes", amd.MemoryUsedBytes.Source, StringComparison.Ordinal);
        Assert.Equal(8192L << 20, amd.MemoryTotalBytes.Value);
        Assert.Equal(SignalQuality.Measured, amd.MemoryTotalBytes.Quality);
    }

    [Fact]
    public void An_AMD_driver_that_publishes_its_temperature_is_Measured_and_an_Intel_one_that_does_not_is_NotSupported()
    {
        GpuFactors gpu = CollectFixture("gpu/synthetic-intel-amd-dual.plist");

        Assert.Equal(SignalQuality.NotSupported, gpu.Devices[0].TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.Measured, gpu.Devices[1].TemperatureCelsius.Quality);
        Assert.Equal(71, gpu.Devices[1].TemperatureCelsius.Value);
    }

    [Fact]
    public void Utilisation_of_250_percent_is_Unknown_with_the_raw_value_and_reported_out_of_range()
    {
        GpuDevice intel = CollectFixture("gpu/synthetic-hostile.plist").Devices[0];

        Assert.Equal(SignalQuality.Unknown, intel.Utilization.Quality);
        Assert.Contains("Device Utilization % = 250", intel.Utilization.Reason, StringComparison.Ordinal);
        Assert.Contains("outside 0..100", intel.Utilization.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "out-of-range" && r.Detail.Contains("= 250", StringComparison.Ordinal));
    }

    [Fact]
    public void Negative_memory_in_use_is_Unknown_not_0()
    {
        GpuDevice intel = CollectFixture("gpu/synthetic-hostile.plist").Devices[0];

        Assert.Equal(SignalQuality.Unknown, intel.MemoryUsedBytes.Quality);
        Assert.Contains("In use system memory = -1", intel.MemoryUsedBytes.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_accelerator_without_PerformanceStatistics_is_still_a_GPU_whose_readings_say_the_dictionary_is_absent()
    {
        GpuFactors gpu = CollectFixture("gpu/synthetic-hostile.plist");
        GpuDevice m2 = gpu.Devices[1];

        Assert.Equal(5, gpu.DeviceCount.Value);
        Assert.Equal("Apple M2 (10-core GPU)", m2.Name);
        Assert.Equal(GpuVendor.Apple, m2.Vendor);
        Assert.Equal(SignalQuality.Unknown, m2.Utilization.Quality);
        Assert.Equal("IOAccelerator AGXAcceleratorG14G: PerformanceStatistics absent", m2.Utilization.Reason);
        Assert.Equal(SignalQuality.Unknown, m2.MemoryUsedBytes.Quality);
        Assert.Equal(SignalQuality.Unknown, m2.MemoryTotalBytes.Quality);
    }

    [Fact]
    public void Values_of_the_wrong_kind_are_Unknown_with_the_kind_found_and_a_broken_name_falls_back_to_the_class()
    {
        GpuDevice m3 = CollectFixture("gpu/synthetic-hostile.plist").Devices[2];

        Assert.Equal(SignalQuality.Unknown, m3.Utilization.Quality);
        Assert.Contains("Device Utilization % is the string \"37\"", m3.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, m3.MemoryUsedBytes.Quality);
        Assert.Contains("In use system memory is 4 bytes of data", m3.MemoryUsedBytes.Reason, StringComparison.Ordinal);

        // model is a dictionary, vendor-id one byte, gpu-core-count 100000: the name and vendor come from the class.
        Assert.Equal("Apple GPU (AGXAcceleratorG15X)", m3.Name);
        Assert.Equal(GpuVendor.Apple, m3.Vendor);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage");
    }

    [Fact]
    public void An_AMD_GPU_Activity_key_stands_in_for_Device_Utilization_and_an_absurd_VRAM_total_or_temperature_is_Unknown()
    {
        GpuDevice amd = CollectFixture("gpu/synthetic-hostile.plist").Devices[3];

        Assert.Equal(GpuVendor.Amd, amd.Vendor);
        Assert.Equal("AMD GPU (AMDRadeonX5000_AMDBaffinGraphicsAccelerator)", amd.Name);
        Assert.Equal(0.12, amd.Utilization.Value, 10);
        Assert.Contains("GPU Activity(%)", amd.Utilization.Source, StringComparison.Ordinal);
        Assert.Equal(1_073_741_824, amd.MemoryUsedBytes.Value);
        Assert.Equal(SignalQuality.Unknown, amd.MemoryTotalBytes.Quality);
        Assert.Contains("VRAM,totalMB = 99999999999", amd.MemoryTotalBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, amd.TemperatureCelsius.Quality);
        Assert.Contains("Temperature(C) = 4000", amd.TemperatureCelsius.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_PerformanceStatistics_that_is_not_a_dictionary_says_so()
    {
        GpuDevice odd = CollectFixture("gpu/synthetic-hostile.plist").Devices[4];

        Assert.Equal("IOAccelerator", odd.Name);
        Assert.Equal(GpuVendor.Other, odd.Vendor);
        Assert.Equal("IOAccelerator IOAccelerator: PerformanceStatistics is the string \"not a dictionary\"", odd.Utilization.Reason);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.Contains("not a dictionary", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_fixture_file_is_named_in_the_README_with_its_source_and_synthetic_ones_say_so()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "MacOS", "Fixtures", "gpu");
        string readme = File.ReadAllText(Path.Combine(folder, "README.md"));
        string[] fixtures = [.. Directory.GetFiles(folder, "*.plist").Select(Path.GetFileName).OfType<string>()];

        Assert.NotEmpty(fixtures);
        Assert.All(fixtures, f => Assert.Contains($"`{f}`", readme, StringComparison.Ordinal));
        Assert.All(fixtures.Where(f => f.StartsWith("synthetic-", StringComparison.Ordinal)),
            f => Assert.Contains("SYNTHETIC", File.ReadAllText(Path.Combine(folder, f)), StringComparison.Ordinal));
        Assert.All(fixtures.Where(f => !f.StartsWith("synthetic-", StringComparison.Ordinal)),
            f => Assert.Contains("https://github.com/", File.ReadAllText(Path.Combine(folder, f)), StringComparison.Ordinal));
    }

    [Fact]
    public void No_accelerator_found_by_a_successful_search_is_a_Measured_count_of_0()
    {
        GpuFactors gpu = Collect(new FakeSource(() => new AcceleratorScan([], 0)));

        Assert.Equal(SignalQuality.Measured, gpu.DeviceCount.Quality);
        Assert.Equal(0, gpu.DeviceCount.Value);
        Assert.Empty(gpu.Devices);
    }

    [Fact]
    public void A_failed_registry_search_is_an_Unknown_count_with_the_kern_return_t_and_no_devices()
    {
        GpuFactors gpu = Collect(new FakeSource(() => throw new IOException("IOServiceGetMatchingServices(\"IOAccelerator\") failed: kern_return_t 0x10000003")));

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.Contains("kern_return_t 0x10000003", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Empty(gpu.Devices);
        Assert.Equal(["io"], _failures.Kinds);
    }

    [Fact]
    public void A_registry_value_over_the_conversion_bounds_is_an_Unknown_count_reported_as_garbage()
    {
        GpuFactors gpu = Collect(new FakeSource(() => throw new InvalidDataException("more than 4096 entries")));

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.Contains("more than 4096 entries", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Equal(["garbage"], _failures.Kinds);
    }

    [Fact]
    public void More_accelerators_than_are_read_make_the_count_Unknown_but_keep_the_ones_read()
    {
        IReadOnlyList<IReadOnlyDictionary<string, object>> one = PropertyList.LoadServices("gpu/m1pro-monterey-stats1094.plist");
        GpuFactors gpu = Collect(new FakeSource(() => new AcceleratorScan(one, 20)));

        Assert.Equal(SignalQuality.Unknown, gpu.DeviceCount.Quality);
        Assert.Contains("20 IOAccelerator services matched, 1 read", gpu.DeviceCount.Reason, StringComparison.Ordinal);
        Assert.Single(gpu.Devices);
    }

    [Fact]
    public void Each_pass_reads_the_registry_again_and_stamps_readings_with_the_pass_time()
    {
        var source = new RecordedSource("gpu/m1pro-monterey-stats1094.plist");
        var probe = new MacGpuProbe(source, _failures);
        var first = new SnapshotBuilder(_time);
        probe.Collect(first);
        _time.Advance(TimeSpan.FromSeconds(2));
        var second = new SnapshotBuilder(_time);
        probe.Collect(second);

        Assert.Equal(2, source.Scans);
        Assert.Equal(Now, first.Gpu.Devices[0].Utilization.ObservedAt);
        Assert.Equal(Now.AddSeconds(2), second.Gpu.Devices[0].Utilization.ObservedAt);
        Assert.Equal(Now.AddSeconds(2), second.Gpu.DeviceCount.ObservedAt);
    }

    [Theory]
    [InlineData(new byte[] { 0x6b, 0x10, 0, 0 }, GpuVendor.Apple)]
    [InlineData(new byte[] { 0x86, 0x80, 0, 0 }, GpuVendor.Intel)]
    [InlineData(new byte[] { 0x02, 0x10, 0, 0 }, GpuVendor.Amd)]
    [InlineData(new byte[] { 0xde, 0x10, 0, 0 }, GpuVendor.Nvidia)]
    [InlineData(new byte[] { 0x34, 0x12, 0, 0 }, GpuVendor.Other)]
    public void Vendor_id_data_is_read_little_endian(byte[] vendorId, GpuVendor expected)
    {
        var service = new Dictionary<string, object> { [AcceleratorKeys.VendorId] = vendorId };

        Assert.Equal(expected, AcceleratorReadings.Vendor(service, "IOAccelerator"));
    }

    [Theory]
    [InlineData("AGXAcceleratorG16X", GpuVendor.Apple)]
    [InlineData("IntelAccelerator", GpuVendor.Intel)]
    [InlineData("AMDRadeonX6000_AMDNavi23GraphicsAccelerator", GpuVendor.Amd)]
    [InlineData("ATIRadeonX2000", GpuVendor.Amd)]
    [InlineData("NVDA", GpuVendor.Nvidia)]
    [InlineData("GeForceTesla", GpuVendor.Nvidia)]
    [InlineData("AppleParavirtGPU", GpuVendor.Other)]
    public void Without_a_vendor_id_the_vendor_comes_from_the_driver_class(string className, GpuVendor expected) =>
        Assert.Equal(expected, AcceleratorReadings.Vendor(new Dictionary<string, object>(), className));

    [Fact]
    public void A_model_name_with_control_characters_or_over_64_characters_is_cleaned_to_fit_the_model()
    {
        var service = new Dictionary<string, object>
        {
            [AcceleratorKeys.Model] = "Apple\tM4 Max " + new string('x', 100),
            [AcceleratorKeys.GpuCoreCount] = 40L,
        };

        string name = AcceleratorReadings.Name(service, "AGXAcceleratorG16X", GpuVendor.Apple);

        Assert.StartsWith("Apple M4 Max x", name, StringComparison.Ordinal);
        Assert.Equal(GpuDevice.MaxNameLength, name.Length);
    }

    [Fact]
    public void A_driver_class_too_long_for_a_name_gives_the_recorded_GPU_a_name_cut_to_64_characters_not_a_failed_probe()
    {
        // Found by the mac fuzz target (benchmarks/CostModel.Fuzz, 2026-12-07): the recorded M1 Pro
        // has no "model", so its name is the vendor and the driver class, "Apple GPU (IOClass)";
        // the class was cut to 64 characters but the name around it was not, and a class of 53 or
        // more made GpuDevice refuse the name: the probe threw and the whole GPU group read Unknown.
        Dictionary<string, object> service = new(Assert.Single(PropertyList.LoadServices("gpu/m1pro-monterey-stats1094.plist")), StringComparer.Ordinal)
        {
            [AcceleratorKeys.IOClass] = "AGXAcceleratorG13X" + new string('X', 60),
        };

        GpuFactors gpu = Collect(new FakeSource(() => new AcceleratorScan([service], 1)));

        GpuDevice device = Assert.Single(gpu.Devices);
        Assert.StartsWith("Apple GPU (AGXAcceleratorG13XXX", device.Name, StringComparison.Ordinal);
        Assert.Equal(GpuDevice.MaxNameLength, device.Name.Length);
        Assert.Equal(0.02, device.Utilization.Value, 10);
    }

    [Fact]
    public void A_name_that_is_one_lone_high_surrogate_falls_back_instead_of_leaving_an_empty_name()
    {
        // A CFString holds UTF-16 units, unpaired surrogates included (CfConvert copies them as they are).
        var service = new Dictionary<string, object> { [AcceleratorKeys.Model] = "\uD83D" };

        Assert.Equal("Apple GPU (AGXAcceleratorG13X)", AcceleratorReadings.Name(service, "AGXAcceleratorG13X", GpuVendor.Apple));
        Assert.Equal("IOAccelerator", GpuNames.Sanitize(" \uD83D", "IOAccelerator"));
    }

    [Fact]
    public void The_Neural_Engine_is_documented_as_NotSupported_with_the_reason()
    {
        Assert.Contains("Neural Engine", AcceleratorReadings.NeuralEngineNotSupported, StringComparison.Ordinal);
        string doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "macos", "gpu.md"));
        Assert.Contains("Neural Engine", doc, StringComparison.Ordinal);
        Assert.Contains("NotSupported", doc, StringComparison.Ordinal);
    }

    [Fact]
    [SupportedOSPlatform("macos")]
    public void MacProbes_registers_the_GPU_probe_under_its_name_for_the_Gpu_group()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IProbeFailureReporter>(_failures);
        MacProbes.Register(services);
        using ServiceProvider provider = services.BuildServiceProvider();

        // Building the probe makes no native call; only Collect does.
        ISignalProbe probe = Assert.Single(provider.GetServices<ISignalProbe>(), p => p.Name == MacGpuProbe.ProbeName);
        Assert.Equal(SignalGroup.Gpu, probe.Group);
        Assert.IsType<MacGpuProbe>(probe);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CostModel.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("CostModel.sln not found above the test assembly");
    }

    private sealed class RecordedSource(string fixture) : IMacAcceleratorSource
    {
        private readonly IReadOnlyList<IReadOnlyDictionary<string, object>> _services = PropertyList.LoadServices(fixture);

        public int Scans { get; private set; }

        public AcceleratorScan Scan()
        {
            Scans++;
            return new AcceleratorScan(_services, _services.Count);
        }
    }

    private sealed class FakeSource(Func<AcceleratorScan> scan) : IMacAcceleratorSource
    {
        public AcceleratorScan Scan() => scan();
    }
}
