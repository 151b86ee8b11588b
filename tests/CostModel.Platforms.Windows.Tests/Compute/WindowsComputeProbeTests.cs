using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Compute;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Compute;

public sealed class WindowsComputeProbeTests
{
    private const long GiB = 1L << 30;
    private const ulong TicksPerSecond = 10_000_000;
    private readonly FakeComputeApi _api = new() { Times = new SystemTimes(Idle: 5_000, Kernel: 8_000, User: 4_000) };
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly WindowsComputeProbe _probe;

    public WindowsComputeProbeTests() => _probe = new WindowsComputeProbe(_api, _failures);

    /// <summary>The container readings the compute probe sees: not in a job unless a test says otherwise.</summary>
    private ContainerFactors Container { get; set; } = new()
    {
        CpuLimitCores = Reading.Measured(ResourceLimit.Unlimited, Start, "not in a job"),
        MemoryLimitBytes = Reading.Measured(ResourceLimit.Unlimited, Start, "not in a job"),
        MemoryWorkingSetBytes = Reading.NotSupported<long>("not in a job"),
    };

    private static DateTimeOffset Start => new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private ComputeFactors Collect()
    {
        var snapshot = new SnapshotBuilder(_time) { Container = Container };
        _probe.Collect(snapshot);
        return snapshot.Compute;
    }

    private ComputeFactors CollectAfter(TimeSpan elapsed)
    {
        _time.Advance(elapsed);
        return Collect();
    }

    private static ContainerFactors CappedAt(double cores) => new()
    {
        CpuLimitCores = Reading.Measured(ResourceLimit.Of(cores), Start, "hard cap"),
        MemoryLimitBytes = Reading.Measured(ResourceLimit.Unlimited, Start, "no memory limit"),
        MemoryWorkingSetBytes = Reading.Measured(1L, Start, "job commit"),
    };

    [Fact]
    public void The_first_sample_is_Unknown_and_cores_memory_and_the_unsupported_signals_are_read()
    {
        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Unknown, compute.CpuUtilization.Quality);
        Assert.Equal("first sample; utilisation needs two", compute.CpuUtilization.Reason);
        Assert.Equal(8.0, compute.EffectiveCores.Value);
        Assert.Equal(SignalQuality.Measured, compute.EffectiveCores.Quality);
        Assert.Equal("GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)", compute.EffectiveCores.Source);
        Assert.Equal(16 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryAvailableBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryUsedBytes.Value);
        Assert.Equal(SignalQuality.NotSupported, compute.LoadPerCore.Quality);
        Assert.Equal("Windows has no load average (no run-queue length is kept for it)", compute.LoadPerCore.Reason);
        Assert.Equal(SignalQuality.NotSupported, compute.CpuPressure.Quality);
        Assert.Equal(SignalQuality.NotSupported, compute.MemoryPressure.Quality);
        Assert.Contains("no pressure stall information", compute.MemoryPressure.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Kernel_time_includes_idle_so_busy_is_kernel_minus_idle_plus_user()
    {
        Collect();
        // 1 s on 8 processors: 8e7 ticks, of which 2e7 busy (1e7 user, 1e7 kernel) and 6e7 idle.
        _api.Times = new SystemTimes(_api.Times.Idle + 60_000_000, _api.Times.Kernel + 70_000_000, _api.Times.User + 10_000_000);

        ComputeFactors compute = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(0.25, compute.CpuUtilization.Value, 9);
        Assert.Equal(SignalQuality.Estimated, compute.CpuUtilization.Quality);
        Assert.StartsWith("GetSystemTimes", compute.CpuUtilization.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Idle_growing_faster_than_kernel_is_absurd_and_Unknown()
    {
        Collect();
        _api.Times = new SystemTimes(_api.Times.Idle + 9_000, _api.Times.Kernel + 1_000, _api.Times.User + 1_000);

        ComputeFactors compute = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(SignalQuality.Unknown, compute.CpuUtilization.Quality);
        Assert.StartsWith("implausible idle time increase '9000' in GetSystemTimes: above the kernel time increase '1000'", compute.CpuUtilization.Reason, StringComparison.Ordinal);
        Assert.Equal(("windows.compute", "out-of-range"), (_failures.Reports.Single().Probe, _failures.Reports.Single().Kind));
    }

    [Fact]
    public void Kernel_and_user_increases_whose_sum_passes_a_64_bit_count_are_absurd_and_Unknown_not_a_thrown_probe()
    {
        // Found by the win fuzz target: each increase fits a signed 64-bit count, their sum did not,
        // wrapped negative, and the busy share outside 0..1 made the model throw inside the probe.
        const ulong Huge = 0x6000_0000_0000_0000;
        Collect();
        _api.Times = new SystemTimes(_api.Times.Idle, _api.Times.Kernel + Huge, _api.Times.User + Huge);

        ComputeFactors compute = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(SignalQuality.Unknown, compute.CpuUtilization.Quality);
        Assert.StartsWith("implausible kernel plus user time increase", compute.CpuUtilization.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Fact]
    public void A_counter_going_backwards_is_Unknown_for_that_sample_and_the_next_sample_starts_afresh()
    {
        Collect();
        _api.Times = new SystemTimes(_api.Times.Idle + 10, _api.Times.Kernel - 1, _api.Times.User + 10);

        ComputeFactors backwards = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(SignalQuality.Unknown, backwards.CpuUtilization.Quality);
        Assert.Equal("GetSystemTimes: CPU counters went backwards; the next sample starts afresh", backwards.CpuUtilization.Reason);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);

        _api.Run(busy: 4 * TicksPerSecond, idle: 4 * TicksPerSecond);
        ComputeFactors next = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(0.5, next.CpuUtilization.Value, 9);
    }

    [Fact]
    public void No_time_between_samples_is_Unknown_not_zero()
    {
        Collect();

        ComputeFactors compute = CollectAfter(TimeSpan.Zero);

        Assert.Equal("no time elapsed between samples", compute.CpuUtilization.Reason);
    }

    [Fact]
    public void A_failed_GetSystemTimes_is_Unknown_with_the_Win32_error()
    {
        _api.TimesError = 5;

        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Unknown, compute.CpuUtilization.Quality);
        Assert.StartsWith("GetSystemTimes failed: Win32 error 5 (", compute.CpuUtilization.Reason, StringComparison.Ordinal);
        Assert.Equal(("windows.compute", "win32-error"), (_failures.Reports.Single().Probe, _failures.Reports.Single().Kind));
        Assert.Equal(8.0, compute.EffectiveCores.Value);
    }

    [Fact]
    public void A_failed_processor_count_makes_cores_and_utilisation_Unknown_with_the_error()
    {
        _api.ProcessorsError = 87;

        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Unknown, compute.EffectiveCores.Quality);
        Assert.StartsWith("GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) failed: Win32 error 87", compute.EffectiveCores.Reason, StringComparison.Ordinal);
        Assert.Equal(compute.EffectiveCores.Reason, compute.CpuUtilization.Reason);
    }

    [Fact]
    public void A_hard_cap_of_2_cores_bounds_the_cores_and_utilisation_is_the_job_time_over_the_cap()
    {
        Container = CappedAt(2);
        _api.JobCpuTime = 1_000;
        ComputeFactors first = Collect();

        Assert.Equal(2.0, first.EffectiveCores.Value);
        Assert.Equal("hard cap", first.EffectiveCores.Source);
        Assert.Equal("first sample; utilisation needs two", first.CpuUtilization.Reason);

        // One core busy for 1 s in the job: half of a 2-core cap, whatever the rest of the machine does.
        _api.JobCpuTime += TicksPerSecond;
        _api.Run(busy: 8 * TicksPerSecond, idle: 0);
        ComputeFactors second = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(0.5, second.CpuUtilization.Value, 9);
        Assert.StartsWith("QueryInformationJobObject(JobObjectBasicAccountingInformation)", second.CpuUtilization.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Under_a_cap_with_an_unreadable_job_time_the_machine_busy_processors_over_the_cap_are_used()
    {
        Container = CappedAt(2);
        _api.JobCpuTimeError = 1;
        Collect();
        _api.Run(busy: 1 * TicksPerSecond, idle: 7 * TicksPerSecond);

        ComputeFactors compute = CollectAfter(TimeSpan.FromSeconds(1));

        // 1 of 8 processors busy = 1 core of the 2 the cap allows.
        Assert.Equal(0.5, compute.CpuUtilization.Value, 9);
        Assert.StartsWith("GetSystemTimes busy processors divided by the effective cores", compute.CpuUtilization.Source, StringComparison.Ordinal);
        Assert.All(_failures.Reports, r => Assert.Equal("win32-error", r.Kind));
    }

    [Fact]
    public void A_cap_that_appears_between_samples_needs_two_samples_of_the_job_counter()
    {
        Collect();
        Container = CappedAt(2);

        ComputeFactors compute = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.StartsWith("the CPU bound (a job's CPU hard cap) changed", compute.CpuUtilization.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void When_a_cap_goes_the_machine_counters_kept_meanwhile_give_utilisation_at_once()
    {
        Container = CappedAt(2);
        Collect();
        Container = CappedAt(16);
        _api.Run(busy: 2 * TicksPerSecond, idle: 6 * TicksPerSecond);

        ComputeFactors compute = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(0.25, compute.CpuUtilization.Value, 9);
        Assert.StartsWith("GetSystemTimes", compute.CpuUtilization.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cap_above_the_machine_does_not_bind()
    {
        Container = CappedAt(16);

        ComputeFactors compute = Collect();

        Assert.Equal(8.0, compute.EffectiveCores.Value);
        Assert.Equal("GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)", compute.EffectiveCores.Source);
    }

    [Fact]
    public void An_unknown_cap_makes_the_processor_count_an_estimated_upper_bound()
    {
        Container = Container with { CpuLimitCores = Reading.Unknown<ResourceLimit>("rate query failed") };

        ComputeFactors compute = Collect();

        Assert.Equal(8.0, compute.EffectiveCores.Value);
        Assert.Equal(SignalQuality.Estimated, compute.EffectiveCores.Quality);
        Assert.Contains("upper bound", compute.EffectiveCores.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_memory_limit_below_physical_memory_is_the_total_and_the_job_commit_is_used()
    {
        Container = Container with
        {
            MemoryLimitBytes = Reading.Measured(ResourceLimit.Of(4 * GiB), Start, "JobMemoryLimit"),
            MemoryWorkingSetBytes = Reading.Measured(3 * GiB, Start, "JobMemory"),
        };

        ComputeFactors compute = Collect();

        Assert.Equal(4 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal("JobMemoryLimit", compute.MemoryTotalBytes.Source);
        Assert.Equal(1 * GiB, compute.MemoryAvailableBytes.Value);
        Assert.Equal("JobMemory", compute.MemoryAvailableBytes.Source);
        Assert.Equal(3 * GiB, compute.MemoryUsedBytes.Value);
    }

    [Fact]
    public void A_job_memory_limit_above_physical_memory_leaves_the_machine_total()
    {
        Container = Container with
        {
            MemoryLimitBytes = Reading.Measured(ResourceLimit.Of(64 * GiB), Start, "JobMemoryLimit"),
            MemoryWorkingSetBytes = Reading.Measured(1 * GiB, Start, "JobMemory"),
        };

        ComputeFactors compute = Collect();

        Assert.Equal(16 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryAvailableBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryUsedBytes.Value);
    }

    [Fact]
    public void An_unknown_memory_limit_makes_the_machine_figures_an_estimated_upper_bound()
    {
        Container = Container with { MemoryLimitBytes = Reading.Unknown<ResourceLimit>("limit query failed") };

        ComputeFactors compute = Collect();

        Assert.Equal(SignalQuality.Estimated, compute.MemoryTotalBytes.Quality);
        Assert.Equal(SignalQuality.Estimated, compute.MemoryAvailableBytes.Quality);
        Assert.Equal(16 * GiB, compute.MemoryTotalBytes.Value);
    }

    [Fact]
    public void A_binding_limit_with_an_unknown_job_commit_leaves_used_Unknown_and_available_an_upper_bound()
    {
        Container = Container with
        {
            MemoryLimitBytes = Reading.Measured(ResourceLimit.Of(4 * GiB), Start, "JobMemoryLimit"),
            MemoryWorkingSetBytes = Reading.Unknown<long>("usage query failed"),
        };

        ComputeFactors compute = Collect();

        Assert.Equal(4 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(4 * GiB, compute.MemoryAvailableBytes.Value);
        Assert.Equal(SignalQuality.Estimated, compute.MemoryAvailableBytes.Quality);
        Assert.Equal("usage query failed", compute.MemoryUsedBytes.Reason);
    }

    [Fact]
    public void A_failed_GlobalMemoryStatusEx_is_Unknown_with_the_error_and_retried_on_the_next_pass()
    {
        _api.MemoryError = 8;

        ComputeFactors failed = Collect();

        Assert.StartsWith("GlobalMemoryStatusEx failed: Win32 error 8", failed.MemoryTotalBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(failed.MemoryTotalBytes.Reason, failed.MemoryAvailableBytes.Reason);

        _api.MemoryError = 0;
        ComputeFactors next = CollectAfter(TimeSpan.FromSeconds(1));

        Assert.Equal(16 * GiB, next.MemoryTotalBytes.Value);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL << 53)]
    public void Implausible_physical_memory_is_Unknown_with_the_raw_value(ulong total)
    {
        _api.Memory = new PhysicalMemory(total, 0);

        ComputeFactors compute = Collect();

        Assert.StartsWith($"implausible physical memory '{total}' in GlobalMemoryStatusEx ullTotalPhys", compute.MemoryTotalBytes.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Fact]
    public void Available_above_total_is_Unknown()
    {
        _api.Memory = new PhysicalMemory(8UL << 30, 9UL << 30);

        ComputeFactors compute = Collect();

        Assert.Equal(8 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(SignalQuality.Unknown, compute.MemoryAvailableBytes.Quality);
        Assert.StartsWith("implausible available memory", compute.MemoryUsedBytes.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Memory_is_read_every_5_seconds_unless_the_container_memory_readings_change()
    {
        Collect();
        CollectAfter(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _api.MemoryCalls);

        Container = Container with { MemoryLimitBytes = Reading.Measured(ResourceLimit.Of(4 * GiB), Start, "JobMemoryLimit") };
        CollectAfter(TimeSpan.FromSeconds(1));
        Assert.Equal(2, _api.MemoryCalls);

        CollectAfter(TimeSpan.FromSeconds(5));
        Assert.Equal(3, _api.MemoryCalls);
    }
}
