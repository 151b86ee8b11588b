using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// Issue 12, finding 11: a FIFO (or another non-regular file) in place of a kernel file must
/// neither hang the snapshot nor throw from building the collector; the readings that depend on
/// the file are Unknown and name it, and the rest of the machine still reads.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HostileTreeTests : IDisposable
{
    private static readonly Dictionary<string, Func<NodeCostFactors, (SignalQuality Quality, string? Reason)>> Readings = new()
    {
        ["compute.utilization"] = s => Describe(s.Compute.CpuUtilization),
        ["compute.loadPerCore"] = s => Describe(s.Compute.LoadPerCore),
        ["compute.memoryTotal"] = s => Describe(s.Compute.MemoryTotalBytes),
        ["compute.cpuPressure"] = s => Describe(s.Compute.CpuPressure),
        ["network.receive"] = s => Describe(s.Network.ReceiveBytesPerSecond),
        ["container.cpuLimit"] = s => Describe(s.Container.CpuLimitCores),
        ["container.memoryLimit"] = s => Describe(s.Container.MemoryLimitBytes),
        ["container.workingSet"] = s => Describe(s.Container.MemoryWorkingSetBytes),
        ["power.source"] = s => Describe(s.Power.Source),
        ["power.batteryCount"] = s => Describe(s.Power.BatteryCount),
        ["power.batteryPercent"] = s => Describe(s.Power.BatteryPercent),
        ["thermal.hottest"] = s => Describe(s.Thermal.HottestCelsius),
        ["gpu.count"] = s => Describe(s.Gpu.DeviceCount),
        ["gpu0.memoryUsed"] = s => Describe(s.Gpu.Devices.Single(d => d.Vendor == GpuVendor.Amd).MemoryUsedBytes),
    };

    private readonly MachineTree _tree = new();

    public void Dispose() => _tree.Dispose();

    /// <summary>Key files of every probe, and the reading that cannot be known without each ("" where another file stands in).</summary>
    public static TheoryData<string, string, bool> KeyFiles()
    {
        (string File, string Reading)[] files =
        [
            ("proc/stat", "compute.utilization"),
            ("proc/loadavg", "compute.loadPerCore"),
            ("proc/meminfo", "compute.memoryTotal"),
            ("proc/pressure/cpu", "compute.cpuPressure"),
            ("proc/net/route", "network.receive"),
            ("proc/net/dev", "network.receive"),
            ("proc/self/mountinfo", "container.cpuLimit"),
            ("proc/self/cgroup", "container.memoryLimit"),
            ("sys/devices/system/cpu/online", ""), // the cpuN lines of /proc/stat are counted instead
            ($"{MachineTree.Group}/cpu.max", "container.cpuLimit"),
            ($"{MachineTree.Group}/memory.current", "container.workingSet"),
            ("sys/class/power_supply/AC/online", "power.source"),
            ("sys/class/power_supply/BAT0/type", "power.batteryCount"),
            ("sys/class/power_supply/BAT0/energy_now", "power.batteryPercent"),
            ("sys/class/thermal/thermal_zone0/temp", "thermal.hottest"),
            ("sys/class/drm/card0/device/vendor", "gpu.count"),
            ("sys/class/drm/card0/device/mem_info_vram_used", "gpu0.memoryUsed"),
        ];

        var data = new TheoryData<string, string, bool>();
        foreach ((string file, string reading) in files)
        {
            data.Add(file, reading, false);
            data.Add(file, reading, true);
        }

        return data;
    }

    [Fact]
    public void The_healthy_tree_reads_without_a_failure()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs the Linux probes");

        NodeCostFactors snapshot = _tree.CollectOnce();

        // The fixture is sound: a broken file in it is the only failure the FIFO tests see.
        Assert.DoesNotContain(_tree.Failures.Reports, r => r.Detail.Contains(_tree.Root, StringComparison.Ordinal));
        Assert.Equal(1, snapshot.Power.BatteryCount.Value);
        Assert.Equal(60.0, snapshot.Power.BatteryPercent.Value, 9);
        Assert.Equal(PowerSource.Battery, snapshot.Power.Source.Value);
        Assert.Equal(45.0, snapshot.Thermal.HottestCelsius.Value);
        Assert.True(snapshot.Container.CpuLimitCores.Value.IsUnlimited);
        Assert.Equal(1_073_741_824, snapshot.Container.MemoryLimitBytes.Value.Amount);
        Assert.Equal(419_430_400 - 104_857_600, snapshot.Container.MemoryWorkingSetBytes.Value);
        Assert.Equal(2.0, snapshot.Compute.EffectiveCores.Value);
        Assert.Equal(0.22, snapshot.Compute.LoadPerCore.Value, 9);
        Assert.Equal(0.015, snapshot.Compute.CpuPressure.Value, 9);
        Assert.Equal("eth0", snapshot.Network.DefaultInterface);
        Assert.Equal(1, snapshot.Gpu.DeviceCount.Value);
        Assert.Equal(2_147_483_648, snapshot.Gpu.Devices.Single(d => d.Vendor == GpuVendor.Amd).MemoryUsedBytes.Value);
    }

    [Theory]
    [MemberData(nameof(KeyFiles))]
    public async Task A_fifo_in_place_of_a_key_file_neither_hangs_nor_throws_and_its_readings_are_Unknown(string relative, string reading, bool idleWriter)
    {
        SpecialFiles.SkipUnlessSupported();
        string path = _tree.PathOf(relative);
        SpecialFiles.MakeFifo(path);
        using Microsoft.Win32.SafeHandles.SafeFileHandle? writer = idleWriter ? SpecialFiles.HoldIdleWriter(path) : null;

        // Building the collector (discovery reads mountinfo, supply types, GPU vendors) and a pass.
        NodeCostFactors snapshot = await SpecialFiles.WithinGuard(_tree.CollectOnce);

        Assert.Contains(_tree.Failures.Reports, r => r.Kind == RegularFile.NotAFileKind && r.Detail.Contains(path, StringComparison.Ordinal));
        if (reading.Length > 0)
        {
            (SignalQuality quality, string? reason) = Readings[reading](snapshot);
            Assert.Equal(SignalQuality.Unknown, quality);
            Assert.Contains($"{path} is a FIFO (named pipe), not a regular file", reason, StringComparison.Ordinal);
        }

        // No probe failed as a whole (the collector's "probe ... failed" or a probe that could not start).
        Assert.DoesNotContain("probe linux.", CostModelJson.Serialize(snapshot), StringComparison.Ordinal);
    }

    [Fact]
    public void A_probe_whose_constructor_throws_is_replaced_by_one_that_reads_Unknown_with_the_reason()
    {
        using ServiceProvider services = _tree.BuildServices();

        ISignalProbe probe = ProbeFactory.Create(services, LinuxPowerProbe.ProbeName, SignalGroup.Power,
            _ => throw new NotSupportedException("Stream does not support seeking."));
        var snapshot = new SnapshotBuilder(_tree.Time);
        probe.Collect(snapshot);

        Assert.Equal(LinuxPowerProbe.ProbeName, probe.Name);
        Assert.Equal(SignalGroup.Power, probe.Group);
        const string Reason = "probe linux.power could not start: NotSupportedException: Stream does not support seeking.";
        Assert.Equal(Reason, snapshot.Power.BatteryCount.Reason);
        Assert.Equal(SignalQuality.Unknown, snapshot.Power.Source.Quality);
        Assert.Equal(_tree.Time.GetUtcNow(), snapshot.Power.Source.ObservedAt);
        Assert.Contains(_tree.Failures.Reports, r => r.Probe == "linux.power" && r.Kind == ProbeFactory.InitFailedKind && r.Detail == Reason);
    }

    private static (SignalQuality, string?) Describe<T>(Reading<T> reading)
        where T : struct => (reading.Quality, reading.Reason);
}
