using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Power;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Power;

/// <summary>
/// The power probe's mapping on faked <c>SYSTEM_POWER_STATUS</c> and <c>SYSTEM_BATTERY_STATE</c>
/// structures (capacities in mWh, rate in mW, negative while discharging): runs on every OS.
/// </summary>
public sealed class WindowsPowerProbeTests
{
    private const uint Unknown = WindowsPowerProbe.UnknownValue;
    private const int StatusAccessDenied = unchecked((int)0xC0000022);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakePowerApi _api = new();

    [Fact]
    public void Desktop_with_BatteryFlag_128_is_on_mains_and_its_battery_readings_are_NotSupported_never_zero()
    {
        Desktop();

        PowerFactors power = Collect();

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(SignalQuality.Measured, power.Source.Quality);
        Assert.Equal(0, power.BatteryCount.Value);
        Assert.Equal(SignalQuality.Measured, power.BatteryCount.Quality);
        Assert.All(
            [power.BatteryPercent, power.BatteryRateWatts, power.RemainingWattHours, power.FullWattHours, power.TimeToEmptySeconds, power.TimeToFullSeconds],
            r =>
            {
                Assert.Equal(SignalQuality.NotSupported, r.Quality);
                Assert.Equal(WindowsPowerProbe.NoBatteryReason, r.Reason);
            });
        Assert.Equal(SignalQuality.NotSupported, power.ChargeState.Quality);
        Assert.False(power.EnergySaver.Value);
        Assert.Equal(_time.GetUtcNow(), power.Source.ObservedAt);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Laptop_discharging_maps_capacities_rate_magnitude_and_Windows_own_time_estimate()
    {
        LaptopDischarging();

        PowerFactors power = Collect();

        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Equal(SignalQuality.Estimated, power.BatteryCount.Quality);
        Assert.Contains("composite", power.BatteryCount.Source, StringComparison.Ordinal);
        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);
        Assert.Equal(75, power.BatteryPercent.Value, 9);
        Assert.Equal(SignalQuality.Measured, power.BatteryPercent.Quality);
        Assert.Equal(37.5, power.RemainingWattHours.Value, 9);
        Assert.Equal(50, power.FullWattHours.Value, 9);
        Assert.Equal(10, power.BatteryRateWatts.Value, 9);
        Assert.Equal(13_000, power.TimeToEmptySeconds.Value);
        Assert.Equal(SignalQuality.Measured, power.TimeToEmptySeconds.Quality);
        Assert.Contains("EstimatedTime", power.TimeToEmptySeconds.Source, StringComparison.Ordinal);
        Assert.Equal(WindowsPowerProbe.NotChargingReason, power.TimeToFullSeconds.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Discharging_without_any_Windows_estimate_estimates_time_to_empty_from_remaining_and_rate()
    {
        LaptopDischarging();
        _api.Battery.EstimatedTime = Unknown;
        _api.Status.BatteryLifeTime = Unknown;

        PowerFactors power = Collect();

        Assert.Equal(37.5 / 10 * 3600, power.TimeToEmptySeconds.Value, 6);
        Assert.Equal(SignalQuality.Estimated, power.TimeToEmptySeconds.Quality);
    }

    [Fact]
    public void Discharging_with_only_BatteryLifeTime_known_uses_it()
    {
        LaptopDischarging();
        _api.Battery.EstimatedTime = Unknown;
        _api.Status.BatteryLifeTime = 9_000;

        PowerFactors power = Collect();

        Assert.Equal(9_000, power.TimeToEmptySeconds.Value);
        Assert.Contains("BatteryLifeTime", power.TimeToEmptySeconds.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Charging_estimates_time_to_full_from_the_missing_capacity_and_the_positive_rate()
    {
        LaptopDischarging();
        _api.Status.ACLineStatus = 1;
        _api.Status.BatteryFlag = 8;
        _api.Battery.AcOnLine = 1;
        _api.Battery.Discharging = 0;
        _api.Battery.Charging = 1;
        _api.Battery.RemainingCapacity = 25_000;
        _api.Battery.Rate = 20_000;
        _api.Battery.EstimatedTime = Unknown;

        PowerFactors power = Collect();

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(ChargeState.Charging, power.ChargeState.Value);
        Assert.Equal(20, power.BatteryRateWatts.Value, 9);
        Assert.Equal(25.0 / 20 * 3600, power.TimeToFullSeconds.Value, 6);
        Assert.Equal(SignalQuality.Estimated, power.TimeToFullSeconds.Quality);
        Assert.Equal(WindowsPowerProbe.NotDischargingReason, power.TimeToEmptySeconds.Reason);
    }

    [Fact]
    public void Rate_0_is_Unknown_not_0_watts_and_leaves_no_time_estimate()
    {
        LaptopDischarging();
        _api.Battery.Rate = 0;
        _api.Battery.EstimatedTime = Unknown;
        _api.Status.BatteryLifeTime = Unknown;

        PowerFactors power = Collect();

        Assert.Equal(SignalQuality.Unknown, power.BatteryRateWatts.Quality);
        Assert.Equal(WindowsPowerProbe.ZeroRateReason, power.BatteryRateWatts.Reason);
        Assert.Equal(WindowsPowerProbe.ZeroRateReason, power.TimeToEmptySeconds.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void BATTERY_UNKNOWN_RATE_is_Unknown_with_what_Windows_said()
    {
        LaptopDischarging();
        _api.Battery.Rate = WindowsPowerProbe.UnknownRate;

        PowerFactors power = Collect();

        Assert.Equal(WindowsPowerProbe.RateUnknownReason, power.BatteryRateWatts.Reason);
        Assert.Equal(13_000, power.TimeToEmptySeconds.Value);
    }

    [Fact]
    public void Rate_beyond_10_kW_is_Unknown_and_reported_out_of_range()
    {
        LaptopDischarging();
        _api.Battery.Rate = -20_000_000;

        PowerFactors power = Collect();

        Assert.Equal(SignalQuality.Unknown, power.BatteryRateWatts.Quality);
        Assert.Contains("implausible battery rate '-20000000'", power.BatteryRateWatts.Reason, StringComparison.Ordinal);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void Unknown_capacities_0xFFFFFFFF_fall_back_to_BatteryLifePercent()
    {
        LaptopDischarging();
        _api.Battery.MaxCapacity = Unknown;
        _api.Battery.RemainingCapacity = Unknown;

        PowerFactors power = Collect();

        Assert.Equal(WindowsPowerProbe.FullUnknownReason, power.FullWattHours.Reason);
        Assert.Equal(WindowsPowerProbe.RemainingUnknownReason, power.RemainingWattHours.Reason);
        Assert.Equal(80, power.BatteryPercent.Value);
        Assert.Contains("BatteryLifePercent", power.BatteryPercent.Source, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void BatteryLifePercent_255_with_unknown_capacities_is_Unknown()
    {
        LaptopDischarging();
        _api.Battery.MaxCapacity = Unknown;
        _api.Status.BatteryLifePercent = 255;

        PowerFactors power = Collect();

        Assert.Equal(WindowsPowerProbe.PercentUnknownReason, power.BatteryPercent.Reason);
    }

    [Fact]
    public void Capacity_beyond_100_kWh_is_Unknown_and_reported_out_of_range()
    {
        LaptopDischarging();
        _api.Battery.MaxCapacity = 300_000_000;

        PowerFactors power = Collect();

        Assert.Contains("implausible full battery capacity '300000000'", power.FullWattHours.Reason, StringComparison.Ordinal);
        Assert.Contains("out-of-range", _failures.Kinds);

        // The percentage falls back to Windows' own figure.
        Assert.Equal(80, power.BatteryPercent.Value);
    }

    [Fact]
    public void Capacity_under_1_Wh_is_relative_units_and_never_read_as_watt_hours()
    {
        LaptopDischarging();
        _api.Battery.MaxCapacity = 100;
        _api.Battery.RemainingCapacity = 80;

        PowerFactors power = Collect();

        Assert.Equal(SignalQuality.Unknown, power.FullWattHours.Quality);
        Assert.Contains("BATTERY_CAPACITY_RELATIVE", power.FullWattHours.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, power.RemainingWattHours.Quality);
        Assert.Equal(80, power.BatteryPercent.Value);
    }

    [Fact]
    public void Remaining_far_above_full_capacity_is_Unknown_and_reported()
    {
        LaptopDischarging();
        _api.Battery.RemainingCapacity = 70_000;

        PowerFactors power = Collect();

        Assert.Contains("above the full capacity x 1.25", power.RemainingWattHours.Reason, StringComparison.Ordinal);
        Assert.Equal(50, power.FullWattHours.Value);
        Assert.Equal(80, power.BatteryPercent.Value);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void Remaining_a_little_above_full_reads_100_percent()
    {
        LaptopDischarging();
        _api.Battery.RemainingCapacity = 52_000;

        PowerFactors power = Collect();

        Assert.Equal(100, power.BatteryPercent.Value);
        Assert.Equal(52, power.RemainingWattHours.Value, 9);
    }

    [Fact]
    public void ACLineStatus_255_makes_the_source_Unknown_with_what_Windows_said_and_is_not_a_failure()
    {
        Desktop();
        _api.Status.ACLineStatus = 255;

        PowerFactors power = Collect();

        Assert.Equal(WindowsPowerProbe.AcUnknownReason, power.Source.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void ACLineStatus_2_is_backup_power()
    {
        LaptopDischarging();
        _api.Status.ACLineStatus = 2;

        PowerFactors power = Collect();

        Assert.Equal(PowerSource.Ups, power.Source.Value);
    }

    [Fact]
    public void ACLineStatus_outside_0_1_2_and_255_is_Unknown_and_reported()
    {
        Desktop();
        _api.Status.ACLineStatus = 7;

        PowerFactors power = Collect();

        Assert.Contains("implausible AC line status '7'", power.Source.Reason, StringComparison.Ordinal);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void AC_offline_without_a_battery_is_Unknown_not_battery_power()
    {
        Desktop();
        _api.Status.ACLineStatus = 0;

        PowerFactors power = Collect();

        Assert.Equal(WindowsPowerProbe.AcOfflineNoBatteryReason, power.Source.Reason);
    }

    [Fact]
    public void BatteryFlag_255_is_overruled_by_a_readable_battery_state()
    {
        LaptopDischarging();
        _api.Status.BatteryFlag = 255;

        PowerFactors power = Collect();

        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Equal(75, power.BatteryPercent.Value, 9);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void BatteryFlag_255_with_the_battery_state_failing_makes_every_battery_reading_Unknown_with_both_reasons()
    {
        LaptopDischarging();
        _api.Status.BatteryFlag = 255;
        _api.BatteryStatus = StatusAccessDenied;

        PowerFactors power = Collect();

        Assert.Equal(SignalQuality.Unknown, power.BatteryCount.Quality);
        Assert.Contains(WindowsPowerProbe.BatteryFlagUnknownReason, power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Contains("NTSTATUS 0xC0000022 (STATUS_ACCESS_DENIED)", power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Equal(power.BatteryCount.Reason, power.BatteryPercent.Reason);
        Assert.Equal(power.BatteryCount.Reason, power.ChargeState.Reason);

        // ACLineStatus 0 still says battery power.
        Assert.Equal(PowerSource.Battery, power.Source.Value);
    }

    [Fact]
    public void BatteryFlag_128_with_BatteryPresent_set_is_Unknown_and_reported_inconsistent()
    {
        Desktop();
        _api.Battery.BatteryPresent = 1;

        PowerFactors power = Collect();

        Assert.Equal(SignalQuality.Unknown, power.BatteryCount.Quality);
        Assert.Contains("disagree", power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Equal(["inconsistent"], _failures.Kinds);
    }

    [Fact]
    public void BatteryFlag_with_undefined_bits_is_reported_and_the_battery_state_decides()
    {
        LaptopDischarging();
        _api.Status.BatteryFlag = 0x40;

        PowerFactors power = Collect();

        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Equal(["out-of-range"], _failures.Kinds);
        Assert.Contains("implausible battery flag '64'", _failures.Reports[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void GetSystemPowerStatus_failing_is_Unknown_with_the_Win32_error_and_the_battery_state_still_answers()
    {
        LaptopDischarging();
        _api.StatusError = 5;

        PowerFactors power = Collect();

        Assert.Equal(SignalQuality.Unknown, power.EnergySaver.Quality);
        Assert.Contains("GetSystemPowerStatus failed: Win32 error 5", power.EnergySaver.Reason, StringComparison.Ordinal);
        Assert.Equal(PowerSource.Battery, power.Source.Value);
        Assert.Contains("AcOnLine", power.Source.Source, StringComparison.Ordinal);
        Assert.Equal(75, power.BatteryPercent.Value, 9);
        Assert.Equal(["win32-error"], _failures.Kinds);
    }

    [Fact]
    public void Battery_state_failing_is_Unknown_with_the_NTSTATUS_and_GetSystemPowerStatus_still_answers()
    {
        LaptopDischarging();
        _api.Status.ACLineStatus = 1;
        _api.Status.BatteryFlag = 8 | 1;
        _api.BatteryStatus = StatusAccessDenied;

        PowerFactors power = Collect();

        Assert.Equal(PowerSource.Mains, power.Source.Value);
        Assert.Equal(1, power.BatteryCount.Value);
        Assert.Contains("BatteryFlag", power.BatteryCount.Source, StringComparison.Ordinal);
        Assert.Equal(ChargeState.Charging, power.ChargeState.Value);
        Assert.Equal(80, power.BatteryPercent.Value);
        Assert.Equal("CallNtPowerInformation(SystemBatteryState) failed: NTSTATUS 0xC0000022 (STATUS_ACCESS_DENIED)", power.BatteryRateWatts.Reason);
        Assert.Equal(power.BatteryRateWatts.Reason, power.FullWattHours.Reason);
        Assert.Equal(["ntstatus"], _failures.Kinds);
    }

    [Fact]
    public void Battery_state_failing_on_battery_power_estimates_discharging_and_uses_BatteryLifeTime()
    {
        LaptopDischarging();
        _api.BatteryStatus = StatusAccessDenied;

        PowerFactors power = Collect();

        Assert.Equal(ChargeState.Discharging, power.ChargeState.Value);
        Assert.Equal(SignalQuality.Estimated, power.ChargeState.Quality);
        Assert.Equal(7_200, power.TimeToEmptySeconds.Value);
    }

    [Fact]
    public void Both_calls_failing_leave_every_reading_Unknown_with_the_errors()
    {
        LaptopDischarging();
        _api.StatusError = 5;
        _api.BatteryStatus = StatusAccessDenied;

        PowerFactors power = Collect();

        Assert.Contains("Win32 error 5", power.Source.Reason, StringComparison.Ordinal);
        Assert.Contains("Win32 error 5", power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Contains("STATUS_ACCESS_DENIED", power.BatteryCount.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, power.EnergySaver.Quality);
        Assert.Equal(SignalQuality.Unknown, power.BatteryPercent.Quality);
        Assert.Equal(SignalQuality.Unknown, power.TimeToEmptySeconds.Quality);
        Assert.Equal(["win32-error", "ntstatus"], _failures.Kinds);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(0, false)]
    public void Battery_saver_is_Measured_from_SystemStatusFlag(byte flag, bool on)
    {
        Desktop();
        _api.Status.SystemStatusFlag = flag;

        PowerFactors power = Collect();

        Assert.Equal(on, power.EnergySaver.Value);
        Assert.Equal(SignalQuality.Measured, power.EnergySaver.Quality);
    }

    [Fact]
    public void SystemStatusFlag_other_than_0_or_1_is_Unknown_and_reported()
    {
        Desktop();
        _api.Status.SystemStatusFlag = 9;

        PowerFactors power = Collect();

        Assert.Contains("implausible system status flag '9'", power.EnergySaver.Reason, StringComparison.Ordinal);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void Neither_charging_nor_discharging_on_mains_at_full_capacity_is_Full()
    {
        LaptopIdleOnMains(remaining: 50_000);

        PowerFactors power = Collect();

        Assert.Equal(ChargeState.Full, power.ChargeState.Value);
        Assert.Equal(SignalQuality.Estimated, power.ChargeState.Quality);
    }

    [Fact]
    public void Neither_charging_nor_discharging_on_mains_below_full_is_Not_charging()
    {
        LaptopIdleOnMains(remaining: 40_000);

        PowerFactors power = Collect();

        Assert.Equal(ChargeState.NotCharging, power.ChargeState.Value);
        Assert.Equal(SignalQuality.Measured, power.ChargeState.Quality);
        Assert.Equal(WindowsPowerProbe.NotChargingReason, power.TimeToFullSeconds.Reason);
    }

    [Fact]
    public void Neither_charging_nor_discharging_on_battery_power_is_Unknown()
    {
        LaptopDischarging();
        _api.Battery.Discharging = 0;

        PowerFactors power = Collect();

        Assert.Equal(WindowsPowerProbe.IdleOnBatteryReason, power.ChargeState.Reason);
    }

    [Fact]
    public void A_healthy_pass_reports_nothing_and_allocates_only_its_record()
    {
        LaptopDischarging();
        var probe = new WindowsPowerProbe(_api, _failures);
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);

        const int Passes = 100;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Passes; i++)
        {
            probe.Collect(snapshot);
        }

        long perPass = (GC.GetAllocatedBytesForCurrentThread() - before) / Passes;

        // The PowerFactors record holds ten readings; nothing else may allocate.
        Assert.InRange(perPass, 1, 512);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Probe_has_its_name_and_group()
    {
        var probe = new WindowsPowerProbe(_api, _failures);

        Assert.Equal("windows.power", probe.Name);
        Assert.Equal(SignalGroup.Power, probe.Group);
    }

    private PowerFactors Collect()
    {
        var snapshot = new SnapshotBuilder(_time);
        new WindowsPowerProbe(_api, _failures).Collect(snapshot);
        return snapshot.Power;
    }

    /// <summary>What Windows answers on a desktop: AC online, BatteryFlag 128, nothing known about a battery.</summary>
    private void Desktop()
    {
        _api.Status = new SystemPowerStatus
        {
            ACLineStatus = 1,
            BatteryFlag = 128,
            BatteryLifePercent = 255,
            BatteryLifeTime = Unknown,
            BatteryFullLifeTime = Unknown,
        };
        _api.Battery = new SystemBatteryState
        {
            AcOnLine = 1,
            MaxCapacity = 0,
            RemainingCapacity = 0,
            EstimatedTime = Unknown,
        };
    }

    /// <summary>A 50 Wh laptop battery at 37.5 Wh discharging at 10 W (Windows rounds its own percentage to 80).</summary>
    private void LaptopDischarging()
    {
        _api.Status = new SystemPowerStatus
        {
            ACLineStatus = 0,
            BatteryFlag = 1,
            BatteryLifePercent = 80,
            BatteryLifeTime = 7_200,
            BatteryFullLifeTime = Unknown,
        };
        _api.Battery = new SystemBatteryState
        {
            AcOnLine = 0,
            BatteryPresent = 1,
            Discharging = 1,
            MaxCapacity = 50_000,
            RemainingCapacity = 37_500,
            Rate = -10_000,
            EstimatedTime = 13_000,
        };
    }

    private void LaptopIdleOnMains(uint remaining)
    {
        LaptopDischarging();
        _api.Status.ACLineStatus = 1;
        _api.Battery.AcOnLine = 1;
        _api.Battery.Discharging = 0;
        _api.Battery.RemainingCapacity = remaining;
        _api.Battery.Rate = 0;
        _api.Battery.EstimatedTime = Unknown;
    }

    /// <summary>Hands out the raw structures the test set; a non-zero error or a failing NTSTATUS makes that call fail.</summary>
    private sealed class FakePowerApi : IWindowsPowerApi
    {
        public SystemPowerStatus Status;
        public SystemBatteryState Battery;
        public int StatusError;
        public int BatteryStatus;

        public bool TryGetSystemPowerStatus(out SystemPowerStatus status, out int error)
        {
            error = StatusError;
            status = StatusError == 0 ? Status : default;
            return StatusError == 0;
        }

        public int GetSystemBatteryState(out SystemBatteryState state)
        {
            state = BatteryStatus >= 0 ? Battery : default;
            return BatteryStatus;
        }
    }
}
