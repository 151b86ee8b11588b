using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Container;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Container;

public sealed class WindowsContainerProbeTests
{
    private const long GiB = 1L << 30;
    private const int AccessDenied = 5;
    private readonly FakeJobApi _api = new();
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly WindowsContainerProbe _probe;

    public WindowsContainerProbeTests() => _probe = new WindowsContainerProbe(_api, _failures);

    private ContainerFactors Collect()
    {
        var snapshot = new SnapshotBuilder(_time);
        _probe.Collect(snapshot);
        return snapshot.Container;
    }

    [Fact]
    public void Not_in_a_job_has_unlimited_cpu_and_memory_and_nothing_throttles_it()
    {
        ContainerFactors container = Collect();

        Assert.Equal(CgroupLayout.None, container.Layout);
        Assert.Equal(ResourceLimit.Unlimited, container.CpuLimitCores.Value);
        Assert.Equal(SignalQuality.Measured, container.CpuLimitCores.Quality);
        Assert.Equal(ResourceLimit.Unlimited, container.MemoryLimitBytes.Value);
        Assert.StartsWith("IsProcessInJob: the process is in no job object", container.MemoryLimitBytes.Source, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, container.MemoryWorkingSetBytes.Quality);
        Assert.Equal(0L, container.ThrottledPeriods.Value);
        Assert.Equal(0.0, container.ThrottledShare.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_hard_cap_of_25_percent_of_8_processors_is_2_cores_and_throttling_has_no_counter()
    {
        _api.InJob = true;
        _api.Processors = 8;
        _api.Rate = new JobCpuRateControl(JobCpuRateControl.Enable | JobCpuRateControl.HardCap, 2500);

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Of(2), container.CpuLimitCores.Value);
        Assert.Equal(SignalQuality.Measured, container.CpuLimitCores.Quality);
        Assert.Contains("hard-cap CpuRate 2500 (1/100 %) of 8 processors", container.CpuLimitCores.Source, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, container.ThrottledPeriods.Quality);
        Assert.Equal(SignalQuality.NotSupported, container.ThrottledShare.Quality);
        Assert.Contains("no throttling counter", container.ThrottledShare.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Weight_based_rate_control_is_not_a_cap()
    {
        _api.InJob = true;
        _api.Rate = new JobCpuRateControl(JobCpuRateControl.Enable | JobCpuRateControl.WeightBased, 3);

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Unlimited, container.CpuLimitCores.Value);
        Assert.Contains("weight-based rate control (weight 3)", container.CpuLimitCores.Source, StringComparison.Ordinal);
        Assert.Contains("not a cap", container.CpuLimitCores.Source, StringComparison.Ordinal);
        Assert.Equal(0L, container.ThrottledPeriods.Value);
    }

    [Fact]
    public void A_rate_without_the_hard_cap_flag_is_not_a_cap()
    {
        _api.InJob = true;
        _api.Rate = new JobCpuRateControl(JobCpuRateControl.Enable, 2500);

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Unlimited, container.CpuLimitCores.Value);
        Assert.Contains("without JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP", container.CpuLimitCores.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_min_max_rate_caps_at_its_max_rate()
    {
        _api.InJob = true;
        _api.Processors = 4;
        // MinRate 1000 in the low word, MaxRate 5000 in the high word.
        _api.Rate = new JobCpuRateControl(JobCpuRateControl.Enable | JobCpuRateControl.MinMaxRate, (5000u << 16) | 1000u);

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Of(2), container.CpuLimitCores.Value);
        Assert.Contains("MaxRate 5000", container.CpuLimitCores.Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(10_001u)]
    public void An_implausible_hard_cap_rate_is_Unknown_with_the_raw_value_and_throttling_is_unattributed(uint rate)
    {
        _api.InJob = true;
        _api.Rate = new JobCpuRateControl(JobCpuRateControl.Enable | JobCpuRateControl.HardCap, rate);

        ContainerFactors container = Collect();

        Assert.Equal(SignalQuality.Unknown, container.CpuLimitCores.Quality);
        Assert.StartsWith($"implausible job CPU rate '{rate}'", container.CpuLimitCores.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, container.ThrottledShare.Quality);
        Assert.StartsWith("throttling cannot be attributed", container.ThrottledShare.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(70_000)]
    public void A_processor_count_outside_the_model_s_range_makes_a_hard_cap_Unknown_not_a_thrown_probe(int processors)
    {
        // Found by the win fuzz target: a count of 0 gave a cap of 0 cores (past 65 536, more than the
        // model's bound), which the model refused inside the probe, and the container group read Unknown.
        _api.InJob = true;
        _api.Processors = processors;
        _api.Rate = new JobCpuRateControl(JobCpuRateControl.Enable | JobCpuRateControl.HardCap, 10_000);

        ContainerFactors container = Collect();

        Assert.Equal(SignalQuality.Unknown, container.CpuLimitCores.Quality);
        Assert.StartsWith($"implausible logical processor count '{processors}'", container.CpuLimitCores.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Fact]
    public void Rate_control_off_in_a_job_is_unlimited()
    {
        _api.InJob = true;

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Unlimited, container.CpuLimitCores.Value);
        Assert.Contains("CPU rate control is off", container.CpuLimitCores.Source, StringComparison.Ordinal);
        Assert.Equal(0.0, container.ThrottledShare.Value);
    }

    [Fact]
    public void A_job_memory_limit_with_its_flag_set_is_the_limit_and_the_job_commit_is_the_working_set()
    {
        _api.InJob = true;
        _api.Limits = new JobMemoryLimits(JobMemoryLimits.JobMemory, 0, 2 * (ulong)GiB, 0);
        _api.JobCommit = (ulong)GiB / 2;

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Of(2 * GiB), container.MemoryLimitBytes.Value);
        Assert.EndsWith("JobMemoryLimit", container.MemoryLimitBytes.Source, StringComparison.Ordinal);
        Assert.Equal(GiB / 2, container.MemoryWorkingSetBytes.Value);
        Assert.Contains("JobMemory", container.MemoryWorkingSetBytes.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_memory_limit_value_without_its_flag_is_ignored()
    {
        _api.InJob = true;
        _api.Limits = new JobMemoryLimits(0, 1 * (ulong)GiB, 2 * (ulong)GiB, 0);
        _api.JobCommit = (ulong)GiB / 4;

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Unlimited, container.MemoryLimitBytes.Value);
        Assert.Contains("neither JOB_OBJECT_LIMIT_JOB_MEMORY nor JOB_OBJECT_LIMIT_PROCESS_MEMORY", container.MemoryLimitBytes.Source, StringComparison.Ordinal);
        Assert.Equal(GiB / 4, container.MemoryWorkingSetBytes.Value);
    }

    [Fact]
    public void A_smaller_process_memory_limit_binds_and_this_process_commit_is_the_working_set()
    {
        _api.InJob = true;
        _api.Limits = new JobMemoryLimits(JobMemoryLimits.JobMemory | JobMemoryLimits.ProcessMemory, 1 * (ulong)GiB, 4 * (ulong)GiB, 0);
        _api.JobCommit = 3 * (ulong)GiB;
        _api.ProcessCommit = 300_000_000;

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Of(GiB), container.MemoryLimitBytes.Value);
        Assert.EndsWith("ProcessMemoryLimit", container.MemoryLimitBytes.Source, StringComparison.Ordinal);
        Assert.Equal(300_000_000L, container.MemoryWorkingSetBytes.Value);
        Assert.StartsWith("K32GetProcessMemoryInfo PrivateUsage", container.MemoryWorkingSetBytes.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_memory_limit_of_0_with_its_flag_set_is_Unknown_and_so_is_the_working_set()
    {
        _api.InJob = true;
        _api.Limits = new JobMemoryLimits(JobMemoryLimits.JobMemory, 0, 0, 0);

        ContainerFactors container = Collect();

        Assert.Equal(SignalQuality.Unknown, container.MemoryLimitBytes.Quality);
        Assert.StartsWith("implausible job memory limit '0'", container.MemoryLimitBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, container.MemoryWorkingSetBytes.Quality);
        Assert.StartsWith("the memory charged to the job cannot be attributed", container.MemoryWorkingSetBytes.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_memory_limit_above_2_to_the_63_binds_nothing()
    {
        _api.InJob = true;
        _api.Limits = new JobMemoryLimits(JobMemoryLimits.JobMemory, 0, ulong.MaxValue, 0);

        ContainerFactors container = Collect();

        Assert.Equal(ResourceLimit.Unlimited, container.MemoryLimitBytes.Value);
        Assert.Contains("18446744073709551615 bytes is above 2^63", container.MemoryLimitBytes.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_a_system_answers_with_a_stub_are_Unknown_not_unlimited()
    {
        _api.InJob = true;
        _api.MemoryLimitsUnreadable = "a stub answers zeros";
        _api.Limits = new JobMemoryLimits(0, 0, 0, 0);

        ContainerFactors container = Collect();

        Assert.Equal(SignalQuality.Unknown, container.MemoryLimitBytes.Quality);
        Assert.Equal("a stub answers zeros", container.MemoryLimitBytes.Reason);
        Assert.Equal(SignalQuality.Unknown, container.MemoryWorkingSetBytes.Quality);
        Assert.Contains("a stub answers zeros", container.MemoryWorkingSetBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(("windows.container", "not-implemented"), (_failures.Reports.Single().Probe, _failures.Reports.Single().Kind));
    }

    [Fact]
    public void A_failed_membership_check_makes_everything_Unknown_with_the_error_and_is_retried_on_the_next_pass()
    {
        _api.InJobError = AccessDenied;

        ContainerFactors container = Collect();

        Assert.Equal(SignalQuality.Unknown, container.CpuLimitCores.Quality);
        Assert.StartsWith("IsProcessInJob(GetCurrentProcess(), NULL) failed: Win32 error 5", container.CpuLimitCores.Reason, StringComparison.Ordinal);
        Assert.Equal(container.CpuLimitCores.Reason, container.MemoryWorkingSetBytes.Reason);
        Assert.Equal(SignalQuality.Unknown, container.ThrottledShare.Quality);
        Assert.Equal(("windows.container", "win32-error"), (_failures.Reports[0].Probe, _failures.Reports[0].Kind));

        _api.InJobError = 0;
        _time.Advance(TimeSpan.FromSeconds(1));
        container = Collect();

        Assert.Equal(ResourceLimit.Unlimited, container.CpuLimitCores.Value);
    }

    [Fact]
    public void A_failed_rate_query_is_Unknown_with_the_error_while_the_memory_limit_still_reads()
    {
        _api.InJob = true;
        _api.RateError = AccessDenied;
        _api.Limits = new JobMemoryLimits(JobMemoryLimits.JobMemory, 0, 2 * (ulong)GiB, 0);

        ContainerFactors container = Collect();

        Assert.Equal(SignalQuality.Unknown, container.CpuLimitCores.Quality);
        Assert.StartsWith("QueryInformationJobObject(JobObjectCpuRateControlInformation) failed: Win32 error 5", container.CpuLimitCores.Reason, StringComparison.Ordinal);
        Assert.Equal(ResourceLimit.Of(2 * GiB), container.MemoryLimitBytes.Value);
    }

    [Fact]
    public void A_failed_job_memory_usage_query_is_Unknown_with_the_error()
    {
        _api.InJob = true;
        _api.JobCommitError = 87;

        ContainerFactors container = Collect();

        Assert.Equal(SignalQuality.Unknown, container.MemoryWorkingSetBytes.Quality);
        Assert.StartsWith("QueryInformationJobObject(JobObjectMemoryUsageInformation) failed: Win32 error 87", container.MemoryWorkingSetBytes.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_are_reused_for_30_seconds_and_the_working_set_for_5()
    {
        _api.InJob = true;
        _api.Limits = new JobMemoryLimits(JobMemoryLimits.JobMemory, 0, 2 * (ulong)GiB, 0);
        _api.JobCommit = 100;
        ContainerFactors first = Collect();

        _api.Limits = new JobMemoryLimits(JobMemoryLimits.JobMemory, 0, 1 * (ulong)GiB, 0);
        _api.JobCommit = 200;
        _time.Advance(TimeSpan.FromSeconds(5));
        ContainerFactors second = Collect();

        Assert.Equal(first.MemoryLimitBytes, second.MemoryLimitBytes);
        Assert.Equal(200L, second.MemoryWorkingSetBytes.Value);

        _time.Advance(TimeSpan.FromSeconds(25));
        ContainerFactors third = Collect();

        Assert.Equal(ResourceLimit.Of(GiB), third.MemoryLimitBytes.Value);
    }
}
