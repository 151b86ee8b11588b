using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.MacOS;
using CostModel.Platforms.MacOS.Native;
using CostModel.Platforms.MacOS.Power;
using CostModel.Platforms.MacOS.Thermal;
using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.MacOS.Power;

/// <summary>
/// Runs the real power and thermal probes on a Mac and prints what the native layer returns and
/// what the probes report; skips, with the reason, on any other OS (so it has not run yet: no Mac
/// was at hand). Run on a Mac:
/// <c>dotnet test tests/CostModel.Platforms.Tests --filter "FullyQualifiedName~MacPowerOnThisMachine" --logger "console;verbosity=detailed"</c>.
/// </summary>
[SupportedOSPlatform("macos")]
public sealed class MacPowerOnThisMachineTests
{
    [Fact]
    public void Reads_power_and_thermal_on_this_Mac()
    {
        if (!OperatingSystem.IsMacOS())
        {
            Assert.Skip("not macOS: the native power and thermal calls need a Mac");
        }

        var text = new StringBuilder();
        var native = new NativePowerSources();
        MacPowerSourceSnapshot snapshot = native.ReadPowerSources();
        text.AppendLine(CultureInfo.InvariantCulture, $"IOPSGetProvidingPowerSourceType: {snapshot.ProvidingType ?? "(null)"}; {snapshot.Sources.Count} power source(s)");
        foreach (IReadOnlyDictionary<string, object> source in snapshot.Sources)
        {
            text.AppendLine("  " + string.Join("; ", source.Select(kv => $"{kv.Key} = {kv.Value}")));
        }

        IReadOnlyList<IReadOnlyDictionary<string, object>> batteries = native.ReadSmartBatteries();
        foreach (IReadOnlyDictionary<string, object> battery in batteries)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"AppleSmartBattery: {battery.Count} keys; {PropertyValues.Describe(battery, "Voltage")}; {PropertyValues.Describe(battery, "Amperage")}; {PropertyValues.Describe(battery, "AppleRawMaxCapacity")}");
        }

        var processInfo = new NativeProcessInfo();
        text.AppendLine(CultureInfo.InvariantCulture, $"isLowPowerModeEnabled: {processInfo.IsLowPowerModeEnabled()?.ToString(CultureInfo.InvariantCulture) ?? "(not implemented)"}; thermalState: {processInfo.ThermalState()?.ToString(CultureInfo.InvariantCulture) ?? "(not implemented)"}");
        var cpu = new NativeCpuPowerStatus();
        CpuPowerStatus status = cpu.Read();
        text.AppendLine(CultureInfo.InvariantCulture, $"Apple silicon: {cpu.IsAppleSilicon}; IOPMCopyCPUPowerStatus: 0x{status.IOReturn:x8} {(status.Status is null ? "(no dictionary)" : string.Join("; ", status.Status.Select(kv => $"{kv.Key} = {kv.Value}")))}");

        var failures = new RecordingProbeFailureReporter();
        var builder = new SnapshotBuilder(TimeProvider.System);
        new MacPowerProbe(failures).Collect(builder);
        new MacThermalProbe(failures).Collect(builder);
        PowerFactors power = builder.Power;
        ThermalFactors thermal = builder.Thermal;
        text.AppendLine(CultureInfo.InvariantCulture, $"probe: Source {power.Source}; BatteryCount {power.BatteryCount}; BatteryPercent {power.BatteryPercent}; ChargeState {power.ChargeState}");
        text.AppendLine(CultureInfo.InvariantCulture, $"probe: BatteryRateWatts {power.BatteryRateWatts}; RemainingWattHours {power.RemainingWattHours}; FullWattHours {power.FullWattHours}");
        text.AppendLine(CultureInfo.InvariantCulture, $"probe: TimeToEmptySeconds {power.TimeToEmptySeconds}; TimeToFullSeconds {power.TimeToFullSeconds}; EnergySaver {power.EnergySaver}");
        text.AppendLine(CultureInfo.InvariantCulture, $"probe: Level {thermal.Level}; ThrottleRatio {thermal.ThrottleRatio}");
        foreach ((string probe, string kind, string detail) in failures.Reports)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"failure: {probe} {kind}: {detail}");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(text.ToString());

        // Every Mac runs on AC, a battery or a UPS, and has a thermal state (macOS 10.10.3 and later).
        Assert.True(power.Source.HasValue, power.Source.ToString());
        Assert.True(power.BatteryCount.HasValue, power.BatteryCount.ToString());
        Assert.Equal(SignalQuality.Measured, thermal.Level.Quality);
        Assert.NotEqual(SignalQuality.Unknown, power.EnergySaver.Quality);
        if (power.BatteryCount.Value > 0)
        {
            Assert.True(power.BatteryPercent.HasValue, power.BatteryPercent.ToString());
            Assert.True(power.ChargeState.HasValue, power.ChargeState.ToString());
            Assert.True(power.FullWattHours.HasValue, power.FullWattHours.ToString());
        }

        if (cpu.IsAppleSilicon)
        {
            Assert.Equal(SignalQuality.NotSupported, thermal.ThrottleRatio.Quality);
        }

        Assert.Empty(failures.Reports);
    }
}
