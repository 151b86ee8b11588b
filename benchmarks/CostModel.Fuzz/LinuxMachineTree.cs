using System.Buffers.Binary;
using System.Text;

namespace CostModel.Fuzz;

/// <summary>
/// The kernel files of one healthy laptop below a folder of its own (<c>proc/</c>, <c>sys/</c>), in
/// the kernel's formats: an AC adapter and a discharging battery, one thermal zone with a critical
/// trip, eth0 as the default route, an AMD GPU, and the process in a v2 cgroup with a 1 GiB memory
/// limit (the platform tests' <c>MachineTree</c>), and also what that tree lacks: a coretemp hwmon
/// sensor with its limits, Intel thermal-throttle counters and cpufreq clocks for both CPUs, the
/// battery's capacity, and the GPU's hwmon temperature and power. A fuzz input rewrites or
/// deletes some of the files (<see cref="Apply"/>); <see cref="Restore"/> puts back what the last
/// input touched.
/// </summary>
/// <remarks>
/// An input is a run of segments: one byte naming the file (its index in <see cref="Files"/>,
/// modulo their count; the top bit set deletes the file instead), a 16-bit little-endian length,
/// and that many bytes of content (fewer when the input ends first). Files are rewritten in place
/// (truncated, same inode), as the kernel changes a file's content under an open handle; a deleted
/// file is created anew by the restore.
/// </remarks>
internal sealed class LinuxMachineTree : IDisposable
{
    /// <summary>The bit of a segment's first byte that deletes the file.</summary>
    public const byte DeleteFlag = 0x80;

    /// <summary>The process's v2 cgroup, below <c>sys/fs/cgroup</c>.</summary>
    public const string Group = "sys/fs/cgroup/app.slice/app.service";

    /// <summary>The files an input can change, with their healthy contents; an input names one by its index.</summary>
    public static IReadOnlyList<(string Path, string Content)> Files { get; } =
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
        ($"{Group}/cpu.max", "max 100000\n"),
        ($"{Group}/cpu.stat", "usage_usec 5000000\nuser_usec 2500000\nsystem_usec 2500000\nnr_periods 10\nnr_throttled 1\nthrottled_usec 1000\nnr_bursts 0\nburst_usec 0\n"),
        ($"{Group}/memory.max", "1073741824\n"),
        ($"{Group}/memory.current", "419430400\n"),
        ($"{Group}/memory.stat", "anon 104857600\nfile 209715200\nkernel 8388608\nactive_anon 104857600\ninactive_file 104857600\nactive_file 100000000\nunevictable 0\n"),
        ($"{Group}/cpuset.cpus.effective", "0-1\n"),
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

    // The files the last input changed or deleted, by index.
    private readonly HashSet<int> _touched = [];
    private readonly Dictionary<int, string> _changes = [];

    /// <summary>Writes the healthy tree into a new folder (below /dev/shm when there is one: the fuzzer writes a few files an input).</summary>
    public LinuxMachineTree()
    {
        string parent = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        Root = Path.Combine(parent, "costmodel-fuzz-machine-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(PathOf("sys/class/net/eth0/device"));
        for (int i = 0; i < Files.Count; i++)
        {
            Write(i, Encoding.ASCII.GetBytes(Files[i].Content));
        }
    }

    /// <summary>The folder holding proc/ and sys/.</summary>
    public string Root { get; }

    /// <summary>The tree's proc/.</summary>
    public string Proc => PathOf("proc");

    /// <summary>The tree's sys/.</summary>
    public string Sys => PathOf("sys");

    /// <summary>Makes one segment of an input: <paramref name="content"/> written to file <paramref name="index"/>.</summary>
    public static byte[] Segment(int index, string content)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(content);
        byte[] segment = new byte[3 + bytes.Length];
        segment[0] = (byte)index;
        BinaryPrimitives.WriteUInt16LittleEndian(segment.AsSpan(1), (ushort)bytes.Length);
        bytes.CopyTo(segment, 3);
        return segment;
    }

    /// <summary>Makes one segment of an input that deletes file <paramref name="index"/>.</summary>
    public static byte[] Deletion(int index) => [(byte)(index | DeleteFlag), 0, 0];

    /// <summary>The index of the file at <paramref name="path"/>.</summary>
    public static int IndexOf(string path)
    {
        for (int i = 0; i < Files.Count; i++)
        {
            if (Files[i].Path == path)
            {
                return i;
            }
        }

        throw new ArgumentException($"No file {path} in the tree.", nameof(path));
    }

    /// <summary>Rewrites or deletes the files the segments of <paramref name="input"/> name.</summary>
    public void Apply(ReadOnlySpan<byte> input)
    {
        while (input.Length >= 3)
        {
            int index = (input[0] & ~DeleteFlag) % Files.Count;
            bool delete = (input[0] & DeleteFlag) != 0;
            int length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(input[1..]), input.Length - 3);
            ReadOnlySpan<byte> content = input.Slice(3, length);
            input = input[(3 + length)..];
            _touched.Add(index);
            if (delete)
            {
                File.Delete(PathOf(Files[index].Path));
                _changes[index] = "(deleted)";
            }
            else
            {
                Write(index, content);
                _changes[index] = Convert.ToHexString(content[..Math.Min(content.Length, 64)]) + (content.Length > 64 ? "..." : "");
            }
        }
    }

    /// <summary>Writes every file the last input touched back to its healthy content.</summary>
    public void Restore()
    {
        foreach (int index in _touched)
        {
            Write(index, Encoding.ASCII.GetBytes(Files[index].Content));
        }

        _touched.Clear();
        _changes.Clear();
    }

    /// <summary>What the last input changed, for a violation's message.</summary>
    public string Describe() =>
        _changes.Count == 0 ? "none" : string.Join(", ", _changes.OrderBy(c => c.Key).Select(c => $"{Files[c.Key].Path} = {c.Value}"));

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(Root, recursive: true);

    private string PathOf(string relative) => Path.Combine(Root, relative);

    // In place: truncated and rewritten (the same inode an open handle reads), or created.
    private void Write(int index, ReadOnlySpan<byte> content)
    {
        string path = PathOf(Files[index].Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.SetLength(0);
        stream.Write(content);
    }
}
