using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// Fixture trees in the kernel's layouts: class/thermal/thermal_zoneN (temp and trip points in
/// millidegrees C), class/hwmon/hwmonN (tempN_input, tempN_max, tempN_crit), and
/// devices/system/cpu/cpuN with topology, thermal_throttle counters and cpufreq (kHz).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LinuxThermalProbeTests : IDisposable
{
    private readonly string _sys = Directory.CreateTempSubdirectory("costmodel-thermal-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();

    public LinuxThermalProbeTests()
    {
        Directory.CreateDirectory(Path.Combine(_sys, "class", "thermal"));
        Directory.CreateDirectory(CpuRoot);

        // Entries beside the CPUs that match cpu* and must not be taken for CPUs.
        Directory.CreateDirectory(Path.Combine(CpuRoot, "cpufreq", "policy0"));
        Directory.CreateDirectory(Path.Combine(CpuRoot, "cpuidle"));
    }

    private string CpuRoot => Path.Combine(_sys, "devices", "system", "cpu");

    public void Dispose() => Directory.Delete(_sys, recursive: true);

    [Fact]
    public void Throttling_in_progress_is_Serious_with_events_and_clock_loss()
    {
        // A laptop CPU over its passive trip, counters advancing, clocks held at 1.2 of 3.0 GHz.
        Zone(0, "acpitz", 96_000, ("critical", 105_000), ("passive", 95_000), ("active", 60_000));
        Laptop4Cpus(core: [10, 7, 10, 7], package: 20, curKhz: 1_200_000);
        using LinuxThermalProbe probe = NewProbe();

        ThermalFactors first = Collect(probe);
        Assert.Equal(SignalQuality.Unknown, first.ThrottleEvents.Quality);
        Assert.Equal("first sample; counting throttle events needs two", first.ThrottleEvents.Reason);
        Assert.Equal(ThermalLevel.Serious, first.Level.Value);

        _time.Advance(TimeSpan.FromSeconds(2));
        SetCounters(core: [13, 8, 13, 8], package: 25);
        ThermalFactors second = Collect(probe);

        Assert.Equal(ThermalLevel.Serious, second.Level.Value);
        Assert.Equal(SignalQuality.Estimated, second.Level.Quality);

        // Per core once (cpu0 and cpu2 are SMT siblings, as are cpu1 and cpu3), per package once:
        // 3 + 1 + 5, not 3 + 3 + 1 + 1 + 4 x 5.
        Assert.Equal(9, second.ThrottleEvents.Value);
        Assert.Equal(SignalQuality.Measured, second.ThrottleEvents.Quality);
        Assert.Equal(0.6, second.ThrottleRatio.Value, 9);
        Assert.Equal(SignalQuality.Estimated, second.ThrottleRatio.Quality);
        Assert.Equal(96, second.HottestCelsius.Value);
        Assert.Contains("thermal_zone0/temp (acpitz)", second.HottestCelsius.Source, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Throttle_counters_advancing_alone_mean_Serious()
    {
        Zone(0, "acpitz", 60_000, ("critical", 105_000), ("passive", 95_000));
        Laptop4Cpus(core: [0, 0, 0, 0], package: 0, curKhz: 2_400_000);
        using LinuxThermalProbe probe = NewProbe();
        Collect(probe);

        _time.Advance(TimeSpan.FromSeconds(2));
        SetCounters(core: [0, 0, 0, 0], package: 1);
        ThermalFactors thermal = Collect(probe);

        Assert.Equal(ThermalLevel.Serious, thermal.Level.Value);
        Assert.Equal(1, thermal.ThrottleEvents.Value);
        Assert.Equal(0.2, thermal.ThrottleRatio.Value, 9);
    }

    [Fact]
    public void Sensor_within_five_degrees_of_its_critical_limit_is_Critical()
    {
        Hwmon(0, "coretemp", (1, 97_000, 80_000, 100_000), (2, 70_000, 80_000, 100_000));

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(ThermalLevel.Critical, thermal.Level.Value);
        Assert.Equal(97, thermal.HottestCelsius.Value);
        Assert.Contains("hwmon0/temp1_input (coretemp)", thermal.HottestCelsius.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Sensor_past_its_critical_trip_is_Critical()
    {
        Zone(0, "acpitz", 110_000, ("critical", 105_000), ("passive", 95_000));

        Assert.Equal(ThermalLevel.Critical, CollectOnce().Level.Value);
    }

    [Fact]
    public void Cool_machine_at_idle_clocks_is_Nominal_and_not_throttled()
    {
        Zone(0, "acpitz", 45_000, ("critical", 105_000), ("passive", 95_000));

        // x86_pkg_temp's writable trip points read 0 until someone sets them: not a trip.
        Zone(1, "x86_pkg_temp", 47_000, ("passive", 0), ("passive", 0));
        Hwmon(0, "coretemp", (1, 47_000, 80_000, 100_000));
        Laptop4Cpus(core: [3, 3, 3, 3], package: 4, curKhz: 800_000);
        using LinuxThermalProbe probe = NewProbe();
        Collect(probe);

        _time.Advance(TimeSpan.FromSeconds(2));
        ThermalFactors thermal = Collect(probe);

        Assert.Equal(ThermalLevel.Nominal, thermal.Level.Value);
        Assert.Equal(0, thermal.ThrottleEvents.Value);

        // 800 MHz of 3 GHz is idle frequency scaling, not heat: no clock lost to throttling.
        Assert.Equal(0, thermal.ThrottleRatio.Value);
        Assert.Equal(SignalQuality.Measured, thermal.ThrottleRatio.Quality);
        Assert.Contains("no thermal throttling signalled", thermal.ThrottleRatio.Source, StringComparison.Ordinal);
        Assert.Equal(47, thermal.HottestCelsius.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Sensor_within_ten_degrees_of_its_lowest_trip_is_Fair()
    {
        Zone(0, "acpitz", 88_000, ("critical", 105_000), ("passive", 95_000));

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(ThermalLevel.Fair, thermal.Level.Value);
    }

    [Fact]
    public void Drive_at_its_warning_limit_is_Serious()
    {
        // nvme: temp1_max is the warning composite temperature, where drives start to throttle;
        // temp1_min reads the -273150 sentinel and is not used.
        Hwmon(0, "nvme", (1, 84_850, 84_850, 94_850));
        Write(Path.Combine(_sys, "class", "hwmon", "hwmon0"), "temp1_min", -273_150);

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(ThermalLevel.Serious, thermal.Level.Value);
        Assert.Equal(84.85, thermal.HottestCelsius.Value, 9);
    }

    [Fact]
    public void Absurd_and_negative_temperatures_are_rejected_but_zero_is_kept()
    {
        Zone(0, "acpitz", -273_200, ("critical", 105_000));
        Zone(1, "pch_skylake", 0, ("critical", 115_000));
        Hwmon(0, "it8728", (1, 200_000, 0, 0), (3, -128_000, 0, 0));   // temp3 unconnected

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(0, thermal.HottestCelsius.Value);
        Assert.Equal(SignalQuality.Measured, thermal.HottestCelsius.Quality);
        Assert.Equal(3, _failures.Reports.Count(r => r.Kind == "out-of-range"));
        Assert.Contains(_failures.Reports, r => r.Detail.Contains("-273200", StringComparison.Ordinal));
        Assert.Equal(ThermalLevel.Nominal, thermal.Level.Value);
    }

    [Fact]
    public void A_zone_below_minus_40_C_is_a_broken_sensor_and_never_the_hottest()
    {
        // Issue 12, finding 12: a zone at -44 C became the hottest reading when it was the only one read.
        Zone(0, "acpitz", -44_000, ("critical", 105_000));

        ThermalFactors alone = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, alone.HottestCelsius.Quality);
        Assert.StartsWith($"implausible temperature '-44000' in {Path.Combine(_sys, "class", "thermal", "thermal_zone0", "temp")} (millidegrees C) (plausible -40..150 C: ", alone.HottestCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Fact]
    public void A_zone_at_minus_40_C_is_kept_as_the_coldest_plausible_reading()
    {
        Zone(0, "acpitz", -40_000, ("critical", 105_000));

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(-40.0, thermal.HottestCelsius.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Only_absurd_temperatures_make_the_hottest_unknown()
    {
        Zone(0, "acpitz", 255_000, ("critical", 105_000));

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, thermal.HottestCelsius.Quality);
        Assert.Contains("implausible temperature '255000'", thermal.HottestCelsius.Reason, StringComparison.Ordinal);
        Assert.Contains("plausible -40..150 C", thermal.HottestCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, thermal.Level.Quality);
    }

    [Fact]
    public void Unreadable_and_garbage_sensors_are_reported_and_the_others_still_count()
    {
        Zone(0, "iwlwifi_1", 0);
        string temp = Path.Combine(_sys, "class", "thermal", "thermal_zone0", "temp");
        File.Delete(temp);
        Directory.CreateDirectory(temp);
        Zone(1, "acpitz", 52_000, ("critical", 105_000));
        Hwmon(0, "garbled", (1, 0, 0, 0));
        File.WriteAllText(Path.Combine(_sys, "class", "hwmon", "hwmon0", "temp1_input"), "N/A\n");
        Hwmon(1, "truncated", (1, 0, 0, 0));
        File.WriteAllText(Path.Combine(_sys, "class", "hwmon", "hwmon1", "temp1_input"), "");

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(52, thermal.HottestCelsius.Value);
        Assert.Equal(ThermalLevel.Nominal, thermal.Level.Value);
        Assert.Contains(_failures.Reports, r => r.Detail.Contains("thermal_zone0", StringComparison.Ordinal) && r.Kind != "garbage");
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.Contains("'N/A'", StringComparison.Ordinal));
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.EndsWith("temp1_input is empty", StringComparison.Ordinal));
        Assert.Equal(3, _failures.Reports.Count);
    }

    [Fact]
    public void Counter_that_goes_backwards_is_a_reset_not_a_negative_count()
    {
        Zone(0, "acpitz", 50_000, ("critical", 105_000), ("passive", 95_000));
        Laptop4Cpus(core: [100, 100, 100, 100], package: 100, curKhz: 2_000_000);
        using LinuxThermalProbe probe = NewProbe();
        Collect(probe);

        _time.Advance(TimeSpan.FromSeconds(2));
        SetCounters(core: [120, 100, 120, 100], package: 100);
        Assert.Equal(20, Collect(probe).ThrottleEvents.Value);

        // cpu0 went offline and online again: its core counter restarted from 0 and counted 5.
        _time.Advance(TimeSpan.FromSeconds(2));
        SetCounters(core: [5, 100, 5, 100], package: 100);
        ThermalFactors thermal = Collect(probe);

        Assert.Equal(5, thermal.ThrottleEvents.Value);
        Assert.Equal(ThermalLevel.Serious, thermal.Level.Value);
    }

    [Fact]
    public void Rediscovery_keeps_throttle_counter_history()
    {
        Zone(0, "acpitz", 50_000, ("critical", 105_000), ("passive", 95_000));
        Laptop4Cpus(core: [1, 1, 1, 1], package: 1, curKhz: 2_000_000);
        using LinuxThermalProbe probe = NewProbe();
        Collect(probe);

        _time.Advance(LinuxThermalProbe.RediscoverInterval + TimeSpan.FromSeconds(1));
        SetCounters(core: [2, 1, 2, 1], package: 1);
        ThermalFactors thermal = Collect(probe);

        Assert.Equal(SignalQuality.Measured, thermal.ThrottleEvents.Quality);
        Assert.Equal(1, thermal.ThrottleEvents.Value);
    }

    [Fact]
    public void No_sensors_no_counters_no_cpufreq_is_NotSupported_without_failures()
    {
        // This VM's layout: CPUs with topology only.
        Cpu(0, package: 0, core: 0);
        Cpu(1, package: 0, core: 1);

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(SignalQuality.NotSupported, thermal.Level.Quality);
        Assert.Equal("no thermal sensors", thermal.Level.Reason);
        Assert.Equal(SignalQuality.NotSupported, thermal.HottestCelsius.Quality);
        Assert.Equal("no thermal sensors", thermal.HottestCelsius.Reason);
        Assert.Equal(SignalQuality.NotSupported, thermal.ThrottleRatio.Quality);
        Assert.Equal(SignalQuality.NotSupported, thermal.ThrottleEvents.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Cpufreq_without_any_thermal_signal_cannot_tell_throttling_from_power_saving()
    {
        string cpu = Cpu(0, package: 0, core: 0);
        CpuFreq(cpu, curKhz: 1_000_000, maxKhz: 3_000_000);

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, thermal.ThrottleRatio.Quality);
        Assert.StartsWith("cannot tell thermal throttling from power-saving", thermal.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, thermal.Level.Quality);
    }

    [Fact]
    public void Sensors_without_trip_points_give_a_temperature_but_no_level()
    {
        Hwmon(0, "k10temp", (1, 64_250, 0, 0));

        ThermalFactors thermal = CollectOnce();

        Assert.Equal(64.25, thermal.HottestCelsius.Value);
        Assert.Equal(SignalQuality.NotSupported, thermal.Level.Quality);
        Assert.Equal(LinuxThermalProbe.NoTripsReason, thermal.Level.Reason);
    }

    [Fact]
    public void A_pass_allocates_little_more_than_its_factor_record()
    {
        Zone(0, "acpitz", 96_000, ("critical", 105_000), ("passive", 95_000));
        Hwmon(0, "coretemp", (1, 70_000, 80_000, 100_000), (2, 71_000, 80_000, 100_000));
        Laptop4Cpus(core: [1, 1, 1, 1], package: 1, curKhz: 1_200_000);
        using LinuxThermalProbe probe = NewProbe();
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        probe.Collect(snapshot);

        const int Passes = 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Passes; i++)
        {
            probe.Collect(snapshot);
        }

        long perPass = (GC.GetAllocatedBytesForCurrentThread() - before) / Passes;

        // The ThermalFactors record is 136 bytes (four readings); nothing else may allocate.
        Assert.InRange(perPass, 1, 256);
        Assert.Equal(ThermalLevel.Serious, snapshot.Thermal.Level.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Probe_is_registered_for_dependency_injection()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "test-node");
        services.Configure<LinuxProbeOptions>(o =>
        {
            o.ProcRoot = Path.Combine(_sys, "proc");
            o.SysRoot = _sys;
            o.UseNetworkManager = false;
            o.AllowNvidiaSmiFallback = false;
        });
        LinuxProbes.Register(services);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Contains(provider.GetServices<ISignalProbe>(), p => p is LinuxThermalProbe);
    }

    [Fact]
    public void Reads_this_machine_without_throwing()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs Linux /sys");
        }

        using var probe = new LinuxThermalProbe(Options.Create(new LinuxProbeOptions()), _failures);
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        probe.Collect(snapshot);
        probe.Collect(snapshot);
        ThermalFactors thermal = snapshot.Thermal;

        bool anyZone = Directory.Exists("/sys/class/thermal") && Directory.GetDirectories("/sys/class/thermal", "thermal_zone*").Length > 0;
        bool anyHwmon = Directory.Exists("/sys/class/hwmon") && Directory.GetDirectories("/sys/class/hwmon", "hwmon*").Length > 0;
        bool anyCpufreq = Directory.GetDirectories("/sys/devices/system/cpu", "cpu*").Any(d => File.Exists(Path.Combine(d, "cpufreq", "scaling_cur_freq")));
        if (!anyZone && !anyHwmon)
        {
            // This VM: no thermal zone, no hwmon.
            Assert.Equal(SignalQuality.NotSupported, thermal.HottestCelsius.Quality);
            Assert.Equal("no thermal sensors", thermal.HottestCelsius.Reason);
        }
        else
        {
            Assert.NotEqual(SignalQuality.NotSupported, thermal.HottestCelsius.Quality);
        }

        if (!anyCpufreq)
        {
            Assert.Equal(SignalQuality.NotSupported, thermal.ThrottleRatio.Quality);
        }
    }

    private LinuxThermalProbe NewProbe() =>
        new(Options.Create(new LinuxProbeOptions { ProcRoot = Path.Combine(_sys, "proc"), SysRoot = _sys }), _failures);

    private ThermalFactors Collect(LinuxThermalProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Thermal;
    }

    private ThermalFactors CollectOnce()
    {
        using LinuxThermalProbe probe = NewProbe();
        return Collect(probe);
    }

    /// <summary>A thermal zone as a class link to its virtual device, with numbered trip points.</summary>
    private void Zone(int index, string type, long milliCelsius, params (string Type, long MilliCelsius)[] trips)
    {
        string name = $"thermal_zone{index}";
        string device = Path.Combine(_sys, "devices", "virtual", "thermal", name);
        Directory.CreateDirectory(device);
        File.CreateSymbolicLink(Path.Combine(_sys, "class", "thermal", name), Path.Combine("..", "..", "devices", "virtual", "thermal", name));
        Write(device, "type", type);
        Write(device, "temp", milliCelsius);
        Write(device, "mode", "enabled");
        Write(device, "policy", "step_wise");
        for (int i = 0; i < trips.Length; i++)
        {
            Write(device, $"trip_point_{i}_type", trips[i].Type);
            Write(device, $"trip_point_{i}_temp", trips[i].MilliCelsius);
            Write(device, $"trip_point_{i}_hyst", 0);
        }
    }

    /// <summary>A hwmon device with channels (index, input, max, crit); 0 for max or crit means the file is absent.</summary>
    private void Hwmon(int index, string name, params (int Channel, long Input, long Max, long Crit)[] channels)
    {
        string dir = Path.Combine(_sys, "class", "hwmon", $"hwmon{index}");
        Directory.CreateDirectory(dir);
        Write(dir, "name", name);
        foreach ((int channel, long input, long max, long crit) in channels)
        {
            Write(dir, $"temp{channel}_input", input);
            Write(dir, $"temp{channel}_label", channel == 1 ? "Package id 0" : $"Core {channel - 2}");
            if (max != 0)
            {
                Write(dir, $"temp{channel}_max", max);
            }

            if (crit != 0)
            {
                Write(dir, $"temp{channel}_crit", crit);
                Write(dir, $"temp{channel}_crit_alarm", 0);
            }
        }
    }

    /// <summary>Two cores with two threads each in one package: cpu0/cpu2 and cpu1/cpu3 are siblings.</summary>
    private void Laptop4Cpus(long[] core, long package, long curKhz)
    {
        for (int i = 0; i < 4; i++)
        {
            string cpu = Cpu(i, package: 0, core: i % 2);
            CpuFreq(cpu, curKhz, maxKhz: 3_000_000);
        }

        SetCounters(core, package);
    }

    private void SetCounters(long[] core, long package)
    {
        for (int i = 0; i < core.Length; i++)
        {
            string throttle = Path.Combine(CpuRoot, $"cpu{i}", "thermal_throttle");
            Directory.CreateDirectory(throttle);
            Write(throttle, "core_throttle_count", core[i]);
            Write(throttle, "core_throttle_max_time_ms", 0);
            Write(throttle, "package_throttle_count", package);
        }
    }

    private string Cpu(int index, long package, long core)
    {
        string cpu = Path.Combine(CpuRoot, $"cpu{index}");
        string topology = Path.Combine(cpu, "topology");
        Directory.CreateDirectory(topology);
        Write(topology, "physical_package_id", package);
        Write(topology, "die_id", 0);
        Write(topology, "core_id", core);
        return cpu;
    }

    private static void CpuFreq(string cpu, long curKhz, long maxKhz)
    {
        string cpufreq = Path.Combine(cpu, "cpufreq");
        Directory.CreateDirectory(cpufreq);
        Write(cpufreq, "scaling_cur_freq", curKhz);
        Write(cpufreq, "cpuinfo_max_freq", maxKhz);
        Write(cpufreq, "cpuinfo_min_freq", 400_000);
        Write(cpufreq, "scaling_max_freq", maxKhz);
        Write(cpufreq, "scaling_governor", "powersave");
    }

    private static void Write(string dir, string name, long value) =>
        Write(dir, name, value.ToString(CultureInfo.InvariantCulture));

    private static void Write(string dir, string name, string value) =>
        File.WriteAllText(Path.Combine(dir, name), value + "\n");

    /// <summary>Records what a probe reports as failed.</summary>
}
