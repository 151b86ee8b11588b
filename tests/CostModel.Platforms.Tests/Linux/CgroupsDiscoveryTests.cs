using System.Runtime.Versioning;
using System.Text;
using CostModel.Factors;
using CostModel.Platforms.Linux.Cgroups;

namespace CostModel.Platforms.Tests.Linux;

[SupportedOSPlatform("linux")]
public sealed class CgroupsDiscoveryTests
{
    private static string Reroot(string mountPoint) => CgroupDiscovery.Reroot(mountPoint, "/fx/sys", "/fx/proc");

    private static CgroupDiscoveryResult Discover(string mountInfo, string procCgroup, string? v2Controllers = null) =>
        CgroupDiscovery.Discover(mountInfo, procCgroup, Reroot, path => path.EndsWith("/cgroup.controllers", StringComparison.Ordinal) ? v2Controllers : null);

    [Fact]
    public void Unified_mount_alone_is_v2_and_every_controller_reads_the_process_group()
    {
        CgroupDiscoveryResult result = Discover(FixtureTree.MountInfoV2, "0::/user.slice/user-1000.slice/session-3.scope\n");

        Assert.Equal(CgroupLayout.V2, result.Layout);
        Assert.Same(result.Unified, result.Cpu);
        Assert.Same(result.Unified, result.Memory);
        Assert.Equal("/fx/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope", result.Cpu!.OwnDir);
        Assert.Equal(
            ["/fx/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope", "/fx/sys/fs/cgroup/user.slice/user-1000.slice", "/fx/sys/fs/cgroup/user.slice", "/fx/sys/fs/cgroup"],
            result.Cpu.LevelDirs);
    }

    [Fact]
    public void V1_mounts_map_each_controller_to_its_hierarchy_and_co_mounted_ones_share_a_directory()
    {
        CgroupDiscoveryResult result = Discover(FixtureTree.MountInfoV1, "12:cpuset:/app\n11:memory:/app/worker\n4:cpu,cpuacct:/app\n1:name=systemd:/app\n");

        Assert.Equal(CgroupLayout.V1, result.Layout);
        Assert.Null(result.Unified);
        Assert.Equal("/fx/sys/fs/cgroup/cpu,cpuacct/app", result.Cpu!.OwnDir);
        Assert.Equal("/fx/sys/fs/cgroup/cpu,cpuacct/app", result.CpuAcct!.OwnDir);
        Assert.Equal(["/fx/sys/fs/cgroup/memory/app/worker", "/fx/sys/fs/cgroup/memory/app", "/fx/sys/fs/cgroup/memory"], result.Memory!.LevelDirs);
        Assert.Equal("/fx/sys/fs/cgroup/cpuset/app", result.Cpuset!.OwnDir);
        Assert.False(result.Cpu.IsV2);
    }

    [Fact]
    public void V1_controllers_beside_a_unified_mount_are_hybrid_and_v1_holds_the_limits()
    {
        CgroupDiscoveryResult result = Discover(
            FixtureTree.MountInfoHybrid,
            "9:name=systemd:/\n4:memory:/process_api/11b8\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n",
            v2Controllers: "hugetlb\n");

        Assert.Equal(CgroupLayout.Hybrid, result.Layout);
        Assert.False(result.Cpu!.IsV2);
        Assert.Equal("/fx/sys/fs/cgroup/cpu", result.Cpu.OwnDir);
        Assert.Equal("/fx/sys/fs/cgroup/cpuacct", result.CpuAcct!.OwnDir);
        Assert.Equal("/fx/sys/fs/cgroup/memory/process_api/11b8", result.Memory!.OwnDir);
        Assert.Equal("/fx/sys/fs/cgroup/unified", result.Unified!.OwnDir);
        Assert.True(result.Unified.IsV2);
    }

    [Fact]
    public void Hybrid_controller_missing_from_v1_is_read_from_v2_only_when_v2_offers_it()
    {
        string mountInfo = FixtureTree.MountInfoHybrid.Replace("rw,memory\n", "rw,freezer\n", StringComparison.Ordinal);
        const string procCgroup = "4:freezer:/\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/app\n";

        Assert.Null(Discover(mountInfo, procCgroup, v2Controllers: "hugetlb\n").Memory);
        CgroupDiscoveryResult offered = Discover(mountInfo, procCgroup, v2Controllers: "memory pids\n");
        Assert.True(offered.Memory!.IsV2);
        Assert.Equal("/fx/sys/fs/cgroup/unified/app", offered.Memory.OwnDir);
    }

    [Fact]
    public void A_named_systemd_hierarchy_beside_cgroup2_is_still_v2()
    {
        const string mountInfo =
            "35 23 0:30 / /sys/fs/cgroup/unified rw,relatime shared:4 - cgroup2 cgroup2 rw\n" +
            "36 23 0:31 / /sys/fs/cgroup/systemd rw,relatime shared:5 - cgroup cgroup rw,xattr,name=systemd\n";

        CgroupDiscoveryResult result = Discover(mountInfo, "1:name=systemd:/init.scope\n0::/init.scope\n");

        Assert.Equal(CgroupLayout.V2, result.Layout);
        Assert.Equal("/fx/sys/fs/cgroup/unified/init.scope", result.Cpu!.OwnDir);
    }

    [Fact]
    public void Container_mount_root_is_mapped_so_the_process_group_is_the_mount_point()
    {
        CgroupDiscoveryResult result = Discover(FixtureTree.MountInfoDockerV1, "11:memory:/docker/0123abcd\n4:cpu,cpuacct:/docker/0123abcd/worker\n3:cpuset:/docker/0123abcd\n");

        Assert.Equal(["/fx/sys/fs/cgroup/memory"], result.Memory!.LevelDirs);
        Assert.Equal(["/docker/0123abcd"], result.Memory.LevelPaths);

        // A child group below the container's root: walk up to the mount point, never above it.
        Assert.Equal(["/fx/sys/fs/cgroup/cpu,cpuacct/worker", "/fx/sys/fs/cgroup/cpu,cpuacct"], result.Cpu!.LevelDirs);
        Assert.Equal(["/docker/0123abcd/worker", "/docker/0123abcd"], result.Cpu.LevelPaths);
        Assert.Equal("/fx/sys/fs/cgroup/cpu,cpuacct/worker", result.CpuAcct!.DirOf("/docker/0123abcd/worker"));
        Assert.Null(result.CpuAcct.DirOf("/other"));
        Assert.Null(result.Cpu.Note);
    }

    [Fact]
    public void Process_path_outside_the_mount_root_falls_back_to_the_mount_point_with_a_note()
    {
        CgroupDiscoveryResult result = Discover(FixtureTree.MountInfoDockerV1, "11:memory:/../../system.slice\n4:cpu,cpuacct:/elsewhere\n");

        Assert.Equal(["/fx/sys/fs/cgroup/memory"], result.Memory!.LevelDirs);
        Assert.Contains("not under the mount root", result.Memory.Note, StringComparison.Ordinal);
        Assert.Equal(["/fx/sys/fs/cgroup/cpu,cpuacct"], result.Cpu!.LevelDirs);
    }

    [Theory]
    [InlineData("/sys/fs/cgroup/cpu", "/fx/sys/fs/cgroup/cpu")]
    [InlineData("/sys", "/fx/sys")]
    [InlineData("/proc/x", "/fx/proc/x")]
    [InlineData("/cgroup/cpu", "/cgroup/cpu")]
    [InlineData("/system/fs", "/system/fs")]
    public void Mount_points_under_sys_or_proc_are_rerooted_and_others_kept(string mountPoint, string expected) =>
        Assert.Equal(expected, Reroot(mountPoint));

    [Fact]
    public void Escaped_mount_points_are_unescaped()
    {
        List<CgroupMount> mounts = CgroupDiscovery.ParseMountInfo("41 31 0:38 /a\\040b /sys/fs/cgroup/my\\040dir rw - cgroup2 cgroup2 rw\n");

        CgroupMount mount = Assert.Single(mounts);
        Assert.Equal("/a b", mount.Root);
        Assert.Equal("/sys/fs/cgroup/my dir", mount.MountPoint);
        Assert.True(mount.IsV2);
    }

    [Fact]
    public void No_cgroup_mount_is_layout_None_without_a_failure()
    {
        CgroupDiscoveryResult result = Discover(FixtureTree.MountInfoWithoutCgroups, "0::/\n");

        Assert.Equal(CgroupLayout.None, result.Layout);
        Assert.Null(result.FailureKind);
        Assert.Contains("no cgroup file system", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage\n")]
    [InlineData("4:memory\n")]
    [InlineData("x:cpu:/\n")]
    [InlineData("0:cpu:/\n")]
    [InlineData("")]
    public void Garbage_or_truncated_proc_self_cgroup_is_a_garbage_failure(string procCgroup)
    {
        CgroupDiscoveryResult result = Discover(FixtureTree.MountInfoV2, procCgroup);

        Assert.Equal(CgroupLayout.None, result.Layout);
        Assert.Equal("garbage", result.FailureKind);
    }

    [Theory]
    [InlineData("0-3,8,10-11\n", true, 7)]
    [InlineData("0", true, 1)]
    [InlineData("0-1", true, 2)]
    [InlineData("\n", true, 0)]
    [InlineData("3-1", false, 0)]
    [InlineData("0-", false, 0)]
    [InlineData("1,,2", false, 0)]
    [InlineData("a-b", false, 0)]
    [InlineData("0-70000", false, 0)]
    public void Cpu_lists_are_counted_strictly(string text, bool ok, int count)
    {
        Assert.Equal(ok, CgroupText.TryParseCpuList(Encoding.ASCII.GetBytes(text), default, out int parsed));
        if (ok)
        {
            Assert.Equal(count, parsed);
        }
    }

    [Fact]
    public void Cpu_list_sets_the_bits_of_its_cpus()
    {
        ulong[] bits = new ulong[4];
        Assert.True(CgroupText.TryParseCpuList("1,64-65,130"u8, bits, out int count));

        Assert.Equal(4, count);
        Assert.True(CgroupText.IsSet(bits, 1) && CgroupText.IsSet(bits, 64) && CgroupText.IsSet(bits, 65) && CgroupText.IsSet(bits, 130));
        Assert.False(CgroupText.IsSet(bits, 0) || CgroupText.IsSet(bits, 66) || CgroupText.IsSet(bits, 9999));
        Assert.False(CgroupText.TryParseCpuList("300"u8, bits, out _));
    }

    [Theory]
    [InlineData("max 100000\n", true, true, 0, 100000)]
    [InlineData("250000 100000\n", true, false, 250000, 100000)]
    [InlineData("250000\n", false, false, 0, 0)]
    [InlineData("max\n", false, false, 0, 0)]
    [InlineData("-5 100000\n", false, false, 0, 0)]
    [InlineData("100 0\n", false, false, 0, 0)]
    [InlineData("abc 100000\n", false, false, 0, 0)]
    [InlineData("100 100000 7\n", false, false, 0, 0)]
    public void Cpu_max_is_parsed_strictly(string text, bool ok, bool unlimited, long quota, long period)
    {
        Assert.Equal(ok, CgroupText.TryParseCpuMax(Encoding.ASCII.GetBytes(text), out bool u, out long q, out long p));
        if (ok)
        {
            Assert.Equal((unlimited, quota, period), (u, unlimited ? 0 : q, p));
        }
    }

    [Theory]
    [InlineData("max\n", true, true, 0)]
    [InlineData("9223372036854771712\n", true, true, 0)]
    [InlineData("9223372036854710272\n", true, true, 0)]
    [InlineData("18446744073709551615\n", true, true, 0)]
    [InlineData("536870912\n", true, false, 536870912)]
    [InlineData("-1\n", false, false, 0)]
    [InlineData("12k\n", false, false, 0)]
    [InlineData("", false, false, 0)]
    public void Memory_limits_read_the_unlimited_sentinels_as_unlimited(string text, bool ok, bool unlimited, long bytes)
    {
        Assert.Equal(ok, CgroupText.TryParseMemoryLimit(Encoding.ASCII.GetBytes(text), out bool u, out long b));
        if (ok)
        {
            Assert.Equal((unlimited, bytes), (u, unlimited ? 0 : b));
        }
    }

    [Theory]
    [InlineData("some avg10=1.23 avg60=0.50 avg300=0.10 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", true, 0.0123)]
    [InlineData("some avg10=100.00 avg60=0 avg300=0 total=1\n", true, 1.0)]
    [InlineData("full avg10=5.00 avg60=0 avg300=0 total=1\n", false, 0)]
    [InlineData("some avg10=abc avg60=0 avg300=0 total=1\n", false, 0)]
    [InlineData("some avg10=250.00\n", false, 0)]
    [InlineData("some avg60=1.00\n", false, 0)]
    public void Psi_some_avg10_is_a_percentage_turned_into_a_fraction(string text, bool ok, double fraction)
    {
        Assert.Equal(ok, CgroupText.TryParsePressureSomeAvg10(Encoding.ASCII.GetBytes(text), out double value));
        if (ok)
        {
            Assert.Equal(fraction, value, 6);
        }
    }
}
