using System.Globalization;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Native;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Thermal;

/// <summary>
/// The macOS thermal logic, platform-neutral: <c>NSProcessInfo.thermalState</c> as the thermal
/// level, the Intel CPU power status as the throttle ratio, and the honest NotSupported for what
/// macOS does not publish. Every rule is in docs/macos/thermal.md.
/// </summary>
internal sealed class MacThermalReader
{
    /// <summary><c>CPU_Speed_Limit</c> (<c>kIOPMCPUPowerLimitProcessorSpeedKey</c>, IOPM.h): the percentage of full speed the CPU may run at.</summary>
    internal const string SpeedLimitKey = "CPU_Speed_Limit";

    /// <summary><c>kIOReturnNotFound</c> (IOReturn.h): no CPU power status has been published.</summary>
    internal const int IOReturnNotFound = unchecked((int)0xE00002F0);

    /// <summary>
    /// The percentage <c>CPU_Speed_Limit</c> can hold: 0 to 100 (IOPM.h: "percentage of full
    /// speed"). Outside, the dictionary is broken and the ratio Unknown.
    /// </summary>
    internal static readonly PlausibleRange SpeedLimitPercent = new(
        "CPU speed limit", 0, 100, "%", "a percentage of full speed (IOPM.h kIOPMCPUPowerLimitProcessorSpeedKey)");

    internal const string ThermalStateMissingReason = "NSProcessInfo does not respond to thermalState (macOS 10.10.3 or later has it)";
    internal const string AppleSiliconReason = "Apple silicon Macs publish no CPU power status: the clock share lost to throttling has no public API there, and the thermal level says whether throttling is in progress";
    internal const string NoStatusYetReason = "no CPU power status has been published since boot (IOPMCopyCPUPowerStatus: kIOReturnNotFound; pmset -g therm prints \"No CPU power status has been recorded\"): powerd publishes one at the first speed limit, but its absence is not a measured 100 %";
    internal const string HottestReason = "temperatures on macOS come from the SMC (AppleSMC user client) or, on Apple silicon, the IOHIDEventSystem: both private, undocumented interfaces, so no temperature is read";
    internal const string ThrottleEventsReason = "macOS publishes no count of thermal throttle events through a public API";

    private const string ThermalStateSource = "NSProcessInfo.thermalState";
    private const string SpeedLimitSource = "IOPMCopyCPUPowerStatus CPU_Speed_Limit (1 - limit / 100)";
    private const double FullPercent = 100;

    private readonly IMacProcessInfo _processInfo;
    private readonly IMacCpuPowerStatus _cpu;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probe;

    /// <summary>Creates the logic over its sources.</summary>
    /// <param name="processInfo">The thermal state.</param>
    /// <param name="cpu">The CPU power status.</param>
    /// <param name="failures">Where failed reads are counted.</param>
    /// <param name="probe">The probe's name, for the failure reports.</param>
    public MacThermalReader(IMacProcessInfo processInfo, IMacCpuPowerStatus cpu, IProbeFailureReporter failures, string probe)
    {
        ArgumentNullException.ThrowIfNull(processInfo);
        ArgumentNullException.ThrowIfNull(cpu);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(probe);
        _processInfo = processInfo;
        _cpu = cpu;
        _failures = failures;
        _probe = probe;
    }

    /// <summary>
    /// <c>NSProcessInfoThermalState</c> to <see cref="ThermalLevel"/>: the enum was modelled on it
    /// (Enums.cs), so nominal (0), fair (1), serious (2) and critical (3) map to the levels of the
    /// same names; anything else is null.
    /// </summary>
    /// <param name="state">The raw <c>thermalState</c>.</param>
    public static ThermalLevel? MapThermalState(long state) => state switch
    {
        0 => ThermalLevel.Nominal,
        1 => ThermalLevel.Fair,
        2 => ThermalLevel.Serious,
        3 => ThermalLevel.Critical,
        _ => null,
    };

    /// <summary>Reads the thermal factors now.</summary>
    /// <param name="clock">The snapshot's clock.</param>
    public ThermalFactors Read(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        DateTimeOffset now = clock.GetUtcNow();
        return new ThermalFactors
        {
            Level = ReadLevel(now),
            ThrottleRatio = ReadThrottleRatio(now),
            HottestCelsius = Reading.NotSupported<double>(HottestReason, now),
            ThrottleEvents = Reading.NotSupported<long>(ThrottleEventsReason, now),
        };
    }

    private Reading<ThermalLevel> ReadLevel(DateTimeOffset now)
    {
        long? state;
        try
        {
            state = _processInfo.ThermalState();
        }
        catch (InvalidOperationException ex)
        {
            return Reading.Unknown<ThermalLevel>(Report("io", $"NSProcessInfo.thermalState: {ex.Message}"), now);
        }
        catch (DllNotFoundException ex)
        {
            return Reading.Unknown<ThermalLevel>(Report("missing", $"NSProcessInfo.thermalState: {ex.Message}"), now);
        }
        catch (EntryPointNotFoundException ex)
        {
            return Reading.Unknown<ThermalLevel>(Report("missing", $"NSProcessInfo.thermalState: {ex.Message}"), now);
        }

        if (state is not { } raw)
        {
            return Reading.NotSupported<ThermalLevel>(ThermalStateMissingReason, now);
        }

        return MapThermalState(raw) is { } level
            ? Reading.Measured(level, now, ThermalStateSource)
            : Reading.Unknown<ThermalLevel>(Report(Plausible.OutOfRangeKind, string.Create(CultureInfo.InvariantCulture,
                $"NSProcessInfo.thermalState returned {raw}, not one of NSProcessInfoThermalState's 0 (nominal) to 3 (critical)")), now);
    }

    private Reading<double> ReadThrottleRatio(DateTimeOffset now)
    {
        CpuPowerStatus result;
        try
        {
            result = _cpu.Read();
        }
        catch (InvalidDataException ex)
        {
            return Reading.Unknown<double>(Report("garbage", $"IOPMCopyCPUPowerStatus: {ex.Message}"), now);
        }
        catch (DllNotFoundException ex)
        {
            return Reading.Unknown<double>(Report("missing", $"IOPMCopyCPUPowerStatus: {ex.Message}"), now);
        }
        catch (EntryPointNotFoundException ex)
        {
            return Reading.Unknown<double>(Report("missing", $"IOPMCopyCPUPowerStatus: {ex.Message}"), now);
        }

        if (result.Status is not { } status)
        {
            string code = Hex(result.IOReturn);
            if (_cpu.IsAppleSilicon)
            {
                return Reading.NotSupported<double>($"{AppleSiliconReason} (IOPMCopyCPUPowerStatus returned {code})", now);
            }

            return result.IOReturn == IOReturnNotFound
                ? Reading.Unknown<double>(NoStatusYetReason, now)
                : Reading.Unknown<double>(Report("io", $"IOPMCopyCPUPowerStatus returned {code} and no status"), now);
        }

        if (!PropertyValues.TryGetDouble(status, SpeedLimitKey, out double limit))
        {
            return Reading.Unknown<double>(Report(status.ContainsKey(SpeedLimitKey) ? "garbage" : "missing",
                $"IOPMCopyCPUPowerStatus: {PropertyValues.Describe(status, SpeedLimitKey)}"), now);
        }

        if (!SpeedLimitPercent.Contains(limit))
        {
            return Reading.Unknown<double>(Report(Plausible.OutOfRangeKind,
                Plausible.Reason(SpeedLimitPercent, "IOPMCopyCPUPowerStatus " + SpeedLimitKey, limit.ToString("G6", CultureInfo.InvariantCulture))), now);
        }

        return Reading.Measured(1 - (limit / FullPercent), now, SpeedLimitSource);
    }

    private string Report(string kind, string reason)
    {
        _failures.Report(_probe, kind, reason);
        return reason;
    }

    private static string Hex(int ioReturn) => "0x" + ioReturn.ToString("x8", CultureInfo.InvariantCulture);
}
