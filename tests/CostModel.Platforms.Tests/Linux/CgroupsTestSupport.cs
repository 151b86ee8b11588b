using CostModel.Platforms.Linux;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// A temporary fixture tree with <c>proc/</c> and <c>sys/</c> below one root, written in the
/// kernel's formats. Mount points in a fixture mountinfo are real paths (<c>/sys/fs/cgroup/...</c>)
/// and are re-rooted onto <see cref="Sys"/> by the reader, as in production with a custom SysRoot.
/// </summary>
internal sealed class FixtureTree : IDisposable
{
    public FixtureTree() => Root = Directory.CreateTempSubdirectory("costmodel-cg-").FullName;

    public string Root { get; }

    public string Proc => Path.Combine(Root, "proc");

    public string Sys => Path.Combine(Root, "sys");

    public IOptions<LinuxProbeOptions> Options => Microsoft.Extensions.Options.Options.Create(new LinuxProbeOptions { ProcRoot = Proc, SysRoot = Sys });

    /// <summary>The path of <paramref name="relative"/> ("proc/stat", "sys/fs/cgroup/cpu.max").</summary>
    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes a file, creating its directories.</summary>
    public FixtureTree Write(string relative, string content)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public FixtureTree Delete(string relative)
    {
        File.Delete(PathOf(relative));
        return this;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>A host with no cgroup mount: mountinfo of a minimal system.</summary>
    public const string MountInfoWithoutCgroups =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
        "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n" +
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n";

    /// <summary>A systemd host on the unified hierarchy (Fedora 31+, Ubuntu 21.10+).</summary>
    public const string MountInfoV2 =
        "22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" +
        "23 27 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n" +
        "35 23 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n" +
        "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n";

    /// <summary>A v1 host (cpu and cpuacct co-mounted, as systemd does), with no unified mount.</summary>
    public const string MountInfoV1 =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
        "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n" +
        "25 23 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n" +
        "27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd\n" +
        "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct\n" +
        "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n" +
        "32 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpuset\n" +
        "29 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n";

    /// <summary>Hybrid, like this repository's VM: v1 controllers each on its own mount plus v2 at /sys/fs/cgroup/unified.</summary>
    public const string MountInfoHybrid =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
        "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n" +
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n" +
        "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n" +
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n" +
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" +
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n";

    /// <summary>Inside a Docker container on a v1 host without a cgroup namespace: the mounts show the container's subtree.</summary>
    public const string MountInfoDockerV1 =
        "1078 1077 0:94 / / rw,relatime master:453 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X:/var/lib/docker/overlay2/l/Y\n" +
        "1080 1078 0:97 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n" +
        "1084 1078 0:98 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n" +
        "1085 1084 0:99 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755\n" +
        "1090 1085 0:27 /docker/0123abcd /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:14 - cgroup cgroup rw,cpu,cpuacct\n" +
        "1091 1085 0:28 /docker/0123abcd /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:15 - cgroup cgroup rw,memory\n" +
        "1092 1085 0:29 /docker/0123abcd /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime master:16 - cgroup cgroup rw,cpuset\n";

    /// <summary>A typical v2 cpu.stat.</summary>
    public static string CpuStatV2(long usageMicros, long periods, long throttled) =>
        $"usage_usec {usageMicros}\nuser_usec {usageMicros / 2}\nsystem_usec {usageMicros / 2}\nnr_periods {periods}\nnr_throttled {throttled}\nthrottled_usec {throttled * 1000}\nnr_bursts 0\nburst_usec 0\n";

    /// <summary>A typical v1 cpu.stat.</summary>
    public static string CpuStatV1(long periods, long throttled) =>
        $"nr_periods {periods}\nnr_throttled {throttled}\nthrottled_time {throttled * 1_000_000}\nnr_bursts 0\nburst_time 0\n";

    /// <summary>A v2 memory.stat (abridged to real lines, in the kernel's order).</summary>
    public static string MemoryStatV2(long inactiveFile) =>
        $"anon 104857600\nfile 209715200\nkernel 8388608\nkernel_stack 327680\npagetables 1294336\nsock 0\nshmem 0\nfile_mapped 52428800\nfile_dirty 0\nfile_writeback 0\nanon_thp 0\ninactive_anon 0\nactive_anon 104857600\ninactive_file {inactiveFile}\nactive_file 100000000\nunevictable 0\n";

    /// <summary>A v1 memory.stat: the group's own counters, then hierarchical "total_" ones.</summary>
    public static string MemoryStatV1(long inactiveFile, long totalInactiveFile) =>
        $"cache 9850880\nrss 7860224\nrss_huge 0\nshmem 0\nmapped_file 7655424\ndirty 24576\nwriteback 0\nswap 0\npgpgin 36876\npgpgout 32550\npgfault 39666\npgmajfault 0\ninactive_anon 0\nactive_anon 1531904\ninactive_file {inactiveFile}\nactive_file 679936\nunevictable 0\nhierarchical_memory_limit 9223372036854771712\ntotal_cache 386211840\ntotal_rss 168300544\ntotal_inactive_anon 225771520\ntotal_active_anon 8024064\ntotal_inactive_file {totalInactiveFile}\ntotal_active_file 100000\ntotal_unevictable 0\n";

    /// <summary>The v1 "no limit" value: PAGE_COUNTER_MAX pages of 4 KiB.</summary>
    public const string V1Unlimited = "9223372036854771712\n";
}

/// <summary>Records failure reports.</summary>

