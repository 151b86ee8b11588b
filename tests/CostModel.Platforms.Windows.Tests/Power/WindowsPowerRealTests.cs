using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Power;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Power;

/// <summary>
/// The real Win32 power calls: on Windows, and here under Wine (.ci/wine-tests), where Wine's
/// ntdll answers <c>SystemBatteryState</c> from Linux's <c>/sys/class/power_supply</c>, which the
/// tests read through Wine's <c>Z:\</c> drive to cross-check.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsPowerRealTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();

    [Fact]
    public void Both_calls_answer_and_the_probe_says_what_they_said()
    {
        Win32.Require();
        (SystemPowerStatus status, SystemBatteryState battery) = ReadRaw();
        PowerFactors power = CollectReal();
        Log(status, battery, power);

        Assert.Empty(_failures.Reports);
        bool present = battery.BatteryPresent != 0;
        Assert.Equal(present, status.BatteryFlag != WindowsPowerProbe.BatteryFlagNoBattery);
        if (present)
        {
            Assert.Equal(1, power.BatteryCount.Value);
            Assert.Equal(SignalQuality.Estimated, power.BatteryCount.Quality);
        }
        else
        {
            Assert.Equal(0, power.BatteryCount.Value);
            Assert.Equal(SignalQuality.Measured, power.BatteryCount.Quality);
            Assert.Equal(SignalQuality.NotSupported, power.BatteryPercent.Quality);
            Assert.Equal(WindowsPowerProbe.NoBatteryReason, power.BatteryPercent.Reason);
            Assert.Equal(SignalQuality.NotSupported, power.ChargeState.Quality);
        }

        switch (status.ACLineStatus)
        {
            case 1: Assert.Equal(PowerSource.Mains, power.Source.Value); break;
            case 0 when present: Assert.Equal(PowerSource.Battery, power.Source.Value); break;
            default: Assert.False(power.Source.HasValue); break;
        }

        Assert.Equal(status.SystemStatusFlag == 1, power.EnergySaver.Value);
        Assert.Equal(SignalQuality.Measured, power.EnergySaver.Quality);
    }

    [Fact]
    public void Under_Wine_battery_and_AC_presence_match_sys_class_power_supply()
    {
        Win32.RequireWine();
        (SystemPowerStatus status, SystemBatteryState battery) = ReadRaw();
        PowerFactors power = CollectReal();
        Log(status, battery, power);

        // Wine (dlls/ntdll/unix/system.c, fill_battery_state) counts a battery for each
        // /sys/class/power_supply/BAT<n>/status and reads AC/online, taking 1 when it is absent.
        const string Supplies = @"Z:\sys\class\power_supply";
        bool linuxBattery = Directory.Exists(Path.Combine(Supplies, "BAT0")) && File.Exists(Path.Combine(Supplies, "BAT0", "status"));
        Assert.Equal(linuxBattery, battery.BatteryPresent != 0);
        Assert.Equal(linuxBattery ? 1 : 0, power.BatteryCount.Value);
        if (!linuxBattery)
        {
            Assert.Equal(WindowsPowerProbe.BatteryFlagNoBattery, status.BatteryFlag);
            Assert.Equal(WindowsPowerProbe.NoBatteryReason, power.BatteryPercent.Reason);
        }

        string acOnline = Path.Combine(Supplies, "AC", "online");
        bool linuxAc = !File.Exists(acOnline) || File.ReadAllText(acOnline).Trim() != "0";
        Assert.Equal(linuxAc, battery.AcOnLine != 0);
        Assert.Equal(linuxAc ? (byte)1 : (byte)0, status.ACLineStatus);
        Assert.Equal(linuxAc ? PowerSource.Mains : PowerSource.Battery, power.Source.Value);
    }

    [SupportedOSPlatform("windows")]
    private static (SystemPowerStatus Status, SystemBatteryState Battery) ReadRaw()
    {
        var api = new Win32PowerApi();
        Assert.True(api.TryGetSystemPowerStatus(out SystemPowerStatus status, out int error), $"GetSystemPowerStatus failed: Win32 error {error}");
        int nt = api.GetSystemBatteryState(out SystemBatteryState battery);
        Assert.True(nt == 0, $"CallNtPowerInformation(SystemBatteryState) returned 0x{nt:X8}");
        return (status, battery);
    }

    [SupportedOSPlatform("windows")]
    private PowerFactors CollectReal()
    {
        var snapshot = new SnapshotBuilder(_time);
        new WindowsPowerProbe(_failures).Collect(snapshot);
        return snapshot.Power;
    }

    private static void Log(SystemPowerStatus s, SystemBatteryState b, PowerFactors power) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"""
            SYSTEM_POWER_STATUS: ACLineStatus={s.ACLineStatus} BatteryFlag={s.BatteryFlag} BatteryLifePercent={s.BatteryLifePercent} SystemStatusFlag={s.SystemStatusFlag} BatteryLifeTime=0x{s.BatteryLifeTime:X8} BatteryFullLifeTime=0x{s.BatteryFullLifeTime:X8}
            SYSTEM_BATTERY_STATE: AcOnLine={b.AcOnLine} BatteryPresent={b.BatteryPresent} Charging={b.Charging} Discharging={b.Discharging} MaxCapacity={b.MaxCapacity} RemainingCapacity={b.RemainingCapacity} Rate={b.Rate} EstimatedTime=0x{b.EstimatedTime:X8}
            probe: Source={power.Source} BatteryCount={power.BatteryCount} BatteryPercent={power.BatteryPercent} ChargeState={power.ChargeState} EnergySaver={power.EnergySaver}
            """));
}
