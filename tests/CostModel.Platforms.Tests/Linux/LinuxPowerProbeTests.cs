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
/// Fixture trees in the layout of the kernel's power supply class: one directory per supply
/// under class/power_supply (a symbolic link into devices/ on real machines), one value per
/// attribute file, newline-terminated, in uWh, uAh, uW, uA and uV.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LinuxPowerProbeTests : IDisposable
{
    private readonly string _sys = Directory.CreateTempSubdirectory("costmodel-power-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();

    public LinuxPowerProbeTests() => Directory.CreateDirectory(SupplyRoot);

    private string SupplyRoot => Path.Combine(_sys, "class", "power_supply");

    public void Dispose() => Directory.Delete(_sys, recursive: true);

    [Fact]
    public void Laptop_with_two_discharging_batteries_sums_energy_and_rate()
    {
        AcAdapter("AC", online: 0);
        ThinkPadBattery("BAT0", status: "Discharging", energyNow: 18_000_000, energyFull: 23_480_000, powerNow: 4_500_000);
        ThinkPadBattery("BAT1", status: "Discharging", energyNow: 40_000_000, energyFull: 69_000_000, powerNow: 6_000_000);

        PowerFactors power = CollectOnce();

        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Equal(SignalQuality.Measured, power.Source.Quality);
        Assert.Equal(2, power.BatteryCount.Value);
        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);

        // Ratio of the sums, not the mean of 76.7 % and 58.0 %.
        Assert.Equal(58.0 / 92.48 * 100, power.BatteryPercent.Value, 6);
        Assert.Equal(SignalQuality.Measured, power.BatteryPercent.Quality);
        Assert.Contains("sum of energy_now", power.BatteryPercent.Source, StringComparison.Ordinal);
        Assert.Equal(58.0, power.RemainingWattHours.Value, 6);
        Assert.Equal(92.48, power.FullWattHours.Value, 6);
        Assert.Equal(10.5, power.BatteryRateWatts.Value, 6);
        Assert.Equal(58.0 / 10.5 * 3600, power.TimeToEmptySeconds.Value, 3);
        Assert.Equal(SignalQuality.Estimated, power.TimeToEmptySeconds.Quality);
        Assert.False(power.TimeToFullSeconds.HasValue);
        Assert.Equal(_time.GetUtcNow(), power.BatteryPercent.ObservedAt);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Idle_second_battery_reporting_Unknown_does_not_hide_discharging()
    {
        AcAdapter("AC", online: 0);
        ThinkPadBattery("BAT0", status: "Unknown", energyNow: 20_000_000, energyFull: 23_480_000, powerNow: 0);
        ThinkPadBattery("BAT1", status: "Discharging", energyNow: 40_000_000, energyFull: 69_000_000, powerNow: 7_000_000);

        PowerFactors power = CollectOnce();

        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);
        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Equal(7.0, power.BatteryRateWatts.Value, 6);
    }

    [Fact]
    public void Battery_reporting_only_status_Unknown_has_unknown_charge_state()
    {
        ThinkPadBattery("BAT0", status: "Unknown", energyNow: 20_000_000, energyFull: 23_480_000, powerNow: 0);

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.ChargeState.Quality);
        Assert.Equal("battery reports status Unknown", power.ChargeState.Reason);

        // No AC supply, not discharging: the source cannot be told.
        Assert.Equal(SignalQuality.Unknown, power.Source.Quality);
        Assert.Equal(1, power.BatteryCount.Value);
    }

    [Fact]
    public void Desktop_on_mains_without_battery_reports_a_measured_zero_count()
    {
        AcAdapter("AC", online: 1);

        PowerFactors power = CollectOnce();

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(SignalQuality.Measured, power.Source.Quality);
        Assert.EndsWith(Path.Combine("AC", "online"), power.Source.Source, StringComparison.Ordinal);
        Assert.Equal(0, power.BatteryCount.Value);
        Assert.Equal(SignalQuality.Measured, power.BatteryCount.Quality);
        AssertNoBattery(power);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Battery_of_a_mouse_with_device_scope_is_ignored()
    {
        AcAdapter("AC", online: 1);

        // hid-logitech-hidpp: a system-wide class entry, but scope says it powers a device.
        string mouse = Supply("hidpp_battery_0");
        Write(mouse, "type", "Battery");
        Write(mouse, "scope", "Device");
        Write(mouse, "status", "Discharging");
        Write(mouse, "present", "1");
        Write(mouse, "online", "1");
        Write(mouse, "capacity", "35");
        Write(mouse, "capacity_level", "Normal");
        Write(mouse, "voltage_now", "3812000");
        Write(mouse, "model_name", "MX Master 3");
        Write(mouse, "manufacturer", "Logitech");

        PowerFactors power = CollectOnce();

        Assert.Equal(0, power.BatteryCount.Value);
        Assert.Equal(PowerSource.Mains, power.Source.Value);
        AssertNoBattery(power);
    }

    [Fact]
    public void Charge_counters_are_converted_to_energy_with_the_design_voltage()
    {
        // A USB-C PD adapter (UCSI) and a battery that reports charge (uAh) and current (uA).
        string usbc = Supply("ucsi-source-psy-USBC000:001");
        Write(usbc, "type", "USB");
        Write(usbc, "usb_type", "C [PD] PD_PPS");
        Write(usbc, "online", "1");
        Write(usbc, "scope", "System");
        Write(usbc, "voltage_now", "20000000");
        Write(usbc, "current_max", "3250000");

        string bat = Supply("BAT0");
        Write(bat, "type", "Battery");
        Write(bat, "status", "Charging");
        Write(bat, "present", "1");
        Write(bat, "technology", "Li-ion");
        Write(bat, "charge_now", "2500000");
        Write(bat, "charge_full", "4000000");
        Write(bat, "charge_full_design", "4200000");
        Write(bat, "current_now", "1500000");
        Write(bat, "voltage_now", "12600000");
        Write(bat, "voltage_min_design", "11100000");
        Write(bat, "capacity", "62");

        PowerFactors power = CollectOnce();

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(ChargeState.Charging, power.ChargeState.Value);
        Assert.Equal(62.5, power.BatteryPercent.Value, 6);
        Assert.Contains("charge_now / charge_full", power.BatteryPercent.Source, StringComparison.Ordinal);

        // 2.5 Ah x 11.1 V and 4.0 Ah x 11.1 V: a conversion at one voltage, so Estimated.
        Assert.Equal(27.75, power.RemainingWattHours.Value, 6);
        Assert.Equal(44.4, power.FullWattHours.Value, 6);
        Assert.Equal(SignalQuality.Estimated, power.RemainingWattHours.Quality);

        // 1.5 A x 12.6 V (uA x uV = 1e-12 W).
        Assert.Equal(18.9, power.BatteryRateWatts.Value, 6);
        Assert.Equal((44.4 - 27.75) / 18.9 * 3600, power.TimeToFullSeconds.Value, 3);
        Assert.Equal(SignalQuality.Unknown, power.TimeToEmptySeconds.Quality);
        Assert.Equal("battery is not discharging", power.TimeToEmptySeconds.Reason);
    }

    [Fact]
    public void Capacity_only_battery_reports_percent_and_no_energy()
    {
        AcAdapter("ADP1", online: 0);
        string bat = Supply("BAT0");
        Write(bat, "type", "Battery");
        Write(bat, "status", "Discharging");
        Write(bat, "present", "1");
        Write(bat, "capacity", "64");
        Write(bat, "capacity_level", "Normal");

        PowerFactors power = CollectOnce();

        Assert.Equal(64, power.BatteryPercent.Value);
        Assert.Equal(SignalQuality.Measured, power.BatteryPercent.Quality);
        Assert.EndsWith("capacity", power.BatteryPercent.Source, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, power.RemainingWattHours.Quality);
        Assert.Contains("only capacity", power.RemainingWattHours.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, power.BatteryRateWatts.Quality);
        Assert.Equal(SignalQuality.NotSupported, power.TimeToEmptySeconds.Quality);
        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Failing_power_now_read_makes_only_the_rate_unknown()
    {
        AcAdapter("AC", online: 0);
        string bat = ThinkPadBattery("BAT0", status: "Discharging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 1);

        // A driver whose read fails: a directory cannot be read as a file (EISDIR).
        File.Delete(Path.Combine(bat, "power_now"));
        Directory.CreateDirectory(Path.Combine(bat, "power_now"));

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.BatteryRateWatts.Quality);
        Assert.Contains("power_now", power.BatteryRateWatts.Reason, StringComparison.Ordinal);
        (string Probe, string Kind, string Detail) report = Assert.Single(_failures.Reports);
        Assert.Equal("linux.power", report.Probe);
        Assert.Contains("power_now", report.Detail, StringComparison.Ordinal);

        // Everything that does not depend on the rate is still there.
        Assert.Equal(60, power.BatteryPercent.Value, 6);
        Assert.Equal(30, power.RemainingWattHours.Value, 6);
        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);
        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Equal(SignalQuality.Unknown, power.TimeToEmptySeconds.Quality);
    }

    [Fact]
    public void Garbage_and_truncated_files_become_unknown_with_reasons()
    {
        AcAdapter("AC", online: 1);
        string bat0 = ThinkPadBattery("BAT0", status: "Discharging", energyNow: 1, energyFull: 50_000_000, powerNow: 3_000_000);
        string bat1 = ThinkPadBattery("BAT1", status: "Full", energyNow: 20_000_000, energyFull: 20_000_000, powerNow: 0);
        File.WriteAllText(Path.Combine(bat0, "energy_now"), "garbage\n");
        File.WriteAllText(Path.Combine(bat0, "status"), "Discharg");   // truncated, no newline
        File.WriteAllText(Path.Combine(bat1, "power_now"), "");        // empty

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.Contains("energy_now: not an integer: 'garbage'", power.BatteryPercent.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, power.RemainingWattHours.Quality);

        // One unreadable status among Full: the combined state cannot be told.
        Assert.Equal(SignalQuality.Unknown, power.ChargeState.Quality);
        Assert.Contains("not a battery status: 'Discharg'", power.ChargeState.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, power.BatteryRateWatts.Quality);
        Assert.Contains("power_now is empty", power.BatteryRateWatts.Reason, StringComparison.Ordinal);

        Assert.Equal(3, _failures.Reports.Count(r => r.Kind == "garbage"));
        Assert.Equal(2, power.BatteryCount.Value);
        Assert.Equal(PowerSource.Mains, power.Source.Value);
    }

    [Fact]
    public void Energy_now_above_a_full_value_beyond_design_clamps_to_100_percent()
    {
        AcAdapter("AC", online: 1);
        string bat = ThinkPadBattery("BAT0", status: "Full", energyNow: 52_000_000, energyFull: 50_000_000, powerNow: 0);
        Write(bat, "energy_full_design", "48000000");

        PowerFactors power = CollectOnce();

        Assert.Equal(100, power.BatteryPercent.Value);
        Assert.Equal(50, power.FullWattHours.Value, 6);
        Assert.Equal(ChargeState.Full, power.ChargeState.Value);
        Assert.Equal(0, power.BatteryRateWatts.Value);
        Assert.Equal("battery is not discharging", power.TimeToEmptySeconds.Reason);
        Assert.Equal("battery is not charging", power.TimeToFullSeconds.Reason);
    }

    [Fact]
    public void Discharging_at_zero_watts_gives_no_time_to_empty()
    {
        AcAdapter("AC", online: 0);
        ThinkPadBattery("BAT0", status: "Discharging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 0);

        PowerFactors power = CollectOnce();

        Assert.Equal(0, power.BatteryRateWatts.Value);
        Assert.Equal(SignalQuality.Unknown, power.TimeToEmptySeconds.Quality);
        Assert.Contains("0 W", power.TimeToEmptySeconds.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_current_of_a_discharging_battery_is_a_magnitude()
    {
        string bat = Supply("BAT0");
        Write(bat, "type", "Battery");
        Write(bat, "status", "Discharging");
        Write(bat, "charge_now", "3000000");
        Write(bat, "charge_full", "5000000");
        Write(bat, "current_now", "-2000000");
        Write(bat, "voltage_now", "7600000");

        PowerFactors power = CollectOnce();

        Assert.Equal(15.2, power.BatteryRateWatts.Value, 6);

        // Without voltage_min_design the energy uses voltage_now: 3 Ah x 7.6 V.
        Assert.Equal(22.8, power.RemainingWattHours.Value, 6);
        Assert.Equal(22.8 / 15.2 * 3600, power.TimeToEmptySeconds.Value, 3);
    }

    [Fact]
    public void Empty_battery_slot_with_present_zero_is_not_counted()
    {
        AcAdapter("AC", online: 1);
        ThinkPadBattery("BAT0", status: "Charging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 20_000_000);
        string slot = Supply("BAT1");
        Write(slot, "type", "Battery");
        Write(slot, "present", "0");
        Write(slot, "status", "Unknown");

        PowerFactors power = CollectOnce();

        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Equal(60, power.BatteryPercent.Value, 6);
        Assert.Equal(20.0 / 20.0 * 3600, power.TimeToFullSeconds.Value, 3);
    }

    [Fact]
    public void No_power_supply_at_all_leaves_the_source_unknown_without_a_failure()
    {
        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.Source.Quality);
        Assert.Equal("no power supply reported by the kernel", power.Source.Reason);
        Assert.Equal(0, power.BatteryCount.Value);
        AssertNoBattery(power);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Missing_power_supply_class_is_the_same_as_an_empty_one()
    {
        Directory.Delete(SupplyRoot);

        PowerFactors power = CollectOnce();

        Assert.Equal("no power supply reported by the kernel", power.Source.Reason);
        Assert.Equal(0, power.BatteryCount.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_empty_sys_root_leaves_the_battery_count_Unknown_not_zero()
    {
        // Issue 12, finding 13: an empty sys root read as "Measured 0 batteries".
        Directory.Delete(Path.Combine(_sys, "class"), recursive: true);

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.BatteryCount.Quality);
        Assert.Equal($"{Path.Combine(_sys, "class")} does not exist (sysfs not mounted at {_sys}?): cannot tell whether there is a battery", power.BatteryCount.Reason);
        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.Equal(SignalQuality.Unknown, power.Source.Quality);
        Assert.Equal(("linux.power", "missing"), (_failures.Reports.Single().Probe, _failures.Reports.Single().Kind));
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("fifo")]
    [InlineData("permission")]
    public async Task A_battery_whose_type_cannot_be_read_makes_the_count_Unknown_not_zero(string how)
    {
        // Issue 12, finding 13: an unreadable BAT0/type was skipped, leaving "Measured 0 batteries".
        AcAdapter("AC", online: 1);
        string bat = ThinkPadBattery("BAT0", status: "Charging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 20_000_000);
        string type = Path.Combine(bat, "type");
        if (how == "fifo")
        {
            SpecialFiles.SkipUnlessSupported();
            SpecialFiles.MakeFifo(type);
        }
        else if (how == "directory")
        {
            SpecialFiles.MakeDirectory(type);
        }
        else
        {
            Assert.SkipWhen(Environment.IsPrivilegedProcess, "running as root: file permissions do not stop root from reading");
            File.SetUnixFileMode(type, UnixFileMode.None);
        }

        PowerFactors power = await SpecialFiles.WithinGuard(CollectOnce);

        Assert.Equal(SignalQuality.Unknown, power.BatteryCount.Quality);
        Assert.StartsWith("cannot tell whether BAT0 is a battery: ", power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(SupplyRoot, "BAT0", "type"), power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Equal(power.BatteryCount.Reason, power.BatteryPercent.Reason);
        Assert.Equal(SignalQuality.Unknown, power.ChargeState.Quality);

        // An AC supply that reads online still says mains.
        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(SignalQuality.Measured, power.Source.Quality);
    }

    [Fact]
    public void A_battery_whose_presence_cannot_be_read_makes_the_count_Unknown()
    {
        AcAdapter("AC", online: 0);
        string bat = ThinkPadBattery("BAT0", status: "Discharging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 10_000_000);
        SpecialFiles.MakeDirectory(Path.Combine(bat, "present"));

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.BatteryCount.Quality);
        Assert.Contains(Path.Combine(SupplyRoot, "BAT0", "present"), power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Equal(60, power.BatteryPercent.Value, 6);
    }

    [Fact]
    public void A_huge_full_energy_makes_the_percentage_Unknown_not_a_tiny_Measured_value()
    {
        // Issue 12, finding 12: 1 uWh of 307 692 307 692 uWh read as 3.25E-10 % Measured.
        AcAdapter("AC", online: 0);
        ThinkPadBattery("BAT0", status: "Discharging", energyNow: 1, energyFull: 307_692_307_692, powerNow: 10_000_000);

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.StartsWith($"implausible battery energy '307692307692' in {Path.Combine(SupplyRoot, "BAT0", "energy_full")} (plausible 0..100000000000 uWh: ", power.BatteryPercent.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, power.RemainingWattHours.Quality);
        Assert.Equal(SignalQuality.Unknown, power.TimeToEmptySeconds.Quality);
        Assert.Equal(10.0, power.BatteryRateWatts.Value, 6);
        Assert.Equal(1, power.BatteryCount.Value);
    }

    [Theory]
    [InlineData("150")]
    [InlineData("-3")]
    public void A_capacity_outside_0_to_100_is_Unknown_not_clamped(string capacity)
    {
        AcAdapter("ADP1", online: 0);
        string bat = Supply("BAT0");
        Write(bat, "type", "Battery");
        Write(bat, "status", "Discharging");
        Write(bat, "capacity", capacity);

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.StartsWith($"implausible battery capacity '{capacity}' in {Path.Combine(SupplyRoot, "BAT0", "capacity")} (plausible 0..100 %: ", power.BatteryPercent.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Fact]
    public void Energy_now_far_above_energy_full_is_Unknown_but_a_little_above_reads_full()
    {
        AcAdapter("AC", online: 0);
        ThinkPadBattery("BAT0", status: "Discharging", energyNow: 51_000_000, energyFull: 50_000_000, powerNow: 10_000_000);
        Assert.Equal(100.0, CollectOnce().BatteryPercent.Value);

        Write(Path.Combine(SupplyRoot, "BAT0"), "energy_now", "90000000");
        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.Contains("implausible battery energy '90000000'", power.BatteryPercent.Reason, StringComparison.Ordinal);
        Assert.Contains("'50000000'", power.BatteryPercent.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_power_supply_online_other_than_0_1_2_is_Unknown_never_mains()
    {
        // Issue 12, finding 12: online = -123456 read as Mains.
        AcAdapter("AC", online: -123456);
        ThinkPadBattery("BAT0", status: "Unknown", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 0);

        PowerFactors power = CollectOnce();

        Assert.Equal(SignalQuality.Unknown, power.Source.Quality);
        Assert.StartsWith($"implausible power supply online state '-123456' in {Path.Combine(SupplyRoot, "AC", "online")} (plausible 0..2: ", power.Source.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", _failures.Reports.Single().Kind);
    }

    [Fact]
    public void A_programmable_supply_online_2_is_mains()
    {
        // USB Power Delivery: online 2 is "online, programmable voltage" (sysfs-class-power).
        string usbc = Supply("ucsi-source-psy-USBC000:001");
        Write(usbc, "type", "USB");
        Write(usbc, "online", "2");
        ThinkPadBattery("BAT0", status: "Charging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 20_000_000);

        PowerFactors power = CollectOnce();

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(SignalQuality.Measured, power.Source.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Battery_added_later_is_found_after_the_rediscovery_interval()
    {
        AcAdapter("AC", online: 1);
        using LinuxPowerProbe probe = NewProbe();
        Assert.Equal(0, Collect(probe).BatteryCount.Value);

        ThinkPadBattery("BAT0", status: "Charging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 20_000_000);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, Collect(probe).BatteryCount.Value);

        _time.Advance(LinuxPowerProbe.RediscoverInterval);
        Assert.Equal(1, Collect(probe).BatteryCount.Value);
    }

    [Fact]
    public void Removed_battery_is_dropped_on_the_pass_after_its_files_vanish()
    {
        AcAdapter("AC", online: 1);
        ThinkPadBattery("BAT0", status: "Charging", energyNow: 30_000_000, energyFull: 50_000_000, powerNow: 20_000_000);
        string bat1 = ThinkPadBattery("BAT1", status: "Full", energyNow: 20_000_000, energyFull: 20_000_000, powerNow: 0);
        using LinuxPowerProbe probe = NewProbe();

        // Removed after discovery, before its files were opened. (On sysfs an open attribute of
        // a removed supply fails with ENODEV, the file is closed, and reopening finds it missing;
        // a fixture file stays readable through an open handle, so the test removes it earlier.)
        Directory.Delete(bat1, recursive: true);
        PowerFactors during = Collect(probe);
        Assert.Equal(SignalQuality.Unknown, during.BatteryPercent.Quality);
        Assert.Contains(_failures.Reports, r => r.Kind == "missing");

        _time.Advance(TimeSpan.FromSeconds(1));
        PowerFactors after = Collect(probe);
        Assert.Equal(1, after.BatteryCount.Value);
        Assert.Equal(60, after.BatteryPercent.Value, 6);
    }

    [Fact]
    public void A_pass_allocates_little_more_than_its_factor_record()
    {
        AcAdapter("AC", online: 0);
        ThinkPadBattery("BAT0", status: "Discharging", energyNow: 18_000_000, energyFull: 23_480_000, powerNow: 4_500_000);
        ThinkPadBattery("BAT1", status: "Discharging", energyNow: 40_000_000, energyFull: 69_000_000, powerNow: 6_000_000);
        using LinuxPowerProbe probe = NewProbe();
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

        // The PowerFactors record is 280 bytes (nine readings); nothing else may allocate.
        Assert.InRange(perPass, 1, 512);
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

        Assert.Contains(provider.GetServices<ISignalProbe>(), p => p is LinuxPowerProbe);
    }

    [Fact]
    public void Reads_this_machine_without_throwing()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs Linux /sys");
        }

        using var probe = new LinuxPowerProbe(Options.Create(new LinuxProbeOptions()), _failures);
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        probe.Collect(snapshot);
        PowerFactors power = snapshot.Power;

        Assert.Equal(SignalQuality.Measured, power.BatteryCount.Quality);
        if (power.BatteryCount.Value == 0)
        {
            // This VM (and servers, desktops): no battery is NotSupported, never a failure.
            AssertNoBattery(power);
        }
        else
        {
            Assert.NotEqual(SignalQuality.NotSupported, power.BatteryPercent.Quality);
        }
    }

    [Fact]
    public void Collector_from_the_container_reads_power_and_thermal_of_this_machine()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs Linux /sys");
        }

        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "test-node").AddPlatformProbes();
        using ServiceProvider provider = services.BuildServiceProvider();

        NodeCostFactors snapshot = provider.GetRequiredService<ICostCollector>().Collect();

        // Filled by the probes (Measured count; thermal readings with their own reasons), not
        // the collector's "not collected" or "probe ... failed" fallbacks.
        Assert.Equal(SignalQuality.Measured, snapshot.Power.BatteryCount.Quality);
        Assert.DoesNotContain("probe", snapshot.Thermal.HottestCelsius.Reason ?? "", StringComparison.Ordinal);
        Assert.NotEqual("not collected", snapshot.Thermal.HottestCelsius.Reason);
    }

    private static void AssertNoBattery(PowerFactors power)
    {
        Assert.Equal(SignalQuality.NotSupported, power.BatteryPercent.Quality);
        Assert.Equal("no system battery", power.BatteryPercent.Reason);
        Assert.Equal(SignalQuality.NotSupported, power.ChargeState.Quality);
        Assert.Equal(SignalQuality.NotSupported, power.BatteryRateWatts.Quality);
        Assert.Equal(SignalQuality.NotSupported, power.RemainingWattHours.Quality);
        Assert.Equal(SignalQuality.NotSupported, power.FullWattHours.Quality);
        Assert.Equal(SignalQuality.NotSupported, power.TimeToEmptySeconds.Quality);
        Assert.Equal(SignalQuality.NotSupported, power.TimeToFullSeconds.Quality);
    }

    private LinuxPowerProbe NewProbe() =>
        new(Options.Create(new LinuxProbeOptions { ProcRoot = Path.Combine(_sys, "proc"), SysRoot = _sys }), _failures);

    private PowerFactors Collect(LinuxPowerProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Power;
    }

    private PowerFactors CollectOnce()
    {
        using LinuxPowerProbe probe = NewProbe();
        return Collect(probe);
    }

    /// <summary>A supply as the kernel lays it out: the device directory, and a class link to it.</summary>
    private string Supply(string name)
    {
        string device = Path.Combine(_sys, "devices", "LNXSYSTM:00", "LNXSYBUS:00", "PNP0C0A:00", "power_supply", name);
        Directory.CreateDirectory(device);
        File.CreateSymbolicLink(Path.Combine(SupplyRoot, name), Path.Combine("..", "..", "devices", "LNXSYSTM:00", "LNXSYBUS:00", "PNP0C0A:00", "power_supply", name));
        Write(device, "uevent", $"POWER_SUPPLY_NAME={name}");
        return device;
    }

    private void AcAdapter(string name, int online)
    {
        string dir = Supply(name);
        Write(dir, "type", "Mains");
        Write(dir, "online", online.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>An ACPI battery that reports in energy units (as ThinkPads do).</summary>
    private string ThinkPadBattery(string name, string status, long energyNow, long energyFull, long powerNow)
    {
        string dir = Supply(name);
        Write(dir, "type", "Battery");
        Write(dir, "status", status);
        Write(dir, "present", "1");
        Write(dir, "technology", "Li-poly");
        Write(dir, "cycle_count", "142");
        Write(dir, "voltage_min_design", "11520000");
        Write(dir, "voltage_now", "12380000");
        Write(dir, "power_now", powerNow.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write(dir, "energy_full_design", "57000000");
        Write(dir, "energy_full", energyFull.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write(dir, "energy_now", energyNow.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write(dir, "capacity", (energyNow * 100 / energyFull).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write(dir, "capacity_level", "Normal");
        Write(dir, "model_name", "01AV419");
        Write(dir, "manufacturer", "SMP");
        return dir;
    }

    private static void Write(string dir, string name, string value) =>
        File.WriteAllText(Path.Combine(dir, name), value + "\n");

    /// <summary>Records what a probe reports as failed.</summary>
}
