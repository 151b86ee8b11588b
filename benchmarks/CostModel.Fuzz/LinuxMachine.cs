namespace CostModel.Fuzz;

/// <summary>
/// A healthy Linux machine as kernel files below <c>proc/</c> and <c>sys/</c>, in the kernel's
/// formats: what <see cref="LinuxMachineTree"/> writes and a fuzz input changes, and the seeds that
/// start AFL from it. Chosen by <see cref="Variable"/>: <c>laptop</c> (unset) or <c>docker-v1</c>.
/// </summary>
/// <param name="Name">laptop or docker-v1.</param>
/// <param name="Files">The files an input can change, with their healthy contents (an input names one by its index).</param>
/// <param name="Directories">Empty directories the probes look for.</param>
/// <param name="Seeds">The seed inputs, by file name.</param>
internal sealed record LinuxMachine(string Name, IReadOnlyList<(string Path, string Content)> Files, IReadOnlyList<string> Directories, IReadOnlyList<(string Name, byte[] Input)> Seeds)
{
    /// <summary>The environment variable that names the machine.</summary>
    public const string Variable = "COSTMODEL_FUZZ_MACHINE";

    /// <summary>The laptop's process cgroup (v2), below <c>sys/fs/cgroup</c>.</summary>
    public const string LaptopGroup = "sys/fs/cgroup/app.slice/app.service";

    // The container's v1 controllers: each mounted with the container's group as its root (Docker on a v1 host, no cgroup namespace).
    private const string CpuGroup = "sys/fs/cgroup/cpu,cpuacct";
    private const string MemoryGroup = "sys/fs/cgroup/memory";
    private const string CpusetGroup = "sys/fs/cgroup/cpuset";

    private static readonly IReadOnlyList<(string Path, string Content)> LaptopFiles =
    [
        ("proc/stat", "cpu  1000 0 500 10000 100 0 50 0 0 0\ncpu0 500 0 250 5000 50 0 20 0 0 0\ncpu1 500 0 250 5000 50 0 30 0 0 0\nintr 0\nctxt 12345\n"),
        ("proc/loadavg", "0.44 0.56 0.29 1/88 5284\n"),
        ("proc/meminfo", "MemTotal:       16384000 kB\nMemFree:         8000000 kB\nMemAvailable:   12000000 kB\n"),
        ("proc/pressure/cpu", "some avg10=1.50 avg60=1.00 avg300=0.50 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
        ("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
        ("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"),
        ("proc/net/ipv6_route", "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 80200001       lo\n"),
        ("proc/net/dev", "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n"),
        ("proc/self/mountinfo",
            "22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" +
            "23 27 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n" +
            "35 23 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n" +
            "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"),
        ("proc/self/cgroup", "0::/app.slice/app.service\n"),
        ("sys/devices/system/cpu/online", "0-1\n"),
        ("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n"),
        ($"{LaptopGroup}/cpu.max", "max 100000\n"),
        ($"{LaptopGroup}/cpu.stat", "usage_usec 5000000\nuser_usec 2500000\nsystem_usec 2500000\nnr_periods 10\nnr_throttled 1\nthrottled_usec 1000\nnr_bursts 0\nburst_usec 0\n"),
        ($"{LaptopGroup}/memory.max", "1073741824\n"),
        ($"{LaptopGroup}/memory.current", "419430400\n"),
        ($"{LaptopGroup}/memory.stat", "anon 104857600\nfile 209715200\nkernel 8388608\nactive_anon 104857600\ninactive_file 104857600\nactive_file 100000000\nunevictable 0\n"),
        ($"{LaptopGroup}/cpuset.cpus.effective", "0-1\n"),
        ("sys/class/power_supply/AC/type", "Mains\n"),
        ("sys/class/power_supply/AC/online", "0\n"),
        ("sys/class/power_supply/BAT0/type", "Battery\n"),
        ("sys/class/power_supply/BAT0/status", "Discharging\n"),
        ("sys/class/power_supply/BAT0/present", "1\n"),
        ("sys/class/power_supply/BAT0/energy_now", "30000000\n"),
        ("sys/class/power_supply/BAT0/energy_full", "50000000\n"),
        ("sys/class/power_supply/BAT0/power_now", "10000000\n"),
        ("sys/class/thermal/thermal_zone0/type", "acpitz\n"),
        ("sys/class/thermal/thermal_zone0/temp", "45000\n"),
        ("sys/class/thermal/thermal_zone0/trip_point_0_type", "critical\n"),
        ("sys/class/thermal/thermal_zone0/trip_point_0_temp", "105000\n"),
        ("sys/class/hwmon/hwmon0/name", "coretemp\n"),
        ("sys/class/hwmon/hwmon0/temp1_input", "52000\n"),
        ("sys/class/hwmon/hwmon0/temp1_max", "85000\n"),
        ("sys/class/hwmon/hwmon0/temp1_crit", "100000\n"),
        ("sys/devices/system/cpu/cpu0/topology/physical_package_id", "0\n"),
        ("sys/devices/system/cpu/cpu0/topology/core_id", "0\n"),
        ("sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "3\n"),
        ("sys/devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "1\n"),
        ("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000\n"),
        ("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3600000\n"),
        ("sys/devices/system/cpu/cpu1/topology/physical_package_id", "0\n"),
        ("sys/devices/system/cpu/cpu1/topology/core_id", "1\n"),
        ("sys/devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "0\n"),
        ("sys/devices/system/cpu/cpu1/thermal_throttle/package_throttle_count", "1\n"),
        ("sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "3500000\n"),
        ("sys/devices/system/cpu/cpu1/cpufreq/cpuinfo_max_freq", "3600000\n"),
        ("sys/class/power_supply/BAT0/capacity", "60\n"),
        ("sys/class/drm/card0/device/hwmon/hwmon1/temp1_input", "61000\n"),
        ("sys/class/drm/card0/device/hwmon/hwmon1/power1_average", "45000000\n"),
        ("sys/class/net/eth0/type", "1\n"),
        ("sys/class/net/eth0/ifindex", "2\n"),
        ("sys/class/drm/card0/device/vendor", "0x1002\n"),
        ("sys/class/drm/card0/device/device", "0x73bf\n"),
        ("sys/class/drm/card0/device/power/runtime_status", "active\n"),
        ("sys/class/drm/card0/device/gpu_busy_percent", "37\n"),
        ("sys/class/drm/card0/device/mem_info_vram_used", "2147483648\n"),
        ("sys/class/drm/card0/device/mem_info_vram_total", "17163091968\n"),
    ];

    private static readonly IReadOnlyList<(string Path, string Content)> DockerV1Files =
    [
        ("proc/stat", "cpu  4000 0 2000 40000 400 0 200 0 0 0\ncpu0 1000 0 500 10000 100 0 50 0 0 0\ncpu1 1000 0 500 10000 100 0 50 0 0 0\ncpu2 1000 0 500 10000 100 0 50 0 0 0\ncpu3 1000 0 500 10000 100 0 50 0 0 0\nintr 0\nctxt 55555\n"),
        ("proc/loadavg", "1.20 0.98 0.75 3/412 77\n"),
        ("proc/meminfo", "MemTotal:       65536000 kB\nMemFree:        30000000 kB\nMemAvailable:   50000000 kB\n"),
        ("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"),
        ("proc/net/dev", "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo: 500 5 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n  eth0: 123456 100 0 0 0 0 0 0 65432 80 0 0 0 0 0 0\n"),
        ("proc/self/mountinfo",
            "1078 1077 0:94 / / rw,relatime master:453 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X:/var/lib/docker/overlay2/l/Y\n" +
            "1080 1078 0:97 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n" +
            "1084 1078 0:98 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n" +
            "1085 1084 0:99 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755\n" +
            "1090 1085 0:27 /docker/0123abcd /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:14 - cgroup cgroup rw,cpu,cpuacct\n" +
            "1091 1085 0:28 /docker/0123abcd /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:15 - cgroup cgroup rw,memory\n" +
            "1092 1085 0:29 /docker/0123abcd /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime master:16 - cgroup cgroup rw,cpuset\n"),
        ("proc/self/cgroup", "11:memory:/docker/0123abcd\n4:cpu,cpuacct:/docker/0123abcd\n3:cpuset:/docker/0123abcd\n1:name=systemd:/docker/0123abcd\n"),
        ("sys/devices/system/cpu/online", "0-3\n"),
        ($"{CpuGroup}/cpu.cfs_quota_us", "150000\n"),
        ($"{CpuGroup}/cpu.cfs_period_us", "100000\n"),
        ($"{CpuGroup}/cpu.stat", "nr_periods 1000\nnr_throttled 10\nthrottled_time 10000000\nnr_bursts 0\nburst_time 0\n"),
        ($"{CpuGroup}/cpuacct.usage", "5000000000\n"),
        ($"{MemoryGroup}/memory.limit_in_bytes", "536870912\n"),
        ($"{MemoryGroup}/memory.usage_in_bytes", "300000000\n"),
        ($"{MemoryGroup}/memory.stat", "cache 9850880\nrss 7860224\nrss_huge 0\nshmem 0\nmapped_file 7655424\ninactive_anon 0\nactive_anon 1531904\ninactive_file 50000000\nactive_file 679936\nunevictable 0\nhierarchical_memory_limit 536870912\ntotal_cache 386211840\ntotal_rss 168300544\ntotal_inactive_file 100000000\ntotal_active_file 100000\n"),
        ($"{CpusetGroup}/cpuset.effective_cpus", "0-3\n"),
        ($"{CpusetGroup}/cpuset.cpus", "0-3\n"),
        ("sys/class/net/eth0/type", "1\n"),
        ("sys/class/net/eth0/ifindex", "12\n"),
    ];

    /// <summary>
    /// A laptop: an AC adapter and a discharging battery, one thermal zone with a critical trip, eth0
    /// as the default route, an AMD GPU, and the process in a v2 cgroup with a 1 GiB memory limit (the
    /// platform tests' <c>MachineTree</c>), and also what that tree lacks: a coretemp hwmon sensor with
    /// its limits, Intel thermal-throttle counters and cpufreq clocks for both CPUs, the battery's
    /// capacity, and the GPU's hwmon temperature and power.
    /// </summary>
    public static LinuxMachine Laptop { get; } = new("laptop", LaptopFiles, ["sys/class/net/eth0/device"],
    [
        ("healthy", Change(LaptopFiles, "proc/loadavg", "0.44 0.56 0.29 1/88 5284\n")),
        ("busy-cpu", Change(LaptopFiles, "proc/stat", "cpu  9000 0 4500 10100 100 0 50 0 0 0\ncpu0 4500 0 2250 5050 50 0 20 0 0 0\ncpu1 4500 0 2250 5050 50 0 30 0 0 0\nintr 0\nctxt 99345\n")),
        ("charging", [.. Change(LaptopFiles, "sys/class/power_supply/AC/online", "1\n"), .. Change(LaptopFiles, "sys/class/power_supply/BAT0/status", "Charging\n")]),
        ("cpu-quota", [.. Change(LaptopFiles, $"{LaptopGroup}/cpu.max", "150000 100000\n"), .. Change(LaptopFiles, $"{LaptopGroup}/cpu.stat", "usage_usec 9000000\nuser_usec 4500000\nsystem_usec 4500000\nnr_periods 20\nnr_throttled 9\nthrottled_usec 900000\nnr_bursts 0\nburst_usec 0\n")]),
        ("hot-zone", Change(LaptopFiles, "sys/class/thermal/thermal_zone0/temp", "98000\n")),
        ("gpu-busy", [.. Change(LaptopFiles, "sys/class/drm/card0/device/gpu_busy_percent", "99\n"), .. Change(LaptopFiles, "sys/class/drm/card0/device/mem_info_vram_used", "16106127360\n")]),
        ("memory-pressure", [.. Change(LaptopFiles, "proc/pressure/memory", "some avg10=42.00 avg60=30.00 avg300=10.00 total=99999\nfull avg10=12.00 avg60=8.00 avg300=2.00 total=5555\n"), .. Change(LaptopFiles, $"{LaptopGroup}/memory.current", "1060000000\n")]),
        ("no-battery", LinuxMachineTree.Deletion(IndexOf(LaptopFiles, "sys/class/power_supply/BAT0/type"))),
    ]);

    /// <summary>
    /// A Docker container on a v1 host without a cgroup namespace: four CPUs, a CPU quota of 1.5 cores
    /// with throttled periods, a 512 MiB memory limit, eth0 behind the bridge; no battery, no thermal
    /// zone, no GPU, no pressure files (an older kernel).
    /// </summary>
    public static LinuxMachine DockerV1 { get; } = new("docker-v1", DockerV1Files, [],
    [
        ("healthy", Change(DockerV1Files, "proc/loadavg", "1.20 0.98 0.75 3/412 77\n")),
        ("throttled", [.. Change(DockerV1Files, $"{CpuGroup}/cpu.stat", "nr_periods 1100\nnr_throttled 90\nthrottled_time 90000000\nnr_bursts 0\nburst_time 0\n"), .. Change(DockerV1Files, $"{CpuGroup}/cpuacct.usage", "6500000000\n")]),
        ("no-quota", Change(DockerV1Files, $"{CpuGroup}/cpu.cfs_quota_us", "-1\n")),
        ("memory-near-limit", Change(DockerV1Files, $"{MemoryGroup}/memory.usage_in_bytes", "530000000\n")),
        ("no-memory-limit", Change(DockerV1Files, $"{MemoryGroup}/memory.limit_in_bytes", "9223372036854771712\n")),
        ("cpuset-two", Change(DockerV1Files, $"{CpusetGroup}/cpuset.effective_cpus", "0,2\n")),
        ("no-cgroup-file", LinuxMachineTree.Deletion(IndexOf(DockerV1Files, "proc/self/cgroup"))),
    ]);

    /// <summary>The machine <see cref="Variable"/> names.</summary>
    /// <exception cref="InvalidOperationException">The variable names no machine.</exception>
    public static LinuxMachine FromEnvironment() => Environment.GetEnvironmentVariable(Variable) switch
    {
        null or "" or "laptop" => Laptop,
        "docker-v1" => DockerV1,
        string other => throw new InvalidOperationException($"{Variable}='{other}' names no machine: use laptop or docker-v1."),
    };

    private static int IndexOf(IReadOnlyList<(string Path, string Content)> files, string path)
    {
        for (int i = 0; i < files.Count; i++)
        {
            if (files[i].Path == path)
            {
                return i;
            }
        }

        throw new ArgumentException($"No file {path} in the machine.", nameof(path));
    }

    private static byte[] Change(IReadOnlyList<(string Path, string Content)> files, string path, string content) =>
        LinuxMachineTree.Segment(IndexOf(files, path), content);
}
