using System.Runtime.Versioning;
using CostModel.Factors;
using CostModel.Platforms.Linux.Cgroups;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.Linux;

[SupportedOSPlatform("linux")]
public sealed class CgroupsReaderTests : IDisposable
{
    private const string V2Group = "sys/fs/cgroup/system.slice/app.service";
    private readonly FixtureTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private CgroupReader V2(string cpuMax, string? parentCpuMax = null, string memoryMax = "max\n", string? parentMemoryMax = null)
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoV2)
            .Write("proc/self/cgroup", "0::/system.slice/app.service\n")
            .Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n")
            .Write("sys/fs/cgroup/cpu.stat", "usage_usec 999\nuser_usec 500\nsystem_usec 499\n")
            .Write("sys/fs/cgroup/cpuset.cpus.effective", "0-7\n")
            .Write("sys/fs/cgroup/system.slice/cpu.max", parentCpuMax ?? "max 100000\n")
            .Write("sys/fs/cgroup/system.slice/memory.max", parentMemoryMax ?? "max\n")
            .Write($"{V2Group}/cpu.max", cpuMax)
            .Write($"{V2Group}/cpu.stat", FixtureTree.CpuStatV2(5_000_000, 100, 7))
            .Write($"{V2Group}/memory.max", memoryMax)
            .Write($"{V2Group}/memory.current", "314572800\n")
            .Write($"{V2Group}/memory.stat", FixtureTree.MemoryStatV2(inactiveFile: 104_857_600))
            .Write($"{V2Group}/cpu.pressure", "some avg10=12.50 avg60=3.00 avg300=1.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        return new CgroupReader(_tree.Options);
    }

    private CgroupReader V1(string quota, string period = "100000\n")
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoV1)
            .Write("proc/self/cgroup", "12:cpuset:/app\n11:memory:/app\n4:cpu,cpuacct:/app\n1:name=systemd:/app\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_quota_us", quota)
            .Write("sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_period_us", period)
            .Write("sys/fs/cgroup/cpu,cpuacct/app/cpu.stat", FixtureTree.CpuStatV1(40, 3))
            .Write("sys/fs/cgroup/cpu,cpuacct/app/cpuacct.usage", "123456789\n")
            .Write("sys/fs/cgroup/memory/memory.limit_in_bytes", FixtureTree.V1Unlimited)
            .Write("sys/fs/cgroup/memory/app/memory.limit_in_bytes", "1073741824\n")
            .Write("sys/fs/cgroup/memory/app/memory.usage_in_bytes", "524288000\n")
            .Write("sys/fs/cgroup/memory/app/memory.stat", FixtureTree.MemoryStatV1(inactiveFile: 1000, totalInactiveFile: 104_857_600))
            .Write("sys/fs/cgroup/cpuset/cpuset.cpus", "0-7\n")
            .Write("sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-7\n")
            .Write("sys/fs/cgroup/cpuset/app/cpuset.cpus", "0-3\n")
            .Write("sys/fs/cgroup/cpuset/app/cpuset.effective_cpus", "0-1\n");
        return new CgroupReader(_tree.Options);
    }

    [Fact]
    public void V1_quota_per_period_is_cores_and_the_group_counters_are_read_where_the_quota_is()
    {
        using CgroupReader reader = V1("150000\n");

        CgroupResult<ResourceLimit> limit = reader.ReadCpuLimit();
        Assert.Equal(CgroupLayout.V1, reader.Layout);
        Assert.True(limit.IsOk, limit.Text);
        Assert.Equal(1.5, limit.Value.Amount);
        Assert.EndsWith("cpu,cpuacct/app/cpu.cfs_quota_us", limit.Text, StringComparison.Ordinal);

        Assert.Equal(new ThrottleCounters(40, 3, true), reader.ReadThrottling().Value);
        Assert.Equal(123_456_789, reader.ReadCpuUsageNanoseconds().Value);
    }

    [Fact]
    public void V1_quota_of_minus_one_everywhere_is_unlimited()
    {
        using CgroupReader reader = V1("-1\n");

        CgroupResult<ResourceLimit> limit = reader.ReadCpuLimit();
        Assert.True(limit.Value.IsUnlimited);
        Assert.Contains("no CPU quota", limit.Text, StringComparison.Ordinal);
        Assert.False(reader.ReadThrottling().Value.HasQuota);
    }

    [Fact]
    public void V2_cpu_max_of_max_is_unlimited()
    {
        using CgroupReader reader = V2("max 100000\n");

        CgroupResult<ResourceLimit> limit = reader.ReadCpuLimit();
        Assert.Equal(CgroupLayout.V2, reader.Layout);
        Assert.True(limit.IsOk);
        Assert.True(limit.Value.IsUnlimited);
    }

    [Fact]
    public void V2_cpu_max_of_250000_per_100000_is_two_and_a_half_cores()
    {
        using CgroupReader reader = V2("250000 100000\n");

        CgroupResult<ResourceLimit> limit = reader.ReadCpuLimit();
        Assert.Equal(2.5, limit.Value.Amount);
        Assert.Equal(new ThrottleCounters(100, 7, true), reader.ReadThrottling().Value);
        Assert.Equal(5_000_000_000, reader.ReadCpuUsageNanoseconds().Value);
    }

    [Fact]
    public void Nested_limits_take_the_smallest_up_the_hierarchy_and_read_counters_of_the_parent_that_holds_it()
    {
        using CgroupReader reader = V2("300000 100000\n", parentCpuMax: "100000 100000\n", memoryMax: "2147483648\n", parentMemoryMax: "1073741824\n");
        _tree.Write("sys/fs/cgroup/system.slice/cpu.stat", FixtureTree.CpuStatV2(9_000_000, 50, 20))
            .Write("sys/fs/cgroup/system.slice/memory.current", "734003200\n")
            .Write("sys/fs/cgroup/system.slice/memory.stat", FixtureTree.MemoryStatV2(inactiveFile: 209_715_200));
        reader.Rediscover();

        CgroupResult<ResourceLimit> cpu = reader.ReadCpuLimit();
        Assert.Equal(1.0, cpu.Value.Amount);
        Assert.EndsWith("system.slice/cpu.max", cpu.Text, StringComparison.Ordinal);
        Assert.Equal(new ThrottleCounters(50, 20, true), reader.ReadThrottling().Value);
        Assert.Equal(9_000_000_000, reader.ReadCpuUsageNanoseconds().Value);

        CgroupResult<ResourceLimit> memory = reader.ReadMemoryLimit();
        Assert.Equal(1073741824, memory.Value.Amount);
        Assert.Equal(734_003_200 - 209_715_200, reader.ReadMemoryWorkingSet().Value);
    }

    [Fact]
    public void A_child_limit_smaller_than_its_parent_wins()
    {
        using CgroupReader reader = V2("50000 100000\n", parentCpuMax: "400000 100000\n");

        Assert.Equal(0.5, reader.ReadCpuLimit().Value.Amount);
    }

    [Fact]
    public void Memory_unlimited_sentinel_is_unlimited_and_the_v1_working_set_uses_total_inactive_file()
    {
        using CgroupReader reader = V1("-1\n");
        _tree.Write("sys/fs/cgroup/memory/app/memory.limit_in_bytes", FixtureTree.V1Unlimited);

        CgroupResult<ResourceLimit> memory = reader.ReadMemoryLimit();
        Assert.True(memory.IsOk);
        Assert.True(memory.Value.IsUnlimited);
        Assert.Equal(524_288_000 - 104_857_600, reader.ReadMemoryWorkingSet().Value);
    }

    [Fact]
    public void V2_working_set_is_usage_minus_inactive_file_and_never_negative()
    {
        using CgroupReader reader = V2("max 100000\n", memoryMax: "536870912\n");

        Assert.Equal(536870912, reader.ReadMemoryLimit().Value.Amount);
        Assert.Equal(314_572_800 - 104_857_600, reader.ReadMemoryWorkingSet().Value);

        _tree.Write($"{V2Group}/memory.stat", FixtureTree.MemoryStatV2(inactiveFile: 400_000_000));
        Assert.Equal(0, reader.ReadMemoryWorkingSet().Value);
    }

    [Fact]
    public void Cpuset_uses_the_effective_list_and_falls_back_up_the_hierarchy()
    {
        using CgroupReader reader = V1("-1\n");
        ulong[] bits = new ulong[1024];

        CgroupResult<int> own = reader.ReadCpuset(bits);
        Assert.Equal(2, own.Value);
        Assert.True(CgroupText.IsSet(bits, 1) && !CgroupText.IsSet(bits, 2));

        using CgroupReader v2 = V2("max 100000\n");
        CgroupResult<int> inherited = v2.ReadCpuset(bits);
        Assert.Equal(8, inherited.Value);
        Assert.EndsWith("sys/fs/cgroup/cpuset.cpus.effective", inherited.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Hybrid_reads_limits_from_v1_and_pressure_from_the_unified_group()
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoHybrid)
            .Write("proc/self/cgroup", "9:name=systemd:/\n4:memory:/process_api/11b8\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/job\n0::/\n")
            .Write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
            .Write("sys/fs/cgroup/unified/cpu.pressure", "some avg10=42.28 avg60=33.79 avg300=19.38 total=100443906\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
            .Write("sys/fs/cgroup/unified/memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
            .Write("sys/fs/cgroup/unified/cpu.stat", "usage_usec 430897182\nuser_usec 362981823\nsystem_usec 67915359\n")
            .Write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n")
            .Write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n")
            .Write("sys/fs/cgroup/cpu/job/cpu.cfs_quota_us", "50000\n")
            .Write("sys/fs/cgroup/cpu/job/cpu.cfs_period_us", "100000\n")
            .Write("sys/fs/cgroup/cpu/job/cpu.stat", FixtureTree.CpuStatV1(10, 9))
            .Write("sys/fs/cgroup/cpuacct/job/cpuacct.usage", "5000000000\n")
            .Write("sys/fs/cgroup/memory/memory.limit_in_bytes", FixtureTree.V1Unlimited)
            .Write("sys/fs/cgroup/memory/process_api/memory.limit_in_bytes", FixtureTree.V1Unlimited)
            .Write("sys/fs/cgroup/memory/process_api/11b8/memory.limit_in_bytes", FixtureTree.V1Unlimited)
            .Write("sys/fs/cgroup/memory/process_api/11b8/memory.usage_in_bytes", "3493888\n")
            .Write("sys/fs/cgroup/memory/process_api/11b8/memory.stat", FixtureTree.MemoryStatV1(69632, 69632))
            .Write("sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-1\n");
        using var reader = new CgroupReader(_tree.Options);

        Assert.Equal(CgroupLayout.Hybrid, reader.Layout);
        Assert.Equal(0.5, reader.ReadCpuLimit().Value.Amount);
        Assert.Equal(new ThrottleCounters(10, 9, true), reader.ReadThrottling().Value);

        // cpu and cpuacct are separate hierarchies: usage is read at the quota's cgroup path in cpuacct.
        CgroupResult<long> usage = reader.ReadCpuUsageNanoseconds();
        Assert.Equal(5_000_000_000, usage.Value);
        Assert.EndsWith("cpuacct/job/cpuacct.usage", usage.Text, StringComparison.Ordinal);
        Assert.True(reader.ReadMemoryLimit().Value.IsUnlimited);
        Assert.Equal(3_493_888 - 69_632, reader.ReadMemoryWorkingSet().Value);
        Assert.Equal(0.4228, reader.ReadPressure(memory: false).Value, 6);
        Assert.Equal(0.0, reader.ReadPressure(memory: true).Value);
    }

    [Fact]
    public void Container_with_a_mount_root_other_than_slash_reads_the_mount_point_and_no_higher()
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoDockerV1)
            .Write("proc/self/cgroup", "11:memory:/docker/0123abcd\n4:cpu,cpuacct:/docker/0123abcd\n3:cpuset:/docker/0123abcd\n1:name=systemd:/docker/0123abcd\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "200000\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
            .Write("sys/fs/cgroup/cpu,cpuacct/cpu.stat", FixtureTree.CpuStatV1(0, 0))
            .Write("sys/fs/cgroup/memory/memory.limit_in_bytes", "268435456\n")
            .Write("sys/fs/cgroup/memory/memory.usage_in_bytes", "100000000\n")
            .Write("sys/fs/cgroup/memory/memory.stat", FixtureTree.MemoryStatV1(0, 0));
        using var reader = new CgroupReader(_tree.Options);

        Assert.Equal(CgroupLayout.V1, reader.Layout);
        Assert.Equal(2.0, reader.ReadCpuLimit().Value.Amount);
        Assert.Equal(268435456, reader.ReadMemoryLimit().Value.Amount);
        Assert.Equal(100_000_000, reader.ReadMemoryWorkingSet().Value);
        Assert.Equal(CgroupStatus.NotSupported, reader.ReadPressure(memory: false).Status);
    }

    [Theory]
    [InlineData("garbage\n")]
    [InlineData("250000\n")]
    [InlineData("")]
    [InlineData("0 100000\n")]
    public void Garbage_or_truncated_cpu_max_is_a_garbage_failure(string cpuMax)
    {
        using CgroupReader reader = V2(cpuMax);

        CgroupResult<ResourceLimit> limit = reader.ReadCpuLimit();
        Assert.Equal(CgroupStatus.Failed, limit.Status);
        Assert.Equal("garbage", limit.FailureKind);
        Assert.Contains("cpu.max", limit.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Absurd_quota_is_out_of_range()
    {
        using CgroupReader reader = V2("9000000000000 1000\n");

        Assert.Equal("out-of-range", reader.ReadCpuLimit().FailureKind);
    }

    [Fact]
    public void Garbage_memory_stat_and_limit_fail_with_the_path()
    {
        using CgroupReader reader = V2("max 100000\n", memoryMax: "lots\n");
        _tree.Write($"{V2Group}/memory.stat", "anon 1\nfile 2\n");

        CgroupResult<ResourceLimit> limit = reader.ReadMemoryLimit();
        Assert.Equal("garbage", limit.FailureKind);
        Assert.Contains("memory.max", limit.Text, StringComparison.Ordinal);
        Assert.Equal("garbage", reader.ReadMemoryWorkingSet().FailureKind);
    }

    [Fact]
    public void A_file_that_disappears_after_discovery_fails_as_missing()
    {
        using CgroupReader reader = V2("max 100000\n");
        _tree.Delete($"{V2Group}/cpu.max");

        CgroupResult<ResourceLimit> limit = reader.ReadCpuLimit();
        Assert.Equal("missing", limit.FailureKind);
    }

    [Fact]
    public void Missing_own_cgroup_directory_fails_as_missing()
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoV2)
            .Write("proc/self/cgroup", "0::/gone.scope\n")
            .Write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
        using var reader = new CgroupReader(_tree.Options);

        CgroupResult<ResourceLimit> limit = reader.ReadCpuLimit();
        Assert.Equal("missing", limit.FailureKind);
        Assert.Contains("gone.scope", limit.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void No_cgroup_fs_makes_every_read_not_supported()
    {
        _tree.Write("proc/self/mountinfo", FixtureTree.MountInfoWithoutCgroups).Write("proc/self/cgroup", "0::/\n");
        using var reader = new CgroupReader(_tree.Options);

        Assert.Equal(CgroupLayout.None, reader.Layout);
        Assert.Equal(CgroupStatus.NotSupported, reader.ReadCpuLimit().Status);
        Assert.Equal(CgroupStatus.NotSupported, reader.ReadMemoryWorkingSet().Status);
        Assert.Equal(CgroupStatus.NotSupported, reader.ReadCpuset(new ulong[1024]).Status);
        Assert.Equal(CgroupStatus.NotSupported, reader.ReadPressure(memory: true).Status);
    }

    [Fact]
    public void V2_throttling_read_hands_its_cpu_time_to_the_next_usage_read_once()
    {
        using CgroupReader reader = V2("200000 100000\n");
        Assert.Equal(2.0, reader.ReadCpuLimit().Value.Amount);
        Assert.Equal(new ThrottleCounters(100, 7, true), reader.ReadThrottling().Value);

        // Changed after the throttling read: the usage read of the same pass does not read cpu.stat again...
        _tree.Write($"{V2Group}/cpu.stat", FixtureTree.CpuStatV2(6_000_000, 120, 8));
        Assert.Equal(5_000_000_000, reader.ReadCpuUsageNanoseconds().Value);

        // ...and the hand-over is used once: a further read goes to the file.
        Assert.Equal(6_000_000_000, reader.ReadCpuUsageNanoseconds().Value);
    }

    [Fact]
    public void Rediscovers_after_the_interval_when_the_process_moves_to_another_group()
    {
        using CgroupReader reader = V2("max 100000\n");
        var time = new FakeTimeProvider();
        reader.Refresh(time);
        Assert.True(reader.ReadCpuLimit().Value.IsUnlimited);

        _tree.Write("sys/fs/cgroup/batch.slice/cpu.max", "100000 100000\n")
            .Write("proc/self/cgroup", "0::/batch.slice\n");
        time.Advance(TimeSpan.FromSeconds(29));
        reader.Refresh(time);
        Assert.Equal(0, reader.Generation);

        time.Advance(TimeSpan.FromSeconds(1));
        reader.Refresh(time);
        Assert.Equal(1, reader.Generation);
        Assert.Equal(1.0, reader.ReadCpuLimit().Value.Amount);
    }

    [Fact]
    public void Rediscovery_that_finds_the_same_files_keeps_the_generation()
    {
        using CgroupReader reader = V2("max 100000\n");
        reader.Rediscover();
        reader.Rediscover();

        Assert.Equal(0, reader.Generation);
    }
}
