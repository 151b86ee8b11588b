using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.Cgroups;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Linux;

[SupportedOSPlatform("linux")]
public sealed class LinuxComputeProbeTests : IDisposable
{
    private const long GiB = 1L << 30;
    private const string PodGroup = "sys/fs/cgroup/pod.slice";
    private readonly FixtureTree _tree = new();
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private CgroupReader? _reader;
    private LinuxContainerProbe? _container;
    private LinuxComputeProbe? _compute;

    public LinuxComputeProbeTests()
    {
        // A 4-CPU host with no cgroup fs; tests add cgroups where they need them.
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoWithoutCgroups)
            .Write("proc/self/cgroup", "0::/\n")
            .Write("sys/devices/system/cpu/online", "0-3\n")
            .Write("proc/loadavg", "2.00 1.50 1.00 3/512 12345\n")
            .Write("proc/meminfo", MemInfo(totalKb: 16 * 1024 * 1024, availableKb: 8 * 1024 * 1024))
            .Write("proc/stat", Stat(Cpu(100, 0, 50, 800, 50), Cpu(25, 0, 12, 200, 13), Cpu(25, 0, 13, 200, 12), Cpu(25, 0, 12, 200, 13), Cpu(25, 0, 13, 200, 12)));
    }

    public void Dispose()
    {
        _compute?.Dispose();
        _container?.Dispose();
        _reader?.Dispose();
        _tree.Dispose();
    }

    private static long[] Cpu(long user, long nice, long system, long idle, long iowait, long irq = 0, long softirq = 0, long steal = 0, long guest = 0, long guestNice = 0) =>
        [user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice];

    /// <summary>/proc/stat as the kernel writes it: "cpu  " (two spaces), then cpuN lines, then the other counters.</summary>
    private static string Stat(long[] aggregate, params long[][] cpus)
    {
        var text = new StringBuilder();
        text.Append("cpu  ").AppendJoin(' ', aggregate).Append('\n');
        for (int i = 0; i < cpus.Length; i++)
        {
            text.Append("cpu").Append(i).Append(' ').AppendJoin(' ', cpus[i]).Append('\n');
        }

        text.Append("intr 236670 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\nctxt 632151\nbtime 1735732800\nprocesses 5290\nprocs_running 2\nprocs_blocked 0\nsoftirq 83120 0 13131 2 3031 0 0 1 25300 0 41655\n");
        return text.ToString();
    }

    private static string MemInfo(long totalKb, long availableKb) =>
        $"MemTotal:       {totalKb} kB\nMemFree:        {availableKb / 2} kB\nMemAvailable:   {availableKb} kB\nBuffers:            2664 kB\nCached:           374340 kB\nSwapCached:            0 kB\n";

    private void WriteV2Group(string cpuMax, string cpuset = "0-3\n", string memoryMax = "max\n", long usageMicros = 1_000_000)
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoV2)
            .Write("proc/self/cgroup", "0::/pod.slice\n")
            .Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n")
            .Write("sys/fs/cgroup/cpuset.cpus.effective", "0-3\n")
            .Write($"{PodGroup}/cpu.max", cpuMax)
            .Write($"{PodGroup}/cpu.stat", FixtureTree.CpuStatV2(usageMicros, 0, 0))
            .Write($"{PodGroup}/cpuset.cpus.effective", cpuset)
            .Write($"{PodGroup}/memory.max", memoryMax)
            .Write($"{PodGroup}/memory.current", "805306368\n")
            .Write($"{PodGroup}/memory.stat", FixtureTree.MemoryStatV2(inactiveFile: 268_435_456));
    }

    private SnapshotBuilder Collect()
    {
        _reader ??= new CgroupReader(_tree.Options);
        _container ??= new LinuxContainerProbe(_tree.Options, _failures, _reader);
        _compute ??= new LinuxComputeProbe(_tree.Options, _failures, _reader);
        var snapshot = new SnapshotBuilder(_time);
        _container.Collect(snapshot);
        _compute.Collect(snapshot);
        return snapshot;
    }

    [Fact]
    public void Host_without_cgroups_uses_online_cpus_and_the_first_pass_utilisation_is_unknown()
    {
        ComputeFactors compute = Collect().Compute;

        Assert.Equal(4.0, compute.EffectiveCores.Value);
        Assert.Equal(SignalQuality.Measured, compute.EffectiveCores.Quality);
        Assert.EndsWith("devices/system/cpu/online", compute.EffectiveCores.Source, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, compute.CpuUtilization.Quality);
        Assert.Equal("first sample; utilisation needs two", compute.CpuUtilization.Reason);
        Assert.Equal(0.5, compute.LoadPerCore.Value);
        Assert.Equal(16 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryAvailableBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryUsedBytes.Value);
        Assert.Empty(_failures.Reports);
    }

    [Theory]
    [InlineData("5E+29 0.56 0.29 1/88 5284\n", "5E+29")]
    [InlineData("4194305.00 0.56 0.29 1/88 5284\n", "4194305.00")]
    public void An_implausible_load_average_is_Unknown_with_the_raw_text_not_a_load_per_core(string loadavg, string raw)
    {
        // Issue 12, finding 12: a load of 5E+29 was kept as Measured (1.25E+29 per core).
        _tree.Write("proc/loadavg", loadavg);

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(SignalQuality.Unknown, compute.LoadPerCore.Quality);
        Assert.StartsWith($"implausible load average '{raw}' in {_tree.PathOf("proc/loadavg")} (plausible 0..4194304 tasks: ", compute.LoadPerCore.Reason, StringComparison.Ordinal);
        Assert.Equal(("linux.compute", "out-of-range"), (_failures.Reports.Single().Probe, _failures.Reports.Single().Kind));
        Assert.Equal(4.0, compute.EffectiveCores.Value);
    }

    [Fact]
    public void A_heavy_but_real_load_is_kept()
    {
        // An NFS outage can leave thousands of tasks in uninterruptible sleep: still a real load.
        _tree.Write("proc/loadavg", "5000.00 4000.00 2000.00 3/9000 12345\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(1250.0, compute.LoadPerCore.Value);
        Assert.Equal(SignalQuality.Measured, compute.LoadPerCore.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Proc_stat_deltas_count_busy_fields_once_and_do_not_add_guest_time_again()
    {
        Collect();
        // +300 user (of which 200 guest), +20 nice (all guest_nice), +50 system, +10 irq, +5 softirq, +15 steal; +300 idle, +50 iowait.
        _tree.Write("proc/stat", Stat(Cpu(400, 20, 100, 1100, 100, irq: 10, softirq: 5, steal: 15, guest: 200, guestNice: 20)));
        _time.Advance(TimeSpan.FromSeconds(5));

        ComputeFactors compute = Collect().Compute;

        // busy = 300 + 20 + 50 + 10 + 5 + 15 = 400; idle = 300 + 50 = 350. Adding guest again would give 620/970.
        Assert.Equal(400.0 / 750.0, compute.CpuUtilization.Value, 12);
        Assert.Equal(SignalQuality.Estimated, compute.CpuUtilization.Quality);
        Assert.EndsWith("stat", compute.CpuUtilization.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_counter_going_backwards_is_unknown_and_reported_then_the_next_pass_recovers()
    {
        Collect();
        _tree.Write("proc/stat", Stat(Cpu(50, 0, 10, 400, 10)));
        ComputeFactors backwards = Collect().Compute;

        Assert.Equal(SignalQuality.Unknown, backwards.CpuUtilization.Quality);
        Assert.Contains("went backwards", backwards.CpuUtilization.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Probe == "linux.compute" && r.Kind == "out-of-range");

        _tree.Write("proc/stat", Stat(Cpu(150, 0, 10, 500, 10)));
        Assert.Equal(0.5, Collect().Compute.CpuUtilization.Value, 12);
    }

    [Fact]
    public void No_time_between_passes_gives_unknown_not_a_division_by_zero()
    {
        Collect();
        ComputeFactors compute = Collect().Compute;

        Assert.Equal(SignalQuality.Unknown, compute.CpuUtilization.Quality);
        Assert.Contains("no time elapsed", compute.CpuUtilization.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_the_sysfs_cpu_list_cores_are_counted_from_proc_stat_cpu_lines()
    {
        _tree.Delete("sys/devices/system/cpu/online");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(4.0, compute.EffectiveCores.Value);
        Assert.Contains("cpuN lines", compute.EffectiveCores.Source, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Theory]
    [InlineData("cpu  100 0 50\n")]
    [InlineData("cpu  100 zero 50 800\ncpu0 1 1 1 1\n")]
    [InlineData("")]
    [InlineData("intr 1 2 3\nctxt 4\n")]
    public void Garbage_or_truncated_proc_stat_makes_utilisation_unknown_and_is_reported(string stat)
    {
        _tree.Write("proc/stat", stat);
        Collect();
        _time.Advance(TimeSpan.FromSeconds(5));
        ComputeFactors compute = Collect().Compute;

        Assert.Equal(SignalQuality.Unknown, compute.CpuUtilization.Quality);
        Assert.Contains("stat", compute.CpuUtilization.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage");
        Assert.Equal(4.0, compute.EffectiveCores.Value);
    }

    [Fact]
    public void Garbage_online_list_falls_back_to_proc_stat_and_is_reported()
    {
        _tree.Write("sys/devices/system/cpu/online", "zero-three\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(4.0, compute.EffectiveCores.Value);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.Contains("online", StringComparison.Ordinal));
    }

    [Fact]
    public void Cpuset_of_two_cpus_bounds_cores_and_utilisation_reads_only_those_cpus()
    {
        WriteV2Group("max 100000\n", cpuset: "0-1\n");
        _tree.Write("proc/stat", Stat(Cpu(0, 0, 0, 400, 0), Cpu(0, 0, 0, 100, 0), Cpu(0, 0, 0, 100, 0), Cpu(0, 0, 0, 100, 0), Cpu(0, 0, 0, 100, 0)));
        ComputeFactors first = Collect().Compute;
        Assert.Equal(2.0, first.EffectiveCores.Value);
        Assert.EndsWith("pod.slice/cpuset.cpus.effective", first.EffectiveCores.Source, StringComparison.Ordinal);

        // CPUs 0 and 1 fully busy, 2 and 3 idle: the host is half busy, the cpuset is full.
        _tree.Write("proc/stat", Stat(Cpu(200, 0, 0, 600, 0), Cpu(100, 0, 0, 100, 0), Cpu(100, 0, 0, 100, 0), Cpu(0, 0, 0, 200, 0), Cpu(0, 0, 0, 200, 0)));
        _time.Advance(TimeSpan.FromSeconds(1));
        ComputeFactors second = Collect().Compute;

        Assert.Equal(1.0, second.CpuUtilization.Value);
        Assert.Equal(1.0, second.LoadPerCore.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Quota_of_two_and_a_half_cores_is_the_effective_count_and_utilisation_is_relative_to_it()
    {
        WriteV2Group("250000 100000\n", usageMicros: 1_000_000);
        SnapshotBuilder first = Collect();
        Assert.Equal(2.5, first.Compute.EffectiveCores.Value);
        Assert.EndsWith("pod.slice/cpu.max", first.Compute.EffectiveCores.Source, StringComparison.Ordinal);
        Assert.Equal("first sample; utilisation needs two", first.Compute.CpuUtilization.Reason);

        // 12.5 s of CPU in 10 s of wall time against 2.5 cores: half the quota.
        _tree.Write($"{PodGroup}/cpu.stat", FixtureTree.CpuStatV2(13_500_000, 0, 0));
        _time.Advance(TimeSpan.FromSeconds(10));
        ComputeFactors second = Collect().Compute;

        Assert.Equal(0.5, second.CpuUtilization.Value, 12);
        Assert.EndsWith("pod.slice/cpu.stat", second.CpuUtilization.Source, StringComparison.Ordinal);
        Assert.Equal(2.0 / 2.5, second.LoadPerCore.Value, 12);

        // Bursting past the quota within a period is clamped to 1.
        _tree.Write($"{PodGroup}/cpu.stat", FixtureTree.CpuStatV2(43_500_000, 0, 0));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1.0, Collect().Compute.CpuUtilization.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Quota_without_a_group_usage_counter_falls_back_to_host_busy_cores_as_an_estimate()
    {
        // v1 with cpu mounted alone (no cpuacct anywhere): the group's CPU time cannot be read.
        _tree.Write("proc/self/mountinfo", "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n")
            .Write("proc/self/cgroup", "1:cpu:/job\n")
            .Write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n")
            .Write("sys/fs/cgroup/cpu/job/cpu.cfs_quota_us", "200000\n")
            .Write("sys/fs/cgroup/cpu/job/cpu.cfs_period_us", "100000\n")
            .Write("sys/fs/cgroup/cpu/job/cpu.stat", FixtureTree.CpuStatV1(0, 0));
        Collect();

        // One of four host CPUs busy = 1 busy core against a 2-core quota.
        _tree.Write("proc/stat", Stat(Cpu(200, 0, 50, 1100, 50)));
        _time.Advance(TimeSpan.FromSeconds(1));
        ComputeFactors compute = Collect().Compute;

        Assert.Equal(2.0, compute.EffectiveCores.Value);
        Assert.Equal(0.5, compute.CpuUtilization.Value, 12);
        Assert.Equal(SignalQuality.Estimated, compute.CpuUtilization.Quality);
        Assert.Contains("host", compute.CpuUtilization.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_quota_makes_effective_cores_an_estimated_upper_bound()
    {
        WriteV2Group("garbage\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(4.0, compute.EffectiveCores.Value);
        Assert.Equal(SignalQuality.Estimated, compute.EffectiveCores.Quality);
        Assert.Contains("upper bound", compute.EffectiveCores.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_psi_is_not_supported_and_not_reported()
    {
        ComputeFactors compute = Collect().Compute;

        Assert.Equal(SignalQuality.NotSupported, compute.CpuPressure.Quality);
        Assert.Equal(SignalQuality.NotSupported, compute.MemoryPressure.Quality);
        Assert.Contains("PSI", compute.CpuPressure.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Proc_pressure_some_avg10_percent_becomes_a_fraction()
    {
        _tree.Write("proc/pressure/cpu", "some avg10=12.50 avg60=8.67 avg300=7.57 total=41654591\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
            .Write("proc/pressure/memory", "some avg10=0.40 avg60=0.10 avg300=0.00 total=100\nfull avg10=0.20 avg60=0.00 avg300=0.00 total=50\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(0.125, compute.CpuPressure.Value, 12);
        Assert.Equal(0.004, compute.MemoryPressure.Value, 12);
        Assert.EndsWith("pressure/cpu", compute.CpuPressure.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cgroup_pressure_file_wins_over_the_host_one()
    {
        WriteV2Group("max 100000\n");
        _tree.Write("proc/pressure/cpu", "some avg10=1.00 avg60=0 avg300=0 total=1\nfull avg10=0.00 avg60=0 avg300=0 total=0\n")
            .Write($"{PodGroup}/cpu.pressure", "some avg10=60.00 avg60=0 avg300=0 total=1\nfull avg10=30.00 avg60=0 avg300=0 total=1\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(0.6, compute.CpuPressure.Value, 12);
        Assert.EndsWith("pod.slice/cpu.pressure", compute.CpuPressure.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_pressure_file_is_unknown_and_reported()
    {
        _tree.Write("proc/pressure/cpu", "some avg10=");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(SignalQuality.Unknown, compute.CpuPressure.Quality);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.Contains("pressure", StringComparison.Ordinal));
    }

    [Fact]
    public void Memory_is_bounded_by_the_cgroup_limit_and_its_working_set()
    {
        WriteV2Group("max 100000\n", memoryMax: "2147483648\n");

        ComputeFactors compute = Collect().Compute;

        // working set = 768 MiB usage - 256 MiB inactive file = 512 MiB; limit 2 GiB; host has 8 GiB available.
        Assert.Equal(2 * GiB, compute.MemoryTotalBytes.Value);
        Assert.EndsWith("memory.max", compute.MemoryTotalBytes.Source, StringComparison.Ordinal);
        Assert.Equal(512L << 20, compute.MemoryUsedBytes.Value);
        Assert.Equal((2 * GiB) - (512L << 20), compute.MemoryAvailableBytes.Value);
    }

    [Fact]
    public void Host_available_memory_wins_when_it_is_smaller_than_what_the_limit_leaves()
    {
        WriteV2Group("max 100000\n", memoryMax: "12884901888\n");
        _tree.Write("proc/meminfo", MemInfo(totalKb: 16 * 1024 * 1024, availableKb: 1024 * 1024));

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(12 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(1 * GiB, compute.MemoryAvailableBytes.Value);
    }

    [Fact]
    public void A_memory_limit_above_host_memory_does_not_bind()
    {
        WriteV2Group("max 100000\n", memoryMax: "68719476736\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(16 * GiB, compute.MemoryTotalBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryUsedBytes.Value);
        Assert.Equal(8 * GiB, compute.MemoryAvailableBytes.Value);
    }

    [Fact]
    public void Garbage_meminfo_is_unknown_and_reported()
    {
        _tree.Write("proc/meminfo", "MemTotal: lots kB\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(SignalQuality.Unknown, compute.MemoryTotalBytes.Quality);
        Assert.Equal(SignalQuality.Unknown, compute.MemoryAvailableBytes.Quality);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.Contains("meminfo", StringComparison.Ordinal));
    }

    [Fact]
    public void Garbage_loadavg_is_unknown_and_reported()
    {
        _tree.Write("proc/loadavg", "-\n");

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(SignalQuality.Unknown, compute.LoadPerCore.Quality);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.Contains("loadavg", StringComparison.Ordinal));
    }

    [Fact]
    public void Meminfo_is_read_at_most_every_memory_interval_and_its_readings_keep_their_observation_time()
    {
        DateTimeOffset readAt = _time.GetUtcNow();
        Collect();

        _tree.Write("proc/meminfo", MemInfo(totalKb: 16 * 1024 * 1024, availableKb: 2 * 1024 * 1024));
        _time.Advance(Cadence.MemoryInterval - TimeSpan.FromMilliseconds(1));
        ComputeFactors within = Collect().Compute;
        Assert.Equal(8 * GiB, within.MemoryAvailableBytes.Value);
        Assert.Equal(readAt, within.MemoryAvailableBytes.ObservedAt);
        Assert.Equal(readAt, within.MemoryTotalBytes.ObservedAt);
        Assert.Equal(readAt, within.MemoryUsedBytes.ObservedAt);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        ComputeFactors after = Collect().Compute;
        Assert.Equal(2 * GiB, after.MemoryAvailableBytes.Value);
        Assert.Equal(14 * GiB, after.MemoryUsedBytes.Value);
        Assert.Equal(_time.GetUtcNow(), after.MemoryAvailableBytes.ObservedAt);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Load_and_cpu_counters_are_read_every_pass_while_memory_waits_for_its_interval()
    {
        Collect();
        _tree.Write("proc/loadavg", "6.00 1.50 1.00 3/512 12345\n")
            .Write("proc/stat", Stat(Cpu(500, 0, 50, 900, 50), Cpu(125, 0, 12, 225, 13), Cpu(125, 0, 13, 225, 12), Cpu(125, 0, 12, 225, 13), Cpu(125, 0, 13, 225, 12)))
            .Write("proc/meminfo", MemInfo(totalKb: 16 * 1024 * 1024, availableKb: 1024 * 1024));
        _time.Advance(TimeSpan.FromSeconds(1));

        ComputeFactors compute = Collect().Compute;

        Assert.Equal(1.5, compute.LoadPerCore.Value);
        Assert.Equal(_time.GetUtcNow(), compute.LoadPerCore.ObservedAt);
        Assert.Equal(0.8, compute.CpuUtilization.Value, 12); // +400 busy, +100 idle
        Assert.Equal(8 * GiB, compute.MemoryAvailableBytes.Value);
    }

    [Fact]
    public void A_new_container_limit_rebuilds_memory_at_once_from_a_fresh_meminfo()
    {
        _reader = new CgroupReader(_tree.Options);
        _compute = new LinuxComputeProbe(_tree.Options, _failures, _reader);
        var snapshot = new SnapshotBuilder(_time);
        snapshot.Container = new ContainerFactors { MemoryLimitBytes = Reading.Measured(ResourceLimit.Of(4 * GiB), _time.GetUtcNow(), "memory.max") };
        _compute.Collect(snapshot);
        Assert.Equal(4 * GiB, snapshot.Compute.MemoryTotalBytes.Value);

        _tree.Write("proc/meminfo", MemInfo(totalKb: 16 * 1024 * 1024, availableKb: 1024 * 1024));
        _time.Advance(TimeSpan.FromSeconds(1));
        snapshot.Container = new ContainerFactors { MemoryLimitBytes = Reading.Measured(ResourceLimit.Of(2 * GiB), _time.GetUtcNow(), "memory.max") };
        _compute.Collect(snapshot);

        Assert.Equal(2 * GiB, snapshot.Compute.MemoryTotalBytes.Value);
        Assert.Equal(_time.GetUtcNow(), snapshot.Compute.MemoryTotalBytes.ObservedAt);
        Assert.Equal(1 * GiB, snapshot.Compute.MemoryAvailableBytes.Value);
    }

    [Fact]
    public void Garbage_meminfo_is_read_again_on_the_next_pass()
    {
        _tree.Write("proc/meminfo", "MemTotal: lots kB\n");
        Assert.Equal(SignalQuality.Unknown, Collect().Compute.MemoryTotalBytes.Quality);

        _tree.Write("proc/meminfo", MemInfo(totalKb: 16 * 1024 * 1024, availableKb: 8 * 1024 * 1024));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(16 * GiB, Collect().Compute.MemoryTotalBytes.Value);
    }

    [Fact]
    public void Cpuset_is_not_read_again_within_the_limits_interval()
    {
        WriteV2Group("max 100000\n", cpuset: "0-1\n");
        Assert.Equal(2.0, Collect().Compute.EffectiveCores.Value);

        _tree.Write($"{PodGroup}/cpuset.cpus.effective", "0\n");
        _time.Advance(Cadence.LimitsInterval - TimeSpan.FromSeconds(1));
        Assert.Equal(2.0, Collect().Compute.EffectiveCores.Value);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1.0, Collect().Compute.EffectiveCores.Value);
    }

    [Fact]
    public void V2_cpu_stat_is_read_once_per_pass_for_throttling_and_group_cpu_time()
    {
        WriteV2Group("250000 100000\n", usageMicros: 1_000_000);
        Collect();

        // The container probe reads cpu.stat; the compute probe must use that read, not a second one.
        var snapshot = new SnapshotBuilder(_time);
        _tree.Write($"{PodGroup}/cpu.stat", FixtureTree.CpuStatV2(13_500_000, 0, 0));
        _time.Advance(TimeSpan.FromSeconds(10));
        _container!.Collect(snapshot);
        _tree.Write($"{PodGroup}/cpu.stat", FixtureTree.CpuStatV2(43_500_000, 0, 0));
        _compute!.Collect(snapshot);

        // 12.5 s of CPU in 10 s against 2.5 cores, as the container probe's read said (the later content would clamp to 1).
        Assert.Equal(0.5, snapshot.Compute.CpuUtilization.Value, 12);

        // A pass of the compute probe alone reads the file itself.
        _time.Advance(TimeSpan.FromSeconds(10));
        _compute.Collect(snapshot);
        Assert.Equal(1.0, snapshot.Compute.CpuUtilization.Value, 12);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Reads_this_machines_real_proc_and_sys()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/stat"))
        {
            Assert.Skip("needs Linux /proc and /sys");
        }

        (ComputeFactors compute, ContainerFactors container) = RealPasses(spinThreads: 0, iterations: 0);

        Assert.Empty(_failures.Reports);
        Assert.True(compute.EffectiveCores.HasValue, compute.EffectiveCores.ToString());
        Assert.InRange(compute.EffectiveCores.Value, 0.01, OnlineCpus());
        if (container.CpuLimitCores.TryGetValue(out ResourceLimit quota) && !quota.IsUnlimited)
        {
            Assert.True(compute.EffectiveCores.Value <= quota.Amount);
        }

        Assert.True(compute.LoadPerCore.HasValue, compute.LoadPerCore.ToString());
        Assert.InRange(compute.MemoryTotalBytes.Value, 1, long.MaxValue);
        Assert.InRange(compute.MemoryAvailableBytes.Value, 0, compute.MemoryTotalBytes.Value);
        Assert.InRange(compute.MemoryUsedBytes.Value, 0, compute.MemoryTotalBytes.Value);
        bool hasPsi = File.Exists("/proc/pressure/cpu");
        Assert.Equal(hasPsi, compute.CpuPressure.HasValue);
        if (!hasPsi)
        {
            Assert.Equal(SignalQuality.NotSupported, compute.CpuPressure.Quality);
        }

        // The second pass has a baseline: a value, or "no time elapsed" when the passes fell in one tick.
        Assert.True(compute.CpuUtilization.HasValue || compute.CpuUtilization.Reason!.Contains("no time elapsed", StringComparison.Ordinal), compute.CpuUtilization.ToString());
    }

    [Fact]
    public void A_real_busy_loop_raises_measured_utilisation_above_the_idle_reading()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/stat"))
        {
            Assert.Skip("needs Linux /proc");
        }

        // The idle reading: the same counters' average since boot (busy / total of the first /proc/stat sample),
        // which needs no waiting. Then every CPU spins for a bounded number of iterations between two real passes.
        LinuxComputeProbe.CpuTimes sinceBoot = ReadAggregate();
        double idleReading = (double)sinceBoot.Busy / (sinceBoot.Busy + sinceBoot.Idle);

        (ComputeFactors busy, ContainerFactors container) = RealPasses(spinThreads: Math.Max(2, OnlineCpus()), iterations: 150_000_000);

        if (container.CpuLimitCores.TryGetValue(out ResourceLimit limit) && !limit.IsUnlimited)
        {
            Assert.Skip($"this process runs under a CPU quota ({limit}); the real cgroup test covers that case");
        }

        Assert.True(busy.CpuUtilization.HasValue, busy.CpuUtilization.ToString());
        Assert.True(busy.CpuUtilization.Value > idleReading, $"busy {busy.CpuUtilization.Value:F3} vs idle {idleReading:F3}");
        Assert.True(busy.CpuUtilization.Value > 0.6, $"busy {busy.CpuUtilization.Value:F3}");
    }

    [Fact]
    public void A_pass_of_both_probes_on_this_machine_allocates_little_more_than_the_two_records()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/stat"))
        {
            Assert.Skip("needs Linux /proc");
        }

        IOptions<LinuxProbeOptions> options = Options.Create(new LinuxProbeOptions());
        using var reader = new CgroupReader(options);
        using var container = new LinuxContainerProbe(options, _failures, reader);
        using var compute = new LinuxComputeProbe(options, _failures, reader);
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        for (int i = 0; i < 20; i++)
        {
            container.Collect(snapshot);
            compute.Collect(snapshot);
        }

        const int Passes = 200;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Stopwatch watch = Stopwatch.StartNew();
        for (int i = 0; i < Passes; i++)
        {
            container.Collect(snapshot);
            compute.Collect(snapshot);
        }

        watch.Stop();
        long perPass = (GC.GetAllocatedBytesForCurrentThread() - before) / Passes;
        TestContext.Current.TestOutputHelper?.WriteLine($"{perPass} bytes and {watch.Elapsed.TotalMicroseconds / Passes:F1} us per pass of both probes");

        // The two factor records are about 250 bytes each; no string or buffer per pass.
        Assert.InRange(perPass, 0, 768);
        Assert.Empty(_failures.Reports);
    }

    private (ComputeFactors Compute, ContainerFactors Container) RealPasses(int spinThreads, long iterations)
    {
        IOptions<LinuxProbeOptions> options = Options.Create(new LinuxProbeOptions());
        using var reader = new CgroupReader(options);
        using var container = new LinuxContainerProbe(options, _failures, reader);
        using var compute = new LinuxComputeProbe(options, _failures, reader);
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        container.Collect(snapshot);
        compute.Collect(snapshot);

        if (spinThreads > 0)
        {
            var threads = new Thread[spinThreads];
            long sink = 0;
            for (int i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(() => Interlocked.Add(ref sink, Spin(iterations))) { IsBackground = true };
                threads[i].Start();
            }

            foreach (Thread thread in threads)
            {
                thread.Join();
            }

            Assert.NotEqual(0, sink);
        }
        else
        {
            // Bounded work so that at least one clock tick (10 ms) separates the passes.
            Stopwatch watch = Stopwatch.StartNew();
            Spin(30_000_000);
            Assert.True(watch.Elapsed > TimeSpan.Zero);
        }

        container.Collect(snapshot);
        compute.Collect(snapshot);
        return (snapshot.Compute, snapshot.Container);
    }

    private static long Spin(long iterations)
    {
        long x = 1;
        for (long i = 0; i < iterations; i++)
        {
            x = (x * 6364136223846793005) + 1442695040888963407;
        }

        return x | 1;
    }

    private static int OnlineCpus()
    {
        string online = File.Exists("/sys/devices/system/cpu/online") ? File.ReadAllText("/sys/devices/system/cpu/online") : "0";
        return CgroupText.TryParseCpuList(Encoding.ASCII.GetBytes(online), default, out int count) && count > 0 ? count : Environment.ProcessorCount;
    }

    private static LinuxComputeProbe.CpuTimes ReadAggregate()
    {
        string line = File.ReadLines("/proc/stat").First();
        Assert.True(LinuxComputeProbe.TryParseCpuLine(Encoding.ASCII.GetBytes(line["cpu".Length..]), out LinuxComputeProbe.CpuTimes times));
        return times;
    }
}
