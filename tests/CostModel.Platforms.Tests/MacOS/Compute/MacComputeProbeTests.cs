using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Compute;
using CostModel.Platforms.MacOS.Native;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.MacOS.Compute;

public sealed class MacComputeProbeTests : IDisposable
{
    private const long GiB = 1L << 30;
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeComputeSource _source = new();
    private readonly MacComputeProbe _probe;

    public MacComputeProbeTests()
    {
        // An M4 Pro's sysctls, the M4 mini's memory figures (its own 16 GiB), one 4-CPU tick sample and a normal pressure level.
        _source.WithSysctl("m4pro-sysctl-hw.txt").WithVmStat("m4-macmini-vm_stat.txt", RecordedMac.M4MiniMemoryBytes);
        _source.Sysctls[MacComputeProbe.PressureLevel] = MacMemory.PressureLevelNormal;
        _source.Ticks = [new(100, 50, 800, 0), new(100, 50, 800, 0), new(100, 50, 800, 0), new(100, 50, 800, 0)];
        _source.LoadAverage = 7.0;
        _probe = new MacComputeProbe(_source, _failures);
    }

    public void Dispose() => _probe.Dispose();

    private ComputeFactors Collect()
    {
        var snapshot = new SnapshotBuilder(_time);
        _probe.Collect(snapshot);
        return snapshot.Compute;
    }

    [Fact]
    public void Probe_is_macos_compute_in_the_compute_group()
    {
        Assert.Equal("macos.compute", _probe.Name);
        Assert.Equal(SignalGroup.Compute, _probe.Group);
    }

    [Fact]
    public void Dependency_injection_sees_one_public_constructor_that_takes_only_the_failure_reporter()
    {
        // ProbeFactory builds probes with ActivatorUtilities, which picks among public constructors only.
        System.Reflection.ConstructorInfo constructor = Assert.Single(typeof(MacComputeProbe).GetConstructors());
        Assert.Equal([typeof(CostModel.Telemetry.IProbeFailureReporter)], constructor.GetParameters().Select(p => p.ParameterType));
    }

    [Fact]
    public void Recorded_M4_Pro_counts_all_fourteen_logical_cpus_and_names_its_performance_levels()
    {
        ComputeFactors compute = Collect();

        Assert.Equal(14.0, compute.EffectiveCores.Value);
        Assert.Equal(SignalQuality.Measured, compute.EffectiveCores.Quality);
        Assert.StartsWith("sysctl hw.logicalcpu", compute.EffectiveCores.Source, StringComparison.Ordinal);
        Assert.Contains("10 + 4 by performance level", compute.EffectiveCores.Source, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Recorded_Intel_mac_counts_its_eight_threads_and_has_no_performance_levels()
    {
        var intel = new FakeComputeSource().WithSysctl("intel-i7-4980hq-sysctl-hw-machdep.txt");
        using var probe = new MacComputeProbe(intel, _failures);
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);

        Assert.Equal(8.0, snapshot.Compute.EffectiveCores.Value);
        Assert.Equal("sysctl hw.logicalcpu", snapshot.Compute.EffectiveCores.Source);
        Assert.Equal(16 * GiB, snapshot.Compute.MemoryTotalBytes.Value);
        Assert.Equal(1, intel.SysctlReads["hw.nperflevels"]);
        Assert.False(intel.SysctlReads.ContainsKey("hw.perflevel0.logicalcpu"));
    }

    [Fact]
    public void Recorded_M4_mini_available_memory_is_free_plus_file_cache_plus_purgeable_pages()
    {
        ComputeFactors compute = Collect();

        // Pages free 24141 (vm_stat already left out the 1272 speculative ones, which are file-backed) + file-backed 409145 + purgeable 4133.
        long available = (24141L + 409145 + 4133) * 16384;
        Assert.Equal(16 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(SignalQuality.Measured, compute.MemoryTotalBytes.Quality);
        Assert.Equal(available, compute.MemoryAvailableBytes.Value);
        Assert.Equal(SignalQuality.Measured, compute.MemoryAvailableBytes.Quality);
        Assert.Equal((16 * GiB) - available, compute.MemoryUsedBytes.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Recorded_M4_mini_reads_more_available_memory_after_a_large_file_filled_its_cache()
    {
        long before = Collect().MemoryAvailableBytes.Value;
        _source.WithVmStat("m4-macmini-vm_stat-after-reading-20gb.txt", RecordedMac.M4MiniMemoryBytes);
        long after = Collect().MemoryAvailableBytes.Value;

        // Free pages fell from 24141 to 3812 while the file cache grew by 61121 pages: the cache can be dropped, so more is available.
        Assert.Equal((3812L + 470266 + 14) * 16384, after);
        Assert.True(after > before, $"{after} should exceed {before}");
    }

    [Theory]
    [InlineData("m5pro-vm_stat.txt", RecordedMac.M5ProMemoryBytes, 1133377L + 896753 + 23665, 16384)]
    [InlineData("intel-vm_stat.txt", RecordedMac.IntelMemoryBytes, 6127229L + 1080348 + 11820, 4096)]
    public void Recorded_vm_stat_gives_available_memory_in_its_own_page_size(string file, long memory, long pages, long pageBytes)
    {
        var source = new FakeComputeSource().WithVmStat(file, memory);
        using var probe = new MacComputeProbe(source, _failures);
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);

        Assert.Equal(pages * pageBytes, snapshot.Compute.MemoryAvailableBytes.Value);
        Assert.Equal(memory - (pages * pageBytes), snapshot.Compute.MemoryUsedBytes.Value);
    }

    [Fact]
    public void Memory_size_and_page_size_are_read_once()
    {
        Collect();
        Collect();
        _time.Advance(TimeSpan.FromMinutes(5));
        Collect();

        Assert.Equal(1, _source.SysctlReads["hw.memsize"]);
        Assert.Equal(1, _source.PageReads);
    }

    [Fact]
    public void Recorded_M1_ticks_give_busy_ticks_over_all_ticks_from_the_second_sample()
    {
        List<CpuLoadTicks[]> samples = RecordedMac.LoadTicks("m1-cpu-ticks.md");
        Assert.Equal(2, samples.Count);
        Assert.All(samples, s => Assert.Equal(8, s.Length));

        _source.Ticks = samples[0];
        Reading<double> first = Collect().CpuUtilization;
        _time.Advance(TimeSpan.FromSeconds(1));
        _source.Ticks = samples[1];
        Reading<double> second = Collect().CpuUtilization;

        Assert.Equal(SignalQuality.Unknown, first.Quality);
        Assert.Equal("first sample; utilisation needs two", first.Reason);

        // Busy (user + system + nice) deltas 1+0+1+3+1+0+6+3 = 15; idle 8+8+9+6+9+9+3+7 = 59.
        Assert.Equal(15.0 / 74, second.Value, 12);
        Assert.Equal(SignalQuality.Estimated, second.Quality);
        Assert.Equal(MacComputeProbe.TicksSource, second.Source);
    }

    [Fact]
    public void Tick_counters_that_wrap_past_2_to_the_32_give_the_true_delta()
    {
        _source.Ticks = [new(uint.MaxValue - 9, 100, uint.MaxValue - 29, 0)];
        Collect();
        _source.Ticks = [new(20, 110, 10, 0)];
        Reading<double> utilization = Collect().CpuUtilization;

        // user +30 (through the wrap), system +10, idle +40 (through the wrap).
        Assert.Equal(40.0 / 80, utilization.Value, 12);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Tick_counters_that_go_backwards_read_unknown_are_reported_and_the_next_sample_starts_afresh()
    {
        _source.Ticks = [new(1000, 500, 8000, 0), new(1000, 500, 8000, 0)];
        Collect();
        _source.Ticks = [new(1000, 500, 8000, 0), new(900, 500, 8100, 0)];
        Reading<double> backwards = Collect().CpuUtilization;
        _source.Ticks = [new(1010, 500, 8090, 0), new(910, 500, 8190, 0)];
        Reading<double> next = Collect().CpuUtilization;

        Assert.Equal(SignalQuality.Unknown, backwards.Quality);
        Assert.Contains("CPU 1's tick counters went backwards", backwards.Reason, StringComparison.Ordinal);
        Assert.Equal(("macos.compute", "out-of-range"), (_failures.Reports.Single().Probe, _failures.Reports.Single().Kind));
        Assert.Equal(20.0 / 200, next.Value, 12);
    }

    [Theory]
    [InlineData(MacCpuTicks.MaxForwardDelta - 1, true)]
    [InlineData(MacCpuTicks.MaxForwardDelta, false)]
    public void A_delta_of_2_to_the_31_or_more_is_a_counter_going_backwards_not_a_wrap(uint delta, bool accepted)
    {
        _source.Ticks = [new(0, 0, 1000, 0)];
        Collect();
        _source.Ticks = [new(delta, 0, 1010, 0)];
        Reading<double> utilization = Collect().CpuUtilization;

        Assert.Equal(accepted, utilization.HasValue);
        Assert.Equal(accepted ? 0 : 1, _failures.Reports.Count);
    }

    [Fact]
    public void A_change_in_the_number_of_cpus_makes_that_sample_unknown()
    {
        _source.Ticks = [new(100, 0, 900, 0), new(100, 0, 900, 0)];
        Collect();
        _source.Ticks = [new(110, 0, 990, 0), new(110, 0, 990, 0), new(0, 0, 5, 0)];
        Reading<double> changed = Collect().CpuUtilization;
        _source.Ticks = [new(120, 0, 1080, 0), new(120, 0, 1080, 0), new(10, 0, 95, 0)];
        Reading<double> next = Collect().CpuUtilization;

        Assert.Equal(SignalQuality.Unknown, changed.Quality);
        Assert.Contains("from 2 to 3", changed.Reason, StringComparison.Ordinal);
        Assert.Equal(30.0 / 300, next.Value, 12);
    }

    [Fact]
    public void Samples_with_no_tick_in_between_read_unknown()
    {
        Collect();
        Reading<double> utilization = Collect().CpuUtilization;

        Assert.Equal(SignalQuality.Unknown, utilization.Quality);
        Assert.Equal(MacCpuTicks.NoTicks, utilization.Reason);
    }

    [Fact]
    public void A_failed_tick_read_is_unknown_with_its_reason_and_the_next_good_read_is_a_first_sample()
    {
        Collect();
        _source.TicksRead = MacRead.Failed("io", "host_processor_info(PROCESSOR_CPU_LOAD_INFO) failed: kern_return_t 5");
        Reading<double> failed = Collect().CpuUtilization;
        _source.TicksRead = MacRead.Ok;
        Reading<double> next = Collect().CpuUtilization;

        Assert.Equal(SignalQuality.Unknown, failed.Quality);
        Assert.Equal("host_processor_info(PROCESSOR_CPU_LOAD_INFO) failed: kern_return_t 5", failed.Reason);
        Assert.Equal("io", _failures.Kinds.Single());
        Assert.Equal(MacCpuTicks.FirstSample, next.Reason);
    }

    [Fact]
    public void Load_per_core_is_the_one_minute_load_over_the_logical_cpus()
    {
        Reading<double> load = Collect().LoadPerCore;

        Assert.Equal(7.0 / 14, load.Value, 12);
        Assert.Equal(SignalQuality.Measured, load.Quality);
        Assert.Equal("getloadavg", load.Source);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.5)]
    [InlineData(2e6)]
    [InlineData(double.PositiveInfinity)]
    public void An_implausible_load_average_is_unknown_and_reported(double load)
    {
        _source.LoadAverage = load;
        Reading<double> reading = Collect().LoadPerCore;

        Assert.Equal(SignalQuality.Unknown, reading.Quality);
        Assert.StartsWith("implausible load average", reading.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Kinds.Single());
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(70_000L)]
    public void An_implausible_logical_cpu_count_makes_cores_and_load_per_core_unknown(long cores)
    {
        _source.Sysctls["hw.logicalcpu"] = cores;
        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Unknown, compute.EffectiveCores.Quality);
        Assert.StartsWith("implausible logical CPU count", compute.EffectiveCores.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, compute.LoadPerCore.Quality);
        Assert.Equal(compute.EffectiveCores.Reason, compute.LoadPerCore.Reason);
    }

    [Fact]
    public void The_core_count_is_read_again_only_after_thirty_seconds()
    {
        Collect();
        _source.Sysctls["hw.logicalcpu"] = 10;
        _time.Advance(TimeSpan.FromSeconds(29));
        double before = Collect().EffectiveCores.Value;
        _time.Advance(TimeSpan.FromSeconds(1));
        double after = Collect().EffectiveCores.Value;

        Assert.Equal(14.0, before);
        Assert.Equal(10.0, after);
        Assert.Equal(2, _source.SysctlReads["hw.logicalcpu"]);
    }

    [Fact]
    public void A_failed_core_count_is_retried_on_the_next_pass()
    {
        _source.SysctlFailures["hw.logicalcpu"] = MacRead.Failed("io", "sysctl hw.logicalcpu failed: errno 12");
        Reading<double> failed = Collect().EffectiveCores;
        _source.SysctlFailures.Clear();
        Reading<double> next = Collect().EffectiveCores;

        Assert.Equal("sysctl hw.logicalcpu failed: errno 12", failed.Reason);
        Assert.Equal(14.0, next.Value);
    }

    [Theory]
    [InlineData(MacMemory.PressureLevelNormal, 0.0)]
    [InlineData(MacMemory.PressureLevelWarning, 0.5)]
    [InlineData(MacMemory.PressureLevelCritical, 1.0)]
    public void Memory_pressure_levels_map_to_an_estimated_pressure(long level, double pressure)
    {
        _source.Sysctls[MacComputeProbe.PressureLevel] = level;
        Reading<double> reading = Collect().MemoryPressure;

        Assert.Equal(pressure, reading.Value);
        Assert.Equal(SignalQuality.Estimated, reading.Quality);
        Assert.Equal(MacMemory.PressureSource, reading.Source);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(3L)]
    [InlineData(8L)]
    public void An_undefined_memory_pressure_level_is_unknown_and_reported(long level)
    {
        _source.Sysctls[MacComputeProbe.PressureLevel] = level;
        Reading<double> reading = Collect().MemoryPressure;

        Assert.Equal(SignalQuality.Unknown, reading.Quality);
        Assert.Contains($"'{level}'", reading.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Kinds.Single());
    }

    [Fact]
    public void A_mac_without_the_pressure_sysctl_reads_not_supported_without_a_report()
    {
        _source.Sysctls.Remove(MacComputeProbe.PressureLevel);
        Reading<double> reading = Collect().MemoryPressure;

        Assert.Equal(SignalQuality.NotSupported, reading.Quality);
        Assert.Contains("ENOENT", reading.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Cpu_pressure_is_not_supported_because_macos_has_no_psi()
    {
        Reading<double> reading = Collect().CpuPressure;

        Assert.Equal(SignalQuality.NotSupported, reading.Quality);
        Assert.Equal(MacMemory.NoCpuPressure, reading.Reason);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData((64L << 40) + 1)]
    public void An_implausible_memory_size_makes_every_memory_figure_unknown(long bytes)
    {
        _source.Sysctls["hw.memsize"] = bytes;
        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Unknown, compute.MemoryTotalBytes.Quality);
        Assert.StartsWith("implausible memory size", compute.MemoryTotalBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, compute.MemoryAvailableBytes.Quality);
        Assert.Equal(SignalQuality.Unknown, compute.MemoryUsedBytes.Quality);
        Assert.Equal("out-of-range", _failures.Kinds.Single());
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(2048L)]
    [InlineData(12288L)]
    [InlineData(131072L)]
    public void An_implausible_page_size_makes_available_and_used_memory_unknown(long pageBytes)
    {
        _source.PageBytes = pageBytes;
        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Measured, compute.MemoryTotalBytes.Quality);
        Assert.StartsWith("implausible page size", compute.MemoryAvailableBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, compute.MemoryUsedBytes.Quality);
    }

    [Fact]
    public void A_kernel_that_fills_no_file_backed_count_leaves_available_memory_unknown()
    {
        // A rev0 vm_statistics64 ends after speculative_count: 24 integers.
        _source.VmFilledCount = 24;
        Reading<long> available = Collect().MemoryAvailableBytes;

        Assert.Equal(SignalQuality.Unknown, available.Quality);
        Assert.Contains("filled 24 of 38 integers", available.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Speculative_pages_above_free_pages_are_refused()
    {
        VmStatistics64 vm = _source.Vm;
        vm.SpeculativeCount = vm.FreeCount + 1;
        _source.Vm = vm;
        Reading<long> available = Collect().MemoryAvailableBytes;

        Assert.Equal(SignalQuality.Unknown, available.Quality);
        Assert.Contains("speculative pages above", available.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Kinds.Single());
    }

    [Fact]
    public void Available_memory_above_the_machine_is_refused()
    {
        // The M5 Pro's 48 GiB of figures against the M4 mini's 16 GiB.
        _source.WithVmStat("m5pro-vm_stat.txt", RecordedMac.M4MiniMemoryBytes);
        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Unknown, compute.MemoryAvailableBytes.Quality);
        Assert.Contains("above hw.memsize", compute.MemoryAvailableBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, compute.MemoryUsedBytes.Quality);
    }

    [Fact]
    public void A_failed_vm_statistics_read_is_unknown_with_its_reason()
    {
        _source.VmRead = MacRead.Failed("io", "host_statistics64(HOST_VM_INFO64) failed: kern_return_t 4");
        ComputeFactors compute = Collect();

        Assert.Equal("host_statistics64(HOST_VM_INFO64) failed: kern_return_t 4", compute.MemoryAvailableBytes.Reason);
        Assert.Equal(SignalQuality.Measured, compute.MemoryTotalBytes.Quality);
        Assert.Equal("io", _failures.Kinds.Single());
    }
}
