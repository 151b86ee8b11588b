using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Power;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Thermal;

/// <summary>
/// Clock throttling from <c>CallNtPowerInformation(ProcessorInformation)</c>: the share of the
/// rated clock that the current thermal or power limit takes away, 1 - sum of <c>MhzLimit</c> /
/// sum of <c>MaxMhz</c> over the logical processors. Temperatures, the thermal level and throttle
/// events have no unprivileged source on Windows and are NotSupported with the reason. Every rule
/// is in docs/windows/thermal.md.
/// </summary>
/// <remarks>
/// One buffer of <c>PROCESSOR_POWER_INFORMATION</c>, sized by <c>GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)</c>
/// at construction, is reused by every pass; it grows (bounded by <see cref="ThermalPlausible.MaxProcessors"/>)
/// only when the call answers <c>STATUS_BUFFER_TOO_SMALL</c>. A pass allocates only its
/// <see cref="ThermalFactors"/> unless something fails.
/// </remarks>
internal sealed class WindowsThermalProbe : ISignalProbe
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "windows.thermal";

    /// <summary>
    /// Written into every entry's <c>Number</c> before each call: an entry that still holds it
    /// afterwards was not filled (the buffer is larger than the processors Windows reports).
    /// </summary>
    internal const uint NotWritten = uint.MaxValue;

    internal const string NoTemperatureReason =
        "Windows has no temperature API for unprivileged processes: the ACPI thermal zones are read through WMI (MSAcpi_ThermalZoneTemperature), which needs administrator rights and on many machines returns a fixed value";

    internal const string NoLevelReason =
        "no thermal level without temperatures or trip points, and a clock limit below MaxMhz may be a power plan's cap as well as heat";

    internal const string NoEventsReason =
        "Windows exposes no throttle event counter to unprivileged processes";

    internal const string NothingFilledReason =
        "CallNtPowerInformation(ProcessorInformation) succeeded but filled no processor entry";

    private const string Call = "CallNtPowerInformation(ProcessorInformation)";
    private const string CountCall = "GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)";
    private const string RatioSource = "CallNtPowerInformation(ProcessorInformation): 1 - sum of MhzLimit / sum of MaxMhz over the logical processors";

    private readonly IProcessorPowerApi _api;
    private readonly IProbeFailureReporter _failures;
    private ProcessorPowerInformation[] _buffer;

    /// <summary>The probe on this machine's Win32 API.</summary>
    /// <param name="failures">Where failed calls and implausible values are reported.</param>
    [SupportedOSPlatform("windows")]
    public WindowsThermalProbe(IProbeFailureReporter failures)
        : this(new Win32ProcessorPowerApi(), failures)
    {
    }

    /// <summary>The probe on any <see cref="IProcessorPowerApi"/> (tests fake the raw structures).</summary>
    internal WindowsThermalProbe(IProcessorPowerApi api, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(failures);
        _api = api;
        _failures = failures;

        // Without a count, the runtime's (this process's affinity) is a start; a pass grows it when Windows says too small.
        _buffer = new ProcessorPowerInformation[Math.Clamp(CountProcessors() ?? Environment.ProcessorCount, 1, ThermalPlausible.MaxProcessors)];
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Thermal;

    /// <summary>How many entries the reused buffer holds (for tests).</summary>
    internal int BufferLength => _buffer.Length;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        DateTimeOffset now = snapshot.TimeProvider.GetUtcNow();

        int status = Query();
        for (int growths = 0; status == PowerCallError.StatusBufferTooSmall && growths < ThermalPlausible.MaxGrowthsPerPass && _buffer.Length < ThermalPlausible.MaxProcessors; growths++)
        {
            Grow();
            status = Query();
        }

        Reading<double> ratio = PowerCallError.IsSuccess(status)
            ? ThrottleRatio(now)
            : Reading.Unknown<double>(Report(PowerCallError.NtStatusKind, PowerCallError.NtStatus(Call, status)), now);

        snapshot.Thermal = new ThermalFactors
        {
            Level = Reading.NotSupported<ThermalLevel>(NoLevelReason, now),
            ThrottleRatio = ratio,
            HottestCelsius = Reading.NotSupported<double>(NoTemperatureReason, now),
            ThrottleEvents = Reading.NotSupported<long>(NoEventsReason, now),
        };
    }

    /// <summary>
    /// 1 - sum of limits / sum of rated clocks: the capacity-weighted mean loss over the processors
    /// (a limit above the rated clock is no loss). See docs/windows/thermal.md for why the mean and not the worst.
    /// </summary>
    private Reading<double> ThrottleRatio(DateTimeOffset now)
    {
        int filled = 0;
        ulong maxSum = 0, limitSum = 0;
        foreach (ref readonly ProcessorPowerInformation p in _buffer.AsSpan())
        {
            if (p.Number == NotWritten)
            {
                continue;
            }

            filled++;
            if (!ThermalPlausible.ClockMhz.Contains(p.MaxMhz))
            {
                return Reading.Unknown<double>(Implausible(p.Number, "MaxMhz", p.MaxMhz), now);
            }

            if (!ThermalPlausible.ClockMhz.Contains(p.MhzLimit))
            {
                return Reading.Unknown<double>(Implausible(p.Number, "MhzLimit", p.MhzLimit), now);
            }

            maxSum += p.MaxMhz;
            limitSum += Math.Min(p.MhzLimit, p.MaxMhz);
        }

        if (filled == 0)
        {
            return Reading.Unknown<double>(Report(Plausible.OutOfRangeKind, NothingFilledReason), now);
        }

        return Reading.Estimated(Math.Clamp(1 - ((double)limitSum / maxSum), 0, 1), now, RatioSource);
    }

    /// <summary>Marks every entry unwritten and calls; returns the NTSTATUS.</summary>
    private int Query()
    {
        foreach (ref ProcessorPowerInformation p in _buffer.AsSpan())
        {
            p.Number = NotWritten;
        }

        return _api.GetProcessorInformation(_buffer);
    }

    /// <summary>After <c>STATUS_BUFFER_TOO_SMALL</c>: the active count if it is larger, else twice the entries, at most <see cref="ThermalPlausible.MaxProcessors"/>.</summary>
    private void Grow()
    {
        int wanted = Math.Max(CountProcessors() ?? 0, _buffer.Length * 2);
        _buffer = new ProcessorPowerInformation[Math.Min(wanted, ThermalPlausible.MaxProcessors)];
    }

    private int? CountProcessors()
    {
        if (_api.TryGetActiveProcessorCount(out int count, out int error))
        {
            return count;
        }

        Report(PowerCallError.Win32ErrorKind, PowerCallError.Win32(CountCall, error));
        return null;
    }

    private string Implausible(uint processor, string field, uint raw) =>
        Report(Plausible.OutOfRangeKind, Plausible.Reason(
            ThermalPlausible.ClockMhz,
            string.Create(CultureInfo.InvariantCulture, $"{Call}, processor {processor} {field}"),
            raw.ToString(CultureInfo.InvariantCulture)));

    private string Report(string kind, string reason)
    {
        _failures.Report(ProbeName, kind, reason);
        return reason;
    }
}
