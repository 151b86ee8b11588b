using CostModel.Factors;
using CostModel.Platforms.MacOS.Native;
using CostModel.Platforms.MacOS.Power;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.MacOS.Power;

/// <summary>
/// The macOS power logic on readings recorded on real Macs (MacOS/Fixtures/power/README.md names
/// each file's machine and source): an Apple silicon MacBook on AC and on battery, Intel MacBooks
/// discharging and charging, a desktop without a battery and one on a UPS.
/// </summary>
public sealed class MacPowerReaderTests
{
    private const string Probe = "macos.power";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeProcessInfo _processInfo = new() { LowPowerMode = false };

    [Fact]
    public void Apple_silicon_on_AC_held_below_full_reads_mains_not_charging_and_no_rate_for_a_zero_current()
    {
        var sources = Machine("synthetic-iops-apple-silicon-ac.plist", "apple-silicon-ac-not-charging.plist", MacPowerReader.AcPower);

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(SignalQuality.Measured, power.Source.Quality);
        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Equal(86, power.BatteryPercent.Value, 6);
        Assert.Equal(SignalQuality.Measured, power.BatteryPercent.Quality);
        Assert.Equal(ChargeState.NotCharging, power.ChargeState.Value);

        // Amperage 0 mA: Unknown, never 0 W.
        Assert.Equal(SignalQuality.Unknown, power.BatteryRateWatts.Quality);
        Assert.Equal(MacPowerReader.ZeroCurrentReason, power.BatteryRateWatts.Reason);

        // AppleRawCurrentCapacity 3880 mAh and AppleRawMaxCapacity 4745 mAh at 12714 mV.
        Assert.Equal(3880 * 12714 / 1e6, power.RemainingWattHours.Value, 6);
        Assert.Equal(4745 * 12714 / 1e6, power.FullWattHours.Value, 6);
        Assert.Equal(SignalQuality.Estimated, power.RemainingWattHours.Quality);
        Assert.Contains("present pack voltage", power.FullWattHours.Source, StringComparison.Ordinal);

        Assert.Equal(MacPowerReader.NotDischargingReason, power.TimeToEmptySeconds.Reason);
        Assert.Equal(MacPowerReader.NotChargingReason, power.TimeToFullSeconds.Reason);
        Assert.False(power.EnergySaver.Value);
        Assert.Equal(SignalQuality.Measured, power.EnergySaver.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Apple_silicon_on_battery_reads_the_rate_from_amperage_and_voltage_and_macOS_time_to_empty()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);
        Assert.Equal(80, power.BatteryPercent.Value, 6);

        // |-1889 mA| x 11586 mV, a magnitude.
        Assert.Equal(1889 * 11586 / 1e6, power.BatteryRateWatts.Value, 6);
        Assert.Equal(SignalQuality.Measured, power.BatteryRateWatts.Quality);
        Assert.Equal(6974 * 11586 / 1e6, power.RemainingWattHours.Value, 6);
        Assert.Equal(8747 * 11586 / 1e6, power.FullWattHours.Value, 6);

        Assert.Equal(221 * 60, power.TimeToEmptySeconds.Value, 6);
        Assert.Equal(SignalQuality.Estimated, power.TimeToEmptySeconds.Quality);
        Assert.Equal(MacPowerReader.NotChargingReason, power.TimeToFullSeconds.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Intel_on_battery_before_macOS_11_reads_mAh_capacities_and_a_discharge_current_ioreg_printed_unsigned()
    {
        var sources = Machine("synthetic-iops-intel-battery.plist", "intel-battery-discharging.plist", MacPowerReader.BatteryPower);

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);

        // Amperage 18446744073709551183 is -433 mA as SInt64.
        Assert.Equal(433 * 12326 / 1e6, power.BatteryRateWatts.Value, 6);

        // No AppleRaw* keys; MaxCapacity 5023 is above 100, so it is mAh.
        Assert.Equal(4222 * 12326 / 1e6, power.RemainingWattHours.Value, 6);
        Assert.Equal(5023 * 12326 / 1e6, power.FullWattHours.Value, 6);
        Assert.Contains("before macOS 11", power.RemainingWattHours.Source, StringComparison.Ordinal);
        Assert.Equal(585 * 60, power.TimeToEmptySeconds.Value, 6);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Intel_charging_on_AC_reads_the_charge_rate_and_macOS_time_to_full()
    {
        var sources = Machine("synthetic-iops-intel-charging.plist", "intel-ac-charging.plist", MacPowerReader.AcPower);

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(ChargeState.Charging, power.ChargeState.Value);
        Assert.Equal(85, power.BatteryPercent.Value, 6);
        Assert.Equal(2486 * 12500 / 1e6, power.BatteryRateWatts.Value, 6);
        Assert.Equal(5761 * 12500 / 1e6, power.RemainingWattHours.Value, 6);
        Assert.Equal(6806 * 12500 / 1e6, power.FullWattHours.Value, 6);
        Assert.Equal(54 * 60, power.TimeToFullSeconds.Value, 6);
        Assert.Equal(MacPowerReader.NotDischargingReason, power.TimeToEmptySeconds.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_desktop_without_a_battery_reads_mains_and_zero_batteries_with_every_battery_figure_not_supported()
    {
        var sources = new FakePowerSources
        {
            Sources = [.. PropertyList.LoadServices("power/synthetic-iops-desktop.plist")],
            ProvidingType = MacPowerReader.AcPower,
        };

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(0, power.BatteryCount.Value);
        Assert.Equal(SignalQuality.Measured, power.BatteryCount.Quality);
        foreach (Reading<double> r in new[] { power.BatteryPercent, power.BatteryRateWatts, power.RemainingWattHours, power.FullWattHours, power.TimeToEmptySeconds, power.TimeToFullSeconds })
        {
            Assert.Equal(SignalQuality.NotSupported, r.Quality);
            Assert.Equal(MacPowerReader.NoBatteryReason, r.Reason);
        }

        Assert.Equal(SignalQuality.NotSupported, power.ChargeState.Quality);
        Assert.Equal(0, sources.SmartBatteryReads);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_desktop_on_a_UPS_after_a_mains_failure_reads_the_UPS_as_its_battery_and_ignores_other_sources()
    {
        var sources = new FakePowerSources
        {
            Sources = [.. PropertyList.LoadServices("power/synthetic-iops-desktop-on-ups.plist")],
            ProvidingType = MacPowerReader.UpsPower,
        };

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Ups, power.Source.Value);
        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Equal(64, power.BatteryPercent.Value, 6);
        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);
        Assert.Equal(18 * 60, power.TimeToEmptySeconds.Value, 6);
        Assert.Equal(SignalQuality.NotSupported, power.BatteryRateWatts.Quality);
        Assert.Equal(MacPowerReader.UpsNoGaugeReason, power.RemainingWattHours.Reason);
        Assert.Equal(0, sources.SmartBatteryReads);
    }

    [Fact]
    public void A_UPS_without_a_providing_type_is_still_a_UPS_when_it_runs_on_its_battery()
    {
        var sources = new FakePowerSources { Sources = [.. PropertyList.LoadServices("power/synthetic-iops-desktop-on-ups.plist")] };

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Ups, power.Source.Value);
        Assert.Contains("gave nothing", power.Source.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void An_accessory_battery_beside_the_internal_one_is_ignored()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        IReadOnlyDictionary<string, object> mouse = PropertyList.LoadServices("power/synthetic-iops-desktop-on-ups.plist")[1];
        sources.Sources = [.. sources.Sources, mouse];

        PowerFactors power = Read(sources);

        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Equal(80, power.BatteryPercent.Value, 6);
        Assert.Equal(SignalQuality.Measured, power.BatteryPercent.Quality);
    }

    [Fact]
    public void An_internal_battery_that_is_not_present_is_not_counted()
    {
        var sources = Machine("synthetic-iops-apple-silicon-ac.plist", "apple-silicon-ac-not-charging.plist", MacPowerReader.AcPower);
        sources.Sources = [With(sources.Sources[0], MacPowerReader.IsPresentKey, false)];

        PowerFactors power = Read(sources);

        Assert.Equal(0, power.BatteryCount.Value);
        Assert.Equal(SignalQuality.NotSupported, power.BatteryPercent.Quality);
    }

    [Fact]
    public void On_AC_a_battery_macOS_calls_charged_is_full()
    {
        var sources = Machine("synthetic-iops-apple-silicon-ac.plist", "apple-silicon-ac-not-charging.plist", MacPowerReader.AcPower);
        sources.Sources = [With(With(sources.Sources[0], MacPowerReader.IsChargedKey, true), MacPowerReader.CurrentCapacityKey, 100L)];

        PowerFactors power = Read(sources);

        Assert.Equal(ChargeState.Full, power.ChargeState.Value);
        Assert.Equal(100, power.BatteryPercent.Value, 6);
    }

    [Fact]
    public void An_Off_Line_power_source_leaves_the_charge_state_unknown_with_the_reason()
    {
        var sources = Machine("synthetic-iops-apple-silicon-ac.plist", "apple-silicon-ac-not-charging.plist", MacPowerReader.AcPower);
        sources.Sources = [With(sources.Sources[0], MacPowerReader.StateKey, MacPowerReader.OffLine)];

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.ChargeState.Quality);
        Assert.Equal(MacPowerReader.OffLineReason, power.ChargeState.Reason);
        Assert.Equal(MacPowerReader.OffLineReason, power.TimeToEmptySeconds.Reason);
    }

    [Fact]
    public void A_registry_charge_far_above_full_makes_the_energy_unknown_but_keeps_the_rate()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        sources.SmartBatteries = [With(sources.SmartBatteries[0], MacPowerReader.RawCurrentCapacityKey, 20000L)];

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.RemainingWattHours.Quality);
        Assert.Contains("above the AppleRawMaxCapacity x 1.25", power.RemainingWattHours.Reason, StringComparison.Ordinal);
        Assert.True(power.BatteryRateWatts.HasValue);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void Time_to_empty_of_minus_one_is_unknown_while_macOS_is_still_calculating()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        sources.Sources = [With(sources.Sources[0], MacPowerReader.TimeToEmptyKey, -1L)];

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.TimeToEmptySeconds.Quality);
        Assert.Equal(MacPowerReader.StillCalculatingReason, power.TimeToEmptySeconds.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_current_read_as_an_unsigned_16_bit_register_is_implausible_and_unknown_not_hundreds_of_watts()
    {
        // OS X 10.9 published the gauge's register unsigned: 65000 for -536 mA (Apple bug 15394253).
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        sources.SmartBatteries = [With(sources.SmartBatteries[0], MacPowerReader.AmperageKey, 65000L)];

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.BatteryRateWatts.Quality);
        Assert.Contains("implausible battery current '65000'", power.BatteryRateWatts.Reason, StringComparison.Ordinal);
        Assert.Equal(["out-of-range"], _failures.Kinds);

        // The energy does not depend on the current.
        Assert.True(power.RemainingWattHours.HasValue);
    }

    [Fact]
    public void A_missing_voltage_leaves_rate_and_energy_unknown_never_zero()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        sources.SmartBatteries = [Without(sources.SmartBatteries[0], MacPowerReader.VoltageKey)];

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.BatteryRateWatts.Quality);
        Assert.Equal("AppleSmartBattery: Voltage absent", power.BatteryRateWatts.Reason);
        Assert.Equal(SignalQuality.Unknown, power.FullWattHours.Quality);
        Assert.Equal(["missing"], _failures.Kinds);
    }

    [Fact]
    public void Without_amperage_the_instant_amperage_gives_the_rate_and_says_so()
    {
        var sources = Machine("synthetic-iops-intel-battery.plist", "intel-battery-discharging.plist", MacPowerReader.BatteryPower);
        sources.SmartBatteries = [Without(sources.SmartBatteries[0], MacPowerReader.AmperageKey)];

        PowerFactors power = Read(sources);

        // InstantAmperage 18446744073709551249 is -367 mA.
        Assert.Equal(367 * 12326 / 1e6, power.BatteryRateWatts.Value, 6);
        Assert.Contains("InstantAmperage", power.BatteryRateWatts.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void No_AppleSmartBattery_entry_for_a_listed_internal_battery_leaves_rate_and_energy_unknown_and_is_read_again()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        sources.SmartBatteries = [];
        var reader = Reader(sources);

        PowerFactors power = reader.Read(_time);
        reader.Read(_time);

        Assert.Equal(MacPowerReader.NoSmartBatteryReason, power.BatteryRateWatts.Reason);
        Assert.Equal(SignalQuality.Unknown, power.RemainingWattHours.Quality);
        Assert.True(power.BatteryPercent.HasValue);
        Assert.Equal(2, sources.SmartBatteryReads);
    }

    [Fact]
    public void The_registry_is_read_on_its_cadence_and_its_readings_keep_their_observation_time()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        var reader = Reader(sources);
        DateTimeOffset first = _time.GetUtcNow();

        reader.Read(_time);
        _time.Advance(TimeSpan.FromSeconds(5));
        PowerFactors cached = reader.Read(_time);

        Assert.Equal(1, sources.SmartBatteryReads);
        Assert.Equal(first, cached.BatteryRateWatts.ObservedAt);
        Assert.Equal(_time.GetUtcNow(), cached.BatteryPercent.ObservedAt);

        _time.Advance(MacPowerReader.RegistryInterval - TimeSpan.FromSeconds(5));
        PowerFactors fresh = reader.Read(_time);

        Assert.Equal(2, sources.SmartBatteryReads);
        Assert.Equal(_time.GetUtcNow(), fresh.BatteryRateWatts.ObservedAt);
    }

    [Fact]
    public void Plugging_in_reads_the_registry_again_on_the_same_pass()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        var reader = Reader(sources);
        reader.Read(_time);

        _time.Advance(TimeSpan.FromSeconds(1));
        sources.Sources = [.. PropertyList.LoadServices("power/synthetic-iops-intel-charging.plist")];
        sources.ProvidingType = MacPowerReader.AcPower;
        sources.SmartBatteries = [.. PropertyList.LoadServices("power/intel-ac-charging.plist")];
        PowerFactors power = reader.Read(_time);

        Assert.Equal(2, sources.SmartBatteryReads);
        Assert.Equal(ChargeState.Charging, power.ChargeState.Value);
        Assert.Equal(2486 * 12500 / 1e6, power.BatteryRateWatts.Value, 6);
    }

    [Fact]
    public void A_failed_power_source_read_makes_every_power_reading_unknown_with_the_reason_and_keeps_low_power_mode()
    {
        var sources = new FakePowerSources { SourcesFailure = new IOException("IOPSCopyPowerSourcesInfo returned null") };
        _processInfo.LowPowerMode = true;

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.Source.Quality);
        Assert.Contains("IOPSCopyPowerSourcesInfo returned null", power.Source.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, power.BatteryCount.Quality);
        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.True(power.EnergySaver.Value);
        Assert.Equal(["io"], _failures.Kinds);
    }

    [Fact]
    public void A_registry_value_beyond_the_conversion_bounds_is_unknown_with_the_reason()
    {
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", MacPowerReader.BatteryPower);
        sources.SmartBatteryFailure = new InvalidDataException("CFDictionary of 5000 entries exceeds 4096");

        PowerFactors power = Read(sources);

        Assert.Contains("exceeds 4096", power.BatteryRateWatts.Reason, StringComparison.Ordinal);
        Assert.True(power.BatteryPercent.HasValue);
        Assert.Equal(["garbage"], _failures.Kinds);
    }

    [Fact]
    public void Low_power_mode_on_a_macOS_without_it_is_not_supported_and_an_unreachable_runtime_unknown()
    {
        var sources = Machine("synthetic-iops-apple-silicon-ac.plist", "apple-silicon-ac-not-charging.plist", MacPowerReader.AcPower);
        _processInfo.LowPowerMode = null;

        PowerFactors older = Read(sources);

        Assert.Equal(SignalQuality.NotSupported, older.EnergySaver.Quality);
        Assert.Equal(MacPowerReader.LowPowerModeMissingReason, older.EnergySaver.Reason);

        _processInfo.Failure = new InvalidOperationException("cannot load Foundation");
        PowerFactors broken = Read(sources);

        Assert.Equal(SignalQuality.Unknown, broken.EnergySaver.Quality);
        Assert.Contains("cannot load Foundation", broken.EnergySaver.Reason, StringComparison.Ordinal);
        Assert.Equal(["io"], _failures.Kinds);
    }

    [Fact]
    public void Without_a_providing_type_the_battery_state_says_battery()
    {
        var sources = Machine("synthetic-iops-intel-battery.plist", "intel-battery-discharging.plist", providing: null);

        PowerFactors power = Read(sources);

        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Equal(SignalQuality.Measured, power.Source.Quality);
        Assert.Contains("Power Source State", power.Source.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_providing_type_or_state_of_unexpected_text_is_quoted_in_the_reason_clipped_and_as_valid_text()
    {
        // A CFString holds UTF-16 units, unpaired surrogates included; a reason must read back from
        // JSON as written (found by the mac fuzz target, 2026-12-07) and stay short.
        var sources = Machine("synthetic-iops-apple-silicon-battery.plist", "synthetic-apple-silicon-battery.plist", "AC\uD800 Power" + new string('x', 4000));
        sources.Sources = [With(sources.Sources[0], MacPowerReader.StateKey, "\uDC00Battery Power")];

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.Source.Quality);
        Assert.Equal(SignalQuality.Unknown, power.ChargeState.Quality);
        foreach (string reason in (string[])[power.Source.Reason!, power.ChargeState.Reason!, .. _failures.Reports.Select(r => r.Detail)])
        {
            Assert.DoesNotContain(reason, char.IsSurrogate);
            Assert.True(reason.Length < 300, reason);
        }

        Assert.Contains("\"AC\uFFFD Power", power.Source.Reason, StringComparison.Ordinal);
        Assert.Contains("\"\uFFFDBattery Power\"", power.ChargeState.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(103L, 100L, 100.0)]
    [InlineData(0L, 100L, 0.0)]
    [InlineData(4222L, 5023L, 4222.0 / 5023 * 100)]
    public void Percent_is_current_over_max_capacity_and_a_little_over_full_reads_full(long current, long max, double expected)
    {
        var sources = Machine("synthetic-iops-intel-battery.plist", "intel-battery-discharging.plist", MacPowerReader.BatteryPower);
        sources.Sources = [With(With(sources.Sources[0], MacPowerReader.CurrentCapacityKey, current), MacPowerReader.MaxCapacityKey, max)];

        PowerFactors power = Read(sources);

        Assert.Equal(expected, power.BatteryPercent.Value, 6);
    }

    [Theory]
    [InlineData(130L, 100L, "out-of-range")]
    [InlineData(50L, 0L, "out-of-range")]
    [InlineData(-5L, 100L, "out-of-range")]
    public void An_implausible_capacity_makes_the_percentage_unknown(long current, long max, string kind)
    {
        var sources = Machine("synthetic-iops-intel-battery.plist", "intel-battery-discharging.plist", MacPowerReader.BatteryPower);
        sources.Sources = [With(With(sources.Sources[0], MacPowerReader.CurrentCapacityKey, current), MacPowerReader.MaxCapacityKey, max)];

        PowerFactors power = Read(sources);

        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.Equal([kind], _failures.Kinds);
    }

    [Fact]
    public void A_capacity_of_the_wrong_kind_is_garbage_and_says_what_it_found()
    {
        var sources = Machine("synthetic-iops-intel-battery.plist", "intel-battery-discharging.plist", MacPowerReader.BatteryPower);
        sources.Sources = [With(sources.Sources[0], MacPowerReader.CurrentCapacityKey, "84%")];

        PowerFactors power = Read(sources);

        Assert.Equal("IOPS power source: Current Capacity is the string \"84%\"", power.BatteryPercent.Reason);
        Assert.Equal(["garbage"], _failures.Kinds);
    }

    private static FakePowerSources Machine(string iops, string smartBattery, string? providing) => new()
    {
        Sources = [.. PropertyList.LoadServices("power/" + iops)],
        SmartBatteries = [.. PropertyList.LoadServices("power/" + smartBattery)],
        ProvidingType = providing,
    };

    private MacPowerReader Reader(FakePowerSources sources) => new(sources, _processInfo, _failures, Probe);

    private PowerFactors Read(FakePowerSources sources) => Reader(sources).Read(_time);

    private static Dictionary<string, object> With(IReadOnlyDictionary<string, object> properties, string key, object value) =>
        new(properties, StringComparer.Ordinal) { [key] = value };

    private static Dictionary<string, object> Without(IReadOnlyDictionary<string, object> properties, string key)
    {
        var copy = new Dictionary<string, object>(properties, StringComparer.Ordinal);
        copy.Remove(key);
        return copy;
    }
}
