using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Gpu;

/// <summary>
/// The node's GPUs on macOS (<see cref="GpuFactors"/>): every <c>IOAccelerator</c> service in the
/// IOKit registry (Apple silicon's AGX GPU, an Intel Mac's integrated and discrete GPUs), its
/// driver's <c>PerformanceStatistics</c> for utilisation and memory, its <c>model</c> and
/// <c>vendor-id</c> for the name and vendor. No sudo, entitlement or subprocess: temperature
/// (except where an AMD driver publishes it), power and throttling are NotSupported with the
/// reason, and the Neural Engine is not listed (<see cref="AcceleratorReadings.NeuralEngineNotSupported"/>).
/// See docs/macos/gpu.md.
/// </summary>
/// <remarks>
/// The registry is searched on every pass: utilisation changes from one second to the next, and
/// a search with a handful of property copies per GPU is what Activity Monitor-style tools such as
/// exelban/stats do every second. DeviceCount is Measured (0 when nothing matched) whenever the
/// search succeeded, and Unknown with the <c>kern_return_t</c> or the conversion's reason when it failed.
/// </remarks>
internal sealed class MacGpuProbe : ISignalProbe
{
    internal const string ProbeName = "macos.gpu";

    /// <summary>The source of <see cref="GpuFactors.DeviceCount"/>.</summary>
    internal const string CountSource = "IOKit IOServiceGetMatchingServices(IOAccelerator)";

    private readonly IMacAcceleratorSource _source;
    private readonly IProbeFailureReporter _failures;
    private readonly AcceleratorReadings _readings;

    /// <summary>The probe on this Mac's registry.</summary>
    [SupportedOSPlatform("macos")]
    public MacGpuProbe(IProbeFailureReporter failures)
        : this(new NativeAccelerators(), failures)
    {
    }

    internal MacGpuProbe(IMacAcceleratorSource source, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(failures);
        _source = source;
        _failures = failures;
        _readings = new AcceleratorReadings(failures, ProbeName);
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Gpu;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        DateTimeOffset now = snapshot.TimeProvider.GetUtcNow();
        AcceleratorScan scan;
        try
        {
            scan = _source.Scan();
        }
        catch (IOException ex)
        {
            snapshot.Gpu = Failed(now, "io", ex.Message);
            return;
        }
        catch (InvalidDataException ex)
        {
            snapshot.Gpu = Failed(now, "garbage", $"IOAccelerator properties: {ex.Message}");
            return;
        }

        IReadOnlyList<IReadOnlyDictionary<string, object>> services = scan.Services;
        var devices = ImmutableArray.CreateBuilder<GpuDevice>(services.Count);
        for (int i = 0; i < services.Count; i++)
        {
            devices.Add(_readings.Read(services[i], i, now));
        }

        Reading<int> count = scan.Found == services.Count
            ? Reading.Measured(scan.Found, now, CountSource)
            : Reading.Unknown<int>(Truncated(scan), now);
        if (scan.Found != services.Count)
        {
            _failures.Report(ProbeName, "out-of-range", Truncated(scan));
        }

        snapshot.Gpu = new GpuFactors
        {
            DeviceCount = count,
            Devices = devices.MoveToImmutable(),
        };
    }

    private static string Truncated(AcceleratorScan scan) => string.Create(CultureInfo.InvariantCulture,
        $"{scan.Found} IOAccelerator services matched, {scan.Services.Count} read (at most {AcceleratorKeys.MaxServices})");

    private GpuFactors Failed(DateTimeOffset now, string kind, string reason)
    {
        _failures.Report(ProbeName, kind, reason);
        return new GpuFactors { DeviceCount = Reading.Unknown<int>(reason, now) };
    }
}
