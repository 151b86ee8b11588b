using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.Cgroups;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Linux;

[SupportedOSPlatform("linux")]
public sealed class LinuxContainerProbeTests : IDisposable
{
    private const string Group = "sys/fs/cgroup/kubepods.slice/pod1.slice/cri-containerd-abc.scope";
    private readonly FixtureTree _tree = new();
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _tree.Dispose();

    private LinuxContainerProbe Probe(out CgroupReader reader)
    {
        reader = new CgroupReader(_tree.Options);
        return new LinuxContainerProbe(_tree.Options, _failures, reader);
    }

    private ContainerFactors Collect(LinuxContainerProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Container;
    }

    private void WriteV2Pod(string cpuMax, string cpuStat, string memoryMax = "1073741824\n")
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoV2)
            .Write("proc/self/cgroup", "0::/kubepods.slice/pod1.slice/cri-containerd-abc.scope\n")
            .Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
            .Write("sys/fs/cgroup/kubepods.slice/cpu.max", "max 100000\n")
            .Write("sys/fs/cgroup/kubepods.slice/memory.max", "max\n")
            .Write("sys/fs/cgroup/kubepods.slice/pod1.slice/cpu.max", "max 100000\n")
            .Write("sys/fs/cgroup/kubepods.slice/pod1.slice/memory.max", "max\n")
            .Write($"{Group}/cpu.max", cpuMax)
            .Write($"{Group}/cpu.stat", cpuStat)
            .Write($"{Group}/memory.max", memoryMax)
            .Write($"{Group}/memory.current", "419430400\n")
            .Write($"{Group}/memory.stat", FixtureTree.MemoryStatV2(inactiveFile: 104_857_600));
    }

    [Fact]
    public void No_cgroup_fs_gives_layout_None_and_every_reading_not_supported_with_the_reason()
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoWithoutCgroups).Write("proc/self/cgroup", "0::/\n");
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.Equal(CgroupLayout.None, container.Layout);
            Assert.Equal(SignalQuality.NotSupported, container.CpuLimitCores.Quality);
            Assert.Equal(SignalQuality.NotSupported, container.MemoryLimitBytes.Quality);
            Assert.Equal(SignalQuality.NotSupported, container.MemoryWorkingSetBytes.Quality);
            Assert.Equal(SignalQuality.NotSupported, container.ThrottledPeriods.Quality);
            Assert.Equal(SignalQuality.NotSupported, container.ThrottledShare.Quality);
            Assert.Contains("no cgroup file system", container.CpuLimitCores.Reason, StringComparison.Ordinal);
            Assert.Empty(_failures.Reports);
        }
    }

    [Fact]
    public void Missing_mountinfo_is_layout_None_not_a_failure()
    {
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.Equal(CgroupLayout.None, container.Layout);
            Assert.Equal(SignalQuality.NotSupported, container.CpuLimitCores.Quality);
            Assert.Contains("mountinfo does not exist", container.CpuLimitCores.Reason, StringComparison.Ordinal);
            Assert.Empty(_failures.Reports);
        }
    }

    [Fact]
    public void Docker_v1_container_reports_its_quota_memory_limit_and_working_set()
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoDockerV1)
            .Write("proc/self/cgroup", "11:memory:/docker/0123abcd\n4:cpu,cpuacct:/docker/0123abcd\n3:cpuset:/docker/0123abcd\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "150000\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.stat", FixtureTree.CpuStatV1(1000, 10))
            .Write("sys/fs/cgroup/memory/memory.limit_in_bytes", "536870912\n")
            .Write("sys/fs/cgroup/memory/memory.usage_in_bytes", "300000000\n")
            .Write("sys/fs/cgroup/memory/memory.stat", FixtureTree.MemoryStatV1(inactiveFile: 50_000_000, totalInactiveFile: 100_000_000));
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.Equal(CgroupLayout.V1, container.Layout);
            Assert.Equal(ResourceLimit.Of(1.5), container.CpuLimitCores.Value);
            Assert.Equal(SignalQuality.Measured, container.CpuLimitCores.Quality);
            Assert.Equal(ResourceLimit.Of(536870912), container.MemoryLimitBytes.Value);
            Assert.Equal(200_000_000, container.MemoryWorkingSetBytes.Value);
            Assert.Equal(_time.GetUtcNow(), container.MemoryWorkingSetBytes.ObservedAt);
            Assert.Equal(SignalQuality.Unknown, container.ThrottledPeriods.Quality);
            Assert.Contains("first sample", container.ThrottledPeriods.Reason, StringComparison.Ordinal);
            Assert.Empty(_failures.Reports);
        }
    }

    [Fact]
    public void Throttling_is_unknown_on_the_first_pass_then_the_delta_and_share_since_the_previous_pass()
    {
        WriteV2Pod("200000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 100, throttled: 7));
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors first = Collect(probe);
            Assert.Equal(CgroupLayout.V2, first.Layout);
            Assert.Equal(2.0, first.CpuLimitCores.Value.Amount);
            Assert.False(first.ThrottledShare.HasValue);

            _tree.Write($"{Group}/cpu.stat", FixtureTree.CpuStatV2(3_000_000, periods: 150, throttled: 32));
            _time.Advance(TimeSpan.FromSeconds(5));
            ContainerFactors second = Collect(probe);

            Assert.Equal(25, second.ThrottledPeriods.Value);
            Assert.Equal(SignalQuality.Measured, second.ThrottledPeriods.Quality);
            Assert.Equal(0.5, second.ThrottledShare.Value);
            Assert.Equal(SignalQuality.Estimated, second.ThrottledShare.Quality);
            Assert.Equal(314_572_800, second.MemoryWorkingSetBytes.Value);

            _time.Advance(TimeSpan.FromSeconds(5));
            ContainerFactors idle = Collect(probe);
            Assert.Equal(0, idle.ThrottledPeriods.Value);
            Assert.Equal(0.0, idle.ThrottledShare.Value);
            Assert.Empty(_failures.Reports);
        }
    }

    [Fact]
    public void Throttle_counters_going_backwards_are_unknown_and_reported_then_recover()
    {
        WriteV2Pod("200000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 500, throttled: 50));
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            Collect(probe);
            _tree.Write($"{Group}/cpu.stat", FixtureTree.CpuStatV2(1_000_000, periods: 10, throttled: 1));
            ContainerFactors backwards = Collect(probe);

            Assert.Equal(SignalQuality.Unknown, backwards.ThrottledPeriods.Quality);
            Assert.Contains("backwards", backwards.ThrottledShare.Reason, StringComparison.Ordinal);
            Assert.Contains(_failures.Reports, r => r.Probe == "linux.container" && r.Kind == "out-of-range");

            _tree.Write($"{Group}/cpu.stat", FixtureTree.CpuStatV2(1_000_000, periods: 20, throttled: 5));
            ContainerFactors recovered = Collect(probe);
            Assert.Equal(4, recovered.ThrottledPeriods.Value);
            Assert.Equal(0.4, recovered.ThrottledShare.Value, 9);
        }
    }

    [Fact]
    public void Without_a_quota_nothing_is_throttled_from_the_first_pass()
    {
        WriteV2Pod("max 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 0, throttled: 0), memoryMax: "max\n");
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.True(container.CpuLimitCores.Value.IsUnlimited);
            Assert.True(container.MemoryLimitBytes.Value.IsUnlimited);
            Assert.Equal(0, container.ThrottledPeriods.Value);
            Assert.Equal(0.0, container.ThrottledShare.Value);
            Assert.Contains("no CPU quota", container.ThrottledShare.Source, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("permission")]
    public void An_unreadable_cpu_max_makes_the_limit_and_throttling_Unknown_not_unlimited_and_zero(string how)
    {
        // Issue 12, finding 13: an unreadable cpu.max gave 0 throttled periods while cpu.stat
        // went 10 -> 20, and a directory in its place read as "unlimited".
        WriteV2Pod("50000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 10, throttled: 10));
        string cpuMax = _tree.PathOf($"{Group}/cpu.max");
        MakeUnreadable(cpuMax, how);
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            Collect(probe);
            _tree.Write($"{Group}/cpu.stat", FixtureTree.CpuStatV2(2_000_000, periods: 20, throttled: 20));
            _time.Advance(TimeSpan.FromSeconds(1));
            ContainerFactors container = Collect(probe);

            Assert.Equal(SignalQuality.Unknown, container.CpuLimitCores.Quality);
            Assert.Contains(cpuMax, container.CpuLimitCores.Reason, StringComparison.Ordinal);
            Assert.Equal(SignalQuality.Unknown, container.ThrottledPeriods.Quality);
            Assert.Equal(SignalQuality.Unknown, container.ThrottledShare.Quality);
            Assert.StartsWith("throttling cannot be attributed: the CPU quota could not be read", container.ThrottledPeriods.Reason, StringComparison.Ordinal);
            Assert.Contains(cpuMax, container.ThrottledPeriods.Reason, StringComparison.Ordinal);

            // The memory side does not depend on cpu.max.
            Assert.Equal(1_073_741_824, container.MemoryLimitBytes.Value.Amount);
        }
    }

    [Fact]
    public void Memory_in_use_above_the_groups_own_limit_is_Unknown_with_both_numbers()
    {
        // Issue 12, finding 12: 8 GiB in use in a group limited to 1 GiB was kept as Measured.
        WriteV2Pod("200000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 100, throttled: 7));
        _tree.Write($"{Group}/memory.current", "8589934592\n");
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.Equal(SignalQuality.Unknown, container.MemoryWorkingSetBytes.Quality);
            Assert.Equal(
                $"implausible memory usage '8589934592' in {_tree.PathOf($"{Group}/memory.current")}: above the memory limit '1073741824' in {_tree.PathOf($"{Group}/memory.max")} ({Plausible.CgroupMemoryOverLimitWhy})",
                container.MemoryWorkingSetBytes.Reason);
            Assert.Equal(("linux.container", "out-of-range"), (_failures.Reports.Single().Probe, _failures.Reports.Single().Kind));
            Assert.Equal(1_073_741_824, container.MemoryLimitBytes.Value.Amount);
        }
    }

    [Fact]
    public void Memory_in_use_a_force_charge_above_the_limit_is_kept()
    {
        // The kernel force-charges an allocation that must not fail past memory.max: a few MiB over is real.
        WriteV2Pod("200000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 100, throttled: 7));
        _tree.Write($"{Group}/memory.current", $"{1_073_741_824 + (16 << 20)}\n");
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.Equal(1_073_741_824 + (16 << 20) - 104_857_600, container.MemoryWorkingSetBytes.Value);
            Assert.Empty(_failures.Reports);
        }
    }

    [Fact]
    public void Garbage_memory_limit_is_unknown_and_reported_while_other_readings_stand()
    {
        WriteV2Pod("100000 100000\n", FixtureTree.CpuStatV2(0, 0, 0), memoryMax: "\u0000\u0001junk");
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.Equal(SignalQuality.Unknown, container.MemoryLimitBytes.Quality);
            Assert.Contains("memory.max", container.MemoryLimitBytes.Reason, StringComparison.Ordinal);
            Assert.Equal(1.0, container.CpuLimitCores.Value.Amount);
            Assert.Equal(("linux.container", "garbage"), (_failures.Reports[0].Probe, _failures.Reports[0].Kind));
        }
    }

    [Fact]
    public void Truncated_proc_self_cgroup_makes_readings_unknown_and_is_reported()
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoV2).Write("proc/self/cgroup", "0:");
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors container = Collect(probe);

            Assert.Equal(CgroupLayout.None, container.Layout);
            Assert.Equal(SignalQuality.Unknown, container.CpuLimitCores.Quality);
            Assert.Contains("/proc/self/cgroup", container.CpuLimitCores.Reason, StringComparison.Ordinal);
            Assert.Contains(_failures.Reports, r => r.Kind == "garbage");
        }
    }

    [Fact]
    public void Limits_are_not_read_again_within_the_limits_interval_and_keep_their_observation_time()
    {
        WriteV2Pod("200000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 100, throttled: 7));
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            DateTimeOffset readAt = _time.GetUtcNow();
            Collect(probe);

            // docker update: one core, 512 MiB. Within the interval the old limits stand, with their time.
            _tree.Write($"{Group}/cpu.max", "100000 100000\n").Write($"{Group}/memory.max", "536870912\n");
            _time.Advance(Cadence.LimitsInterval - TimeSpan.FromSeconds(1));
            ContainerFactors within = Collect(probe);
            Assert.Equal(2.0, within.CpuLimitCores.Value.Amount);
            Assert.Equal(readAt, within.CpuLimitCores.ObservedAt);
            Assert.Equal(1073741824, within.MemoryLimitBytes.Value.Amount);
            Assert.Equal(readAt, within.MemoryLimitBytes.ObservedAt);

            _time.Advance(TimeSpan.FromSeconds(1));
            ContainerFactors after = Collect(probe);
            Assert.Equal(1.0, after.CpuLimitCores.Value.Amount);
            Assert.Equal(_time.GetUtcNow(), after.CpuLimitCores.ObservedAt);
            Assert.Equal(536870912, after.MemoryLimitBytes.Value.Amount);
            Assert.Equal(_time.GetUtcNow(), after.MemoryLimitBytes.ObservedAt);
            Assert.Empty(_failures.Reports);
        }
    }

    [Fact]
    public void Working_set_is_read_at_most_every_memory_interval_while_throttling_is_read_every_pass()
    {
        WriteV2Pod("200000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 100, throttled: 7));
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            DateTimeOffset readAt = _time.GetUtcNow();
            ContainerFactors first = Collect(probe);
            Assert.Equal(314_572_800, first.MemoryWorkingSetBytes.Value);

            _tree.Write($"{Group}/memory.current", "629145600\n")
                .Write($"{Group}/cpu.stat", FixtureTree.CpuStatV2(2_000_000, periods: 110, throttled: 9));
            _time.Advance(Cadence.MemoryInterval - TimeSpan.FromMilliseconds(1));
            ContainerFactors within = Collect(probe);
            Assert.Equal(314_572_800, within.MemoryWorkingSetBytes.Value);
            Assert.Equal(readAt, within.MemoryWorkingSetBytes.ObservedAt);
            Assert.Equal(2, within.ThrottledPeriods.Value);
            Assert.Equal(_time.GetUtcNow(), within.ThrottledPeriods.ObservedAt);

            _time.Advance(TimeSpan.FromMilliseconds(1));
            ContainerFactors after = Collect(probe);
            Assert.Equal(629_145_600 - 104_857_600, after.MemoryWorkingSetBytes.Value);
            Assert.Equal(_time.GetUtcNow(), after.MemoryWorkingSetBytes.ObservedAt);
        }
    }

    [Fact]
    public void A_failed_limit_read_is_tried_again_on_the_next_pass_not_after_the_interval()
    {
        WriteV2Pod("100000 100000\n", FixtureTree.CpuStatV2(0, 0, 0), memoryMax: "junk\n");
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            ContainerFactors broken = Collect(probe);
            Assert.Equal(SignalQuality.Unknown, broken.MemoryLimitBytes.Quality);

            // The working set is read at the level holding the limit: with the limit unknown it cannot be attributed.
            Assert.Equal(SignalQuality.Unknown, broken.MemoryWorkingSetBytes.Quality);
            Assert.Contains("memory limit could not be read", broken.MemoryWorkingSetBytes.Reason, StringComparison.Ordinal);

            _tree.Write($"{Group}/memory.max", "536870912\n");
            _time.Advance(TimeSpan.FromSeconds(1));
            ContainerFactors fixedUp = Collect(probe);

            Assert.Equal(536870912, fixedUp.MemoryLimitBytes.Value.Amount);
            Assert.Equal(_time.GetUtcNow(), fixedUp.MemoryLimitBytes.ObservedAt);
            Assert.Equal(419_430_400 - 104_857_600, fixedUp.MemoryWorkingSetBytes.Value);

            // The limit and the working set it left unattributed, both on the first pass only.
            Assert.Equal(2, _failures.Reports.Count);
            Assert.All(_failures.Reports, r => Assert.Equal("garbage", r.Kind));
        }
    }

    [Fact]
    public void A_process_moved_to_another_group_gets_that_groups_limits_at_the_rediscovery()
    {
        WriteV2Pod("200000 100000\n", FixtureTree.CpuStatV2(1_000_000, periods: 100, throttled: 7));
        using LinuxContainerProbe probe = Probe(out CgroupReader reader);
        using (reader)
        {
            // The limits cadence starts one second after the reader's rediscovery clock: only the new generation can explain a read at 30 s.
            reader.Refresh(_time);
            _time.Advance(TimeSpan.FromSeconds(1));
            Collect(probe);
            _tree.Write("sys/fs/cgroup/batch.slice/cpu.max", "50000 100000\n")
                .Write("sys/fs/cgroup/batch.slice/cpu.stat", FixtureTree.CpuStatV2(0, 0, 0))
                .Write("proc/self/cgroup", "0::/batch.slice\n");

            _time.Advance(CgroupReader.RediscoverInterval - TimeSpan.FromSeconds(1));
            ContainerFactors moved = Collect(probe);

            Assert.Equal(1, reader.Generation);
            Assert.Equal(0.5, moved.CpuLimitCores.Value.Amount);
            Assert.EndsWith("batch.slice/cpu.max", moved.CpuLimitCores.Source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reads_this_machines_real_cgroups()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/mountinfo"))
        {
            Assert.Skip("needs Linux /proc");
        }

        string mountInfo = File.ReadAllText("/proc/self/mountinfo");
        bool v2 = mountInfo.Contains(" - cgroup2 ", StringComparison.Ordinal);
        bool v1 = mountInfo.Split('\n').Any(l => l.Contains(" - cgroup ", StringComparison.Ordinal) && !l.EndsWith(",name=systemd", StringComparison.Ordinal));
        CgroupLayout expected = v1 && v2 ? CgroupLayout.Hybrid : v1 ? CgroupLayout.V1 : v2 ? CgroupLayout.V2 : CgroupLayout.None;

        IOptions<LinuxProbeOptions> options = Options.Create(new LinuxProbeOptions());
        using var reader = new CgroupReader(options);
        using var probe = new LinuxContainerProbe(options, _failures, reader);
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        probe.Collect(snapshot);
        probe.Collect(snapshot);
        ContainerFactors container = snapshot.Container;

        Assert.Equal(expected, container.Layout);
        Assert.Empty(_failures.Reports);
        if (expected != CgroupLayout.None)
        {
            Assert.True(container.CpuLimitCores.HasValue, container.CpuLimitCores.ToString());
            Assert.True(container.MemoryLimitBytes.HasValue, container.MemoryLimitBytes.ToString());
            Assert.True(container.ThrottledPeriods.HasValue, container.ThrottledPeriods.ToString());
            if (container.MemoryWorkingSetBytes.HasValue)
            {
                Assert.InRange(container.MemoryWorkingSetBytes.Value, 1, long.MaxValue);
            }
        }
    }

    /// <summary>Makes a file unreadable: a directory in its place, or no permission (which root ignores: then the test is skipped).</summary>
    private static void MakeUnreadable(string path, string how)
    {
        if (how == "directory")
        {
            SpecialFiles.MakeDirectory(path);
            return;
        }

        Assert.SkipWhen(Environment.IsPrivilegedProcess, "running as root: file permissions do not stop root from reading");
        File.SetUnixFileMode(path, UnixFileMode.None);
    }
}
