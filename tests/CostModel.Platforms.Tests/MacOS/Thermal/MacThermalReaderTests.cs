using CostModel.Factors;
using CostModel.Platforms.MacOS.Thermal;
using CostModel.Platforms.Tests.MacOS.Power;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.MacOS.Thermal;

/// <summary>
/// The macOS thermal logic: <c>NSProcessInfo.thermalState</c> to the thermal level, the Intel CPU
/// power status (MacOS/Fixtures/thermal, synthetic: no recorded dictionary is public) to the
/// throttle ratio, and Apple silicon's missing status.
/// </summary>
public sealed class MacThermalReaderTests
{
    private const string Probe = "macos.thermal";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeProcessInfo _processInfo = new() { Thermal = 0 };
    private readonly FakeCpuPowerStatus _cpu = new();

    [Theory]
    [InlineData(0L, ThermalLevel.Nominal)]
    [InlineData(1L, ThermalLevel.Fair)]
    [InlineData(2L, ThermalLevel.Serious)]
    [InlineData(3L, ThermalLevel.Critical)]
    public void Each_NSProcessInfo_thermal_state_is_the_level_of_the_same_name(long state, ThermalLevel level)
    {
        _processInfo.Thermal = state;

        ThermalFactors thermal = Read();

        Assert.Equal(level, thermal.Level.Value);
        Assert.Equal(SignalQuality.Measured, thermal.Level.Quality);
        Assert.Equal("NSProcessInfo.thermalState", thermal.Level.Source);
        Assert.Equal(_time.GetUtcNow(), thermal.Level.ObservedAt);
    }

    [Theory]
    [InlineData(4L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    public void A_thermal_state_outside_zero_to_three_is_unknown_with_the_raw_value(long state)
    {
        _processInfo.Thermal = state;

        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.Unknown, thermal.Level.Quality);
        Assert.Contains($"returned {state.ToString(System.Globalization.CultureInfo.InvariantCulture)},", thermal.Level.Reason, StringComparison.Ordinal);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void A_macOS_without_thermalState_reads_the_level_as_not_supported()
    {
        _processInfo.Thermal = null;

        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.NotSupported, thermal.Level.Quality);
        Assert.Equal(MacThermalReader.ThermalStateMissingReason, thermal.Level.Reason);
    }

    [Fact]
    public void An_unreachable_Objective_C_runtime_makes_the_level_unknown_and_is_reported()
    {
        _processInfo.Failure = new InvalidOperationException("cannot load /System/Library/Frameworks/Foundation.framework/Foundation");

        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.Unknown, thermal.Level.Quality);
        Assert.Contains("cannot load", thermal.Level.Reason, StringComparison.Ordinal);
        Assert.Equal(["io"], _failures.Kinds);
    }

    [Fact]
    public void An_Intel_CPU_speed_limit_of_61_percent_is_a_measured_throttle_ratio_of_0_39()
    {
        _cpu.Result = new CpuPowerStatus(PropertyList.LoadDictionary("thermal/synthetic-intel-cpu-power-status-throttled.plist"), 0);

        ThermalFactors thermal = Read();

        Assert.Equal(0.39, thermal.ThrottleRatio.Value, 9);
        Assert.Equal(SignalQuality.Measured, thermal.ThrottleRatio.Quality);
        Assert.Contains("CPU_Speed_Limit", thermal.ThrottleRatio.Source, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_Intel_CPU_at_full_speed_has_a_throttle_ratio_of_zero()
    {
        _cpu.Result = new CpuPowerStatus(PropertyList.LoadDictionary("thermal/synthetic-intel-cpu-power-status-nominal.plist"), 0);

        ThermalFactors thermal = Read();

        Assert.Equal(0, thermal.ThrottleRatio.Value);
        Assert.Equal(SignalQuality.Measured, thermal.ThrottleRatio.Quality);
    }

    [Fact]
    public void Apple_silicon_without_a_CPU_power_status_reads_the_throttle_ratio_as_not_supported_with_the_code()
    {
        _cpu.AppleSilicon = true;
        _cpu.Result = new CpuPowerStatus(null, MacThermalReader.IOReturnNotFound);

        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.NotSupported, thermal.ThrottleRatio.Quality);
        Assert.StartsWith(MacThermalReader.AppleSiliconReason, thermal.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Contains("0xe00002f0", thermal.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_Intel_Mac_with_no_status_published_yet_is_unknown_not_an_invented_full_speed()
    {
        _cpu.Result = new CpuPowerStatus(null, MacThermalReader.IOReturnNotFound);

        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.Unknown, thermal.ThrottleRatio.Quality);
        Assert.Equal(MacThermalReader.NoStatusYetReason, thermal.ThrottleRatio.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Another_failure_on_Intel_is_unknown_and_reported_with_the_code()
    {
        _cpu.Result = new CpuPowerStatus(null, unchecked((int)0xE00002BC));

        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.Unknown, thermal.ThrottleRatio.Quality);
        Assert.Contains("0xe00002bc", thermal.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Equal(["io"], _failures.Kinds);
    }

    [Theory]
    [InlineData(150L)]
    [InlineData(-1L)]
    public void A_speed_limit_outside_0_to_100_percent_is_unknown(long limit)
    {
        _cpu.Result = new CpuPowerStatus(new Dictionary<string, object> { [MacThermalReader.SpeedLimitKey] = limit }, 0);

        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.Unknown, thermal.ThrottleRatio.Quality);
        Assert.Contains("implausible CPU speed limit", thermal.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void A_status_without_the_speed_limit_is_unknown_and_says_the_key_is_absent()
    {
        _cpu.Result = new CpuPowerStatus(new Dictionary<string, object> { ["CPU_Available_CPUs"] = 8L }, 0);

        ThermalFactors thermal = Read();

        Assert.Equal("IOPMCopyCPUPowerStatus: CPU_Speed_Limit absent", thermal.ThrottleRatio.Reason);
        Assert.Equal(["missing"], _failures.Kinds);
    }

    [Fact]
    public void Temperatures_and_throttle_events_are_not_supported_with_the_reason()
    {
        ThermalFactors thermal = Read();

        Assert.Equal(SignalQuality.NotSupported, thermal.HottestCelsius.Quality);
        Assert.Equal(MacThermalReader.HottestReason, thermal.HottestCelsius.Reason);
        Assert.Equal(SignalQuality.NotSupported, thermal.ThrottleEvents.Quality);
        Assert.Equal(MacThermalReader.ThrottleEventsReason, thermal.ThrottleEvents.Reason);
    }

    private ThermalFactors Read() => new MacThermalReader(_processInfo, _cpu, _failures, Probe).Read(_time);
}
