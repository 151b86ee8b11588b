using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Container;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Compute;

/// <summary>
/// Fills <see cref="ComputeFactors"/> on Windows: effective cores (the logical processors of all
/// groups, bounded by a job's CPU hard cap), CPU utilisation from <c>GetSystemTimes</c> deltas
/// (or, under a binding cap, the job's own CPU time over the cap), and physical memory from
/// <c>GlobalMemoryStatusEx</c> bounded by the job's memory limit. Windows has no load average and
/// no pressure stall information: those readings are NotSupported. Runs after
/// <see cref="WindowsContainerProbe"/> and reads its readings from the snapshot. CPU counters are
/// read every pass, memory every <see cref="Cadence.MemoryInterval"/> (or at once when the
/// container's memory readings change). See docs/windows/compute.md.
/// </summary>
internal sealed class WindowsComputeProbe : ISignalProbe
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "windows.compute";

    private const string FirstSample = "first sample; utilisation needs two";
    private const string BoundChanged = "the CPU bound (a job's CPU hard cap) changed; utilisation needs two samples of the new counter";
    private const string NoTimeElapsed = "no time elapsed between samples";
    private const string SystemTimesSource = "GetSystemTimes: (kernel - idle + user) / (kernel + user) since the previous sample";
    private const string JobTimeSource = "QueryInformationJobObject(JobObjectBasicAccountingInformation): the job's CPU time over its CPU hard cap x wall time";
    private const string HostFallbackSource = "GetSystemTimes busy processors divided by the effective cores (the job's CPU time could not be read)";
    private const string ProcessorsSource = "GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)";
    private const string CapUnknownSource = "GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) only: the job's CPU cap is unknown, so this is an upper bound";
    private const string MemorySource = "GlobalMemoryStatusEx";
    private const string MemoryLimitUnknownSource = "GlobalMemoryStatusEx: the job memory limit is unknown, so this is an upper bound";
    private const string WorkingSetUnknownSource = "GlobalMemoryStatusEx and the job memory limit: the memory charged to the job is unknown, so this is an upper bound";
    private const string NoLoadAverage = "Windows has no load average (no run-queue length is kept for it)";
    private const string NoPsi = "Windows has no pressure stall information (PSI is a Linux kernel feature)";

    private readonly IWindowsComputeApi _api;
    private readonly IProbeFailureReporter _failures;
    private readonly Cadence _memoryCadence = new(Cadence.MemoryInterval);

    // The memory readings of the last GlobalMemoryStatusEx, and the container readings they were built from.
    private Reading<long> _memoryTotal;
    private Reading<long> _memoryAvailable;
    private Reading<long> _memoryUsed;
    private Reading<ResourceLimit> _memoryBuiltWithLimit;
    private Reading<long> _memoryBuiltWithWorkingSet;

    // Baselines of the previous pass.
    private Mode _previousMode = Mode.None;
    private bool _hasPreviousHost;
    private SystemTimes _previousHost;
    private ulong _previousJobTime;
    private long _previousTimestamp;

    /// <summary>Reads through kernel32.</summary>
    /// <param name="failures">Where failed calls and implausible values are reported.</param>
    [SupportedOSPlatform("windows")]
    public WindowsComputeProbe(IProbeFailureReporter failures)
        : this(new Win32ComputeApi(), failures)
    {
    }

    /// <summary>Reads through <paramref name="api"/> (a fake in the logic tests).</summary>
    internal WindowsComputeProbe(IWindowsComputeApi api, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(failures);
        _api = api;
        _failures = failures;
    }

    /// <summary>Which counter utilisation is computed from.</summary>
    private enum Mode
    {
        None,

        /// <summary>GetSystemTimes: no job cap is tighter than the machine.</summary>
        Host,

        /// <summary>The job's CPU time over cap x wall time (a hard cap is the binding bound).</summary>
        Job,

        /// <summary>Cap binding but the job's CPU time unreadable: the machine's busy processors over the effective cores.</summary>
        JobFromHost,
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Compute;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider time = snapshot.TimeProvider;
        long timestamp = time.GetTimestamp();
        DateTimeOffset now = time.GetUtcNow();
        ContainerFactors container = snapshot.Container;

        Reading<double> effective = EffectiveCores(container.CpuLimitCores, now, out double hostCores, out bool capBinds);
        Mode mode = !effective.HasValue ? Mode.None : capBinds ? Mode.Job : Mode.Host;
        Reading<double> utilization = Utilization(mode, effective, hostCores, timestamp, time, now);

        if (_memoryCadence.IsDue(time, timestamp)
            || container.MemoryLimitBytes != _memoryBuiltWithLimit
            || container.MemoryWorkingSetBytes != _memoryBuiltWithWorkingSet)
        {
            bool ok = ReadMemory(container, now);
            _memoryBuiltWithLimit = container.MemoryLimitBytes;
            _memoryBuiltWithWorkingSet = container.MemoryWorkingSetBytes;
            _memoryCadence.Completed(timestamp, ok);
        }

        snapshot.Compute = new ComputeFactors
        {
            EffectiveCores = effective,
            CpuUtilization = utilization,
            LoadPerCore = Reading.NotSupported<double>(NoLoadAverage, now),
            CpuPressure = Reading.NotSupported<double>(NoPsi, now),
            MemoryPressure = Reading.NotSupported<double>(NoPsi, now),
            MemoryTotalBytes = _memoryTotal,
            MemoryAvailableBytes = _memoryAvailable,
            MemoryUsedBytes = _memoryUsed,
        };
    }

    private Reading<double> EffectiveCores(Reading<ResourceLimit> cap, DateTimeOffset now, out double hostCores, out bool capBinds)
    {
        hostCores = 0;
        capBinds = false;
        if (!_api.TryGetActiveProcessorCount(out int processors, out int error))
        {
            return Reading.Unknown<double>(Fail(Win32Error.CallFailedKind, Win32Error.Describe(ProcessorsSource, error)), now);
        }

        if (!ComputePlausible.ProcessorCount.Contains(processors))
        {
            return Reading.Unknown<double>(Fail(Plausible.OutOfRangeKind, Plausible.Reason(ComputePlausible.ProcessorCount, ProcessorsSource, processors.ToString(CultureInfo.InvariantCulture))), now);
        }

        hostCores = processors;

        // NotSupported would mean no job support at all: no cap. Unknown: the machine's count is an upper bound.
        if (!cap.HasValue && cap.Quality != SignalQuality.NotSupported)
        {
            return Reading.Estimated(hostCores, now, CapUnknownSource);
        }

        ResourceLimit limit = cap.GetValueOrDefault(ResourceLimit.Unlimited);
        if (!limit.IsUnlimited && limit.Amount < hostCores)
        {
            capBinds = true;
            return Reading.Measured(limit.Amount, now, cap.Source!);
        }

        return Reading.Measured(hostCores, now, ProcessorsSource);
    }

    private Reading<double> Utilization(Mode mode, Reading<double> effective, double hostCores, long timestamp, TimeProvider time, DateTimeOffset now)
    {
        // The machine's counters are kept every pass: the job fallback needs them when the job's counter fails.
        bool hostOk = _api.TryGetSystemTimes(out SystemTimes host, out int hostError);
        bool hostComparable = hostOk && _hasPreviousHost;
        SystemTimes previousHost = _previousHost;
        if (hostOk)
        {
            _previousHost = host;
        }

        _hasPreviousHost = hostOk;

        Mode previousMode = _previousMode;
        TimeSpan wall = time.GetElapsedTime(_previousTimestamp, timestamp);
        _previousTimestamp = timestamp;
        _previousMode = mode;
        if (mode == Mode.None)
        {
            return Reading.Unknown<double>(effective.Reason ?? "effective cores unknown", now);
        }

        if (mode == Mode.Job)
        {
            if (_api.TryGetJobCpuTime(out ulong jobTime, out int jobError))
            {
                long used = (long)(jobTime - _previousJobTime);
                _previousJobTime = jobTime;
                if (previousMode != Mode.Job)
                {
                    return Reading.Unknown<double>(previousMode == Mode.None ? FirstSample : BoundChanged, now);
                }

                if (used < 0)
                {
                    return Backwards("QueryInformationJobObject(JobObjectBasicAccountingInformation)", now);
                }

                if (wall <= TimeSpan.Zero)
                {
                    return Reading.Unknown<double>(NoTimeElapsed, now);
                }

                // 100 ns units over cores x wall; a job can briefly pass its cap within an interval: clamp to 1.
                double share = used / (effective.GetValueOrDefault(default) * wall.Ticks);
                return Reading.Estimated(Math.Clamp(share, 0, 1), now, JobTimeSource);
            }

            Fail(Win32Error.CallFailedKind, Win32Error.Describe("QueryInformationJobObject(JobObjectBasicAccountingInformation)", jobError));
            mode = Mode.JobFromHost;
            _previousMode = mode;
        }

        if (!hostOk)
        {
            return Reading.Unknown<double>(Fail(Win32Error.CallFailedKind, Win32Error.Describe("GetSystemTimes", hostError)), now);
        }

        if (!hostComparable)
        {
            return Reading.Unknown<double>(FirstSample, now);
        }

        // The machine's counters are kept every pass, so they stay comparable when a cap comes or goes.
        long idle = (long)(host.Idle - previousHost.Idle);
        long kernel = (long)(host.Kernel - previousHost.Kernel);
        long user = (long)(host.User - previousHost.User);
        if (idle < 0 || kernel < 0 || user < 0)
        {
            return Backwards("GetSystemTimes", now);
        }

        if (idle > kernel)
        {
            string reason = Plausible.Exceeds(
                "idle time increase", "GetSystemTimes", idle.ToString(CultureInfo.InvariantCulture),
                "kernel time increase", "GetSystemTimes", kernel.ToString(CultureInfo.InvariantCulture),
                ComputePlausible.IdleAboveKernelWhy);
            return Reading.Unknown<double>(Fail(Plausible.OutOfRangeKind, reason), now);
        }

        // Each increase fits a signed 64-bit count, their sum may not (a counter jumped by centuries):
        // wrapped, it would make a busy share outside 0..1, which the model refuses.
        if (user > long.MaxValue - kernel)
        {
            string reason = string.Create(CultureInfo.InvariantCulture,
                $"implausible kernel plus user time increase in GetSystemTimes: {kernel} + {user} (100 ns units) passes a 64-bit count");
            return Reading.Unknown<double>(Fail(Plausible.OutOfRangeKind, reason), now);
        }

        long total = kernel + user;
        if (total == 0)
        {
            return Reading.Unknown<double>(NoTimeElapsed, now);
        }

        double busyShare = (double)(kernel - idle + user) / total;
        if (mode == Mode.JobFromHost)
        {
            return Reading.Estimated(Math.Clamp(busyShare * hostCores / effective.GetValueOrDefault(default), 0, 1), now, HostFallbackSource);
        }

        return Reading.Estimated(busyShare, now, SystemTimesSource);
    }

    private Reading<double> Backwards(string source, DateTimeOffset now) =>
        Reading.Unknown<double>(Fail(Plausible.OutOfRangeKind, $"{source}: CPU counters went backwards; the next sample starts afresh"), now);

    /// <returns>False when the call failed or its values are implausible (the readings are then Unknown).</returns>
    private bool ReadMemory(ContainerFactors container, DateTimeOffset now)
    {
        if (!_api.TryGetPhysicalMemory(out PhysicalMemory memory, out int error))
        {
            string reason = Fail(Win32Error.CallFailedKind, Win32Error.Describe(MemorySource, error));
            _memoryTotal = _memoryAvailable = _memoryUsed = Reading.Unknown<long>(reason, now);
            return false;
        }

        if (!ComputePlausible.PhysicalMemoryBytes.Contains(memory.TotalBytes))
        {
            string reason = Fail(Plausible.OutOfRangeKind, Plausible.Reason(ComputePlausible.PhysicalMemoryBytes, $"{MemorySource} ullTotalPhys", memory.TotalBytes.ToString(CultureInfo.InvariantCulture)));
            _memoryTotal = _memoryAvailable = _memoryUsed = Reading.Unknown<long>(reason, now);
            return false;
        }

        long total = (long)memory.TotalBytes;
        if (memory.AvailableBytes > memory.TotalBytes)
        {
            string reason = Fail(Plausible.OutOfRangeKind, Plausible.Exceeds(
                "available memory", $"{MemorySource} ullAvailPhys", memory.AvailableBytes.ToString(CultureInfo.InvariantCulture),
                "physical memory", $"{MemorySource} ullTotalPhys", memory.TotalBytes.ToString(CultureInfo.InvariantCulture),
                ComputePlausible.AvailableAboveTotalWhy));
            _memoryTotal = Reading.Measured(total, now, MemorySource);
            _memoryAvailable = _memoryUsed = Reading.Unknown<long>(reason, now);
            return false;
        }

        long available = (long)memory.AvailableBytes;
        Reading<ResourceLimit> limitReading = container.MemoryLimitBytes;
        Reading<long> workingSet = container.MemoryWorkingSetBytes;
        if (limitReading.HasValue && !limitReading.GetValueOrDefault(default).IsUnlimited)
        {
            long limit = (long)limitReading.GetValueOrDefault(default).Amount;

            // A limit above physical memory does not bind the total: the machine's figures stand.
            bool binding = limit < total;
            _memoryTotal = binding ? Reading.Measured(limit, now, limitReading.Source!) : Reading.Measured(total, now, MemorySource);
            if (workingSet.HasValue)
            {
                long left = Math.Max(0, limit - workingSet.GetValueOrDefault(default));
                _memoryAvailable = Reading.Measured(Math.Min(available, left), now, left < available ? workingSet.Source! : MemorySource);
                _memoryUsed = binding
                    ? Reading.Measured(workingSet.GetValueOrDefault(default), now, workingSet.Source!)
                    : Reading.Measured(total - available, now, MemorySource);
            }
            else
            {
                _memoryAvailable = Reading.Estimated(Math.Min(available, limit), now, WorkingSetUnknownSource);
                _memoryUsed = binding
                    ? Reading.Unknown<long>(workingSet.Reason ?? "the memory charged to the job is unknown", now)
                    : Reading.Measured(total - available, now, MemorySource);
            }

            return true;
        }

        // No limit (not in a job, or a job without one). An unknown limit makes the machine's figures an upper bound.
        bool limitUnknown = !limitReading.HasValue && limitReading.Quality != SignalQuality.NotSupported;
        _memoryTotal = limitUnknown ? Reading.Estimated(total, now, MemoryLimitUnknownSource) : Reading.Measured(total, now, MemorySource);
        _memoryAvailable = limitUnknown ? Reading.Estimated(available, now, MemoryLimitUnknownSource) : Reading.Measured(available, now, MemorySource);
        _memoryUsed = Reading.Measured(total - available, now, MemorySource);
        return true;
    }

    private string Fail(string kind, string reason)
    {
        _failures.Report(ProbeName, kind, reason);
        return reason;
    }
}
