using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// A whole machine as a fixture tree, in the kernel's formats: a laptop-like node with an AC
/// adapter and a discharging battery, one thermal zone, an AMD GPU, eth0 as the default route,
/// and the process in a v2 cgroup with no CPU quota (so that utilisation comes from /proc/stat)
/// and a 1 GiB memory limit. Every
/// probe reads it without a failure (<see cref="HostileTreeTests"/> checks that first), so that a
/// file broken in it is the only failure a collection sees.
/// </summary>
internal sealed class MachineTree : IDisposable
{
    /// <summary>The process's v2 cgroup, below <c>sys/fs/cgroup</c>.</summary>
    public const string Group = "sys/fs/cgroup/app.slice/app.service";

    public MachineTree()
    {
        Root = Directory.CreateTempSubdirectory("costmodel-machine-").FullName;
        Write("proc/stat", "cpu  1000 0 500 10000 100 0 50 0 0 0\ncpu0 500 0 250 5000 50 0 20 0 0 0\ncpu1 500 0 250 5000 50 0 30 0 0 0\nintr 0\nctxt 12345\n");
        Write("proc/loadavg", "0.44 0.56 0.29 1/88 5284\n");
        Write("proc/meminfo", "MemTotal:       16384000 kB\nMemFree:         8000000 kB\nMemAvailable:   12000000 kB\n");
        Write("proc/pressure/cpu", "some avg10=1.50 avg60=1.00 avg300=0.50 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        Write("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        Write("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
        Write("proc/net/ipv6_route", "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 80200001       lo\n");
        Write("proc/net/dev", "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n");
        Write("proc/self/mountinfo", FixtureTree.MountInfoV2);
        Write("proc/self/cgroup", "0::/app.slice/app.service\n");

        Write("sys/devices/system/cpu/online", "0-1\n");
        Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        Write($"{Group}/cpu.max", "max 100000\n");
        Write($"{Group}/cpu.stat", FixtureTree.CpuStatV2(usageMicros: 5_000_000, periods: 10, throttled: 1));
        Write($"{Group}/memory.max", "1073741824\n");
        Write($"{Group}/memory.current", "419430400\n");
        Write($"{Group}/memory.stat", FixtureTree.MemoryStatV2(inactiveFile: 104_857_600));
        Write($"{Group}/cpuset.cpus.effective", "0-1\n");

        Write("sys/class/power_supply/AC/type", "Mains\n");
        Write("sys/class/power_supply/AC/online", "0\n");
        Write("sys/class/power_supply/BAT0/type", "Battery\n");
        Write("sys/class/power_supply/BAT0/status", "Discharging\n");
        Write("sys/class/power_supply/BAT0/present", "1\n");
        Write("sys/class/power_supply/BAT0/energy_now", "30000000\n");
        Write("sys/class/power_supply/BAT0/energy_full", "50000000\n");
        Write("sys/class/power_supply/BAT0/power_now", "10000000\n");

        Write("sys/class/thermal/thermal_zone0/type", "acpitz\n");
        Write("sys/class/thermal/thermal_zone0/temp", "45000\n");
        Write("sys/class/thermal/thermal_zone0/trip_point_0_type", "critical\n");
        Write("sys/class/thermal/thermal_zone0/trip_point_0_temp", "105000\n");

        Write("sys/class/net/eth0/type", "1\n");
        Write("sys/class/net/eth0/ifindex", "2\n");
        Directory.CreateDirectory(PathOf("sys/class/net/eth0/device"));

        Write("sys/class/drm/card0/device/vendor", "0x1002\n");
        Write("sys/class/drm/card0/device/device", "0x73bf\n");
        Write("sys/class/drm/card0/device/power/runtime_status", "active\n");
        Write("sys/class/drm/card0/device/gpu_busy_percent", "37\n");
        Write("sys/class/drm/card0/device/mem_info_vram_used", "2147483648\n");
        Write("sys/class/drm/card0/device/mem_info_vram_total", "17163091968\n");
    }

    public string Root { get; }

    public string Proc => PathOf("proc");

    public string Sys => PathOf("sys");

    public RecordingProbeFailureReporter Failures { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 11, 27, 12, 0, 0, TimeSpan.Zero));

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public MachineTree Write(string relative, string content)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    /// <summary>
    /// The host's composition: <c>AddCostModel().AddPlatformProbes(section)</c> with this tree as
    /// ProcRoot and SysRoot, NetworkManager and nvidia-smi off (no bus, no process), this tree's
    /// failure recorder and fake clock.
    /// </summary>
    public ServiceProvider BuildServices()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IProbeFailureReporter>(Failures);
        services.AddSingleton<TimeProvider>(Time);
        IConfiguration linux = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcRoot"] = Proc,
            ["SysRoot"] = Sys,
            ["UseNetworkManager"] = "false",
            ["AllowNvidiaSmiFallback"] = "false",
        }).Build();
        services.AddCostModel(o => o.NodeId = "machine-tree").AddPlatformProbes(linux);
        return services.BuildServiceProvider();
    }

    /// <summary>Builds the collector and takes one snapshot.</summary>
    public NodeCostFactors CollectOnce()
    {
        using ServiceProvider provider = BuildServices();
        return provider.GetRequiredService<ICostCollector>().Collect();
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
