using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Compute;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Container;

/// <summary>
/// Fills <see cref="ContainerFactors"/> from the job object this process runs in (a Windows
/// container, a service host or a CI runner puts its processes in one): the CPU hard cap in
/// cores, the job or process memory limit and the memory charged against it. Throttling has no
/// counter on Windows. Not in a job: no limits (Unlimited), as Linux reads a cgroup without one.
/// Runs before <see cref="Compute.WindowsComputeProbe"/>, which bounds cores and memory by these
/// readings. Membership and limits are re-read every <see cref="Cadence.LimitsInterval"/>, the
/// memory usage every <see cref="Cadence.MemoryInterval"/>; in between the last readings are
/// reused with their observation time. See docs/windows/containers.md.
/// </summary>
internal sealed class WindowsContainerProbe : ISignalProbe
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "windows.container";

    /// <summary>The failure kind reported when the system answers a query with a stub (Wine's job limits).</summary>
    internal const string NotImplementedKind = "not-implemented";

    private const string NotInJob = "IsProcessInJob: the process is in no job object, so nothing limits it";
    private const string NotInJobUsage = "the process is in no job object: there is no job whose memory to count (the compute probe reads the machine's memory)";
    private const string NoThrottleCounter = "Windows keeps no count of the scheduling intervals in which a job reached its CPU hard cap (job objects have no throttling counter)";
    private const string NotThrottledNoJob = "IsProcessInJob: in no job object, so no CPU cap can throttle the process";
    private const string NotThrottledNoCap = "QueryInformationJobObject(JobObjectCpuRateControlInformation): the job has no CPU hard cap, so nothing throttles it";
    private const string RateSource = "QueryInformationJobObject(JobObjectCpuRateControlInformation)";
    private const string LimitSource = "QueryInformationJobObject(JobObjectExtendedLimitInformation)";
    private const string JobUsageSource = "QueryInformationJobObject(JobObjectMemoryUsageInformation) JobMemory: memory committed by the job's processes";
    private const string ProcessUsageSource = "K32GetProcessMemoryInfo PrivateUsage: this process's commit, which the process memory limit applies to";

    private readonly IWindowsJobApi _api;
    private readonly IProbeFailureReporter _failures;
    private readonly Cadence _limits = new(Cadence.LimitsInterval);
    private readonly Cadence _memory = new(Cadence.MemoryInterval);

    // The readings of the last membership and limit read, reused until their cadence is due.
    private Reading<ResourceLimit> _cpuLimit;
    private Reading<ResourceLimit> _memoryLimit;
    private Reading<long> _workingSet;
    private Reading<long> _throttledPeriods;
    private Reading<double> _throttledShare;

    // What the working set is read from, decided with the limits.
    private UsageSource _usageSource;
    private string? _usageUnknownReason;

    /// <summary>Reads this process's job through kernel32.</summary>
    /// <param name="failures">Where failed calls are reported.</param>
    [SupportedOSPlatform("windows")]
    public WindowsContainerProbe(IProbeFailureReporter failures)
        : this(new Win32JobApi(), failures)
    {
    }

    /// <summary>Reads through <paramref name="api"/> (a fake in the logic tests).</summary>
    internal WindowsContainerProbe(IWindowsJobApi api, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(failures);
        _api = api;
        _failures = failures;
    }

    /// <summary>Which usage figure the binding memory limit is checked against.</summary>
    private enum UsageSource
    {
        /// <summary>No working set to read (not in a job, or the limits failed): the reading is kept as built.</summary>
        None,

        /// <summary>The job's commit (a job limit binds, or no limit binds).</summary>
        Job,

        /// <summary>This process's commit (the per-process limit is the smaller).</summary>
        Process,
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Container;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider time = snapshot.TimeProvider;
        DateTimeOffset now = time.GetUtcNow();
        long timestamp = time.GetTimestamp();

        bool limitsRead = false;
        if (_limits.IsDue(time, timestamp))
        {
            bool ok = ReadLimits(now);
            _limits.Completed(timestamp, ok);
            limitsRead = true;
        }

        if (limitsRead || _memory.IsDue(time, timestamp))
        {
            _memory.Completed(timestamp, ReadUsage(now));
        }

        snapshot.Container = new ContainerFactors
        {
            Layout = CgroupLayout.None,
            CpuLimitCores = _cpuLimit,
            MemoryLimitBytes = _memoryLimit,
            MemoryWorkingSetBytes = _workingSet,
            ThrottledPeriods = _throttledPeriods,
            ThrottledShare = _throttledShare,
        };
    }

    /// <returns>False when a call failed (the next pass reads again).</returns>
    private bool ReadLimits(DateTimeOffset now)
    {
        if (!_api.TryIsProcessInJob(out bool inJob, out int error))
        {
            string reason = Fail(Win32Error.Describe("IsProcessInJob(GetCurrentProcess(), NULL)", error));
            _cpuLimit = _memoryLimit = Reading.Unknown<ResourceLimit>(reason, now);
            _throttledPeriods = Reading.Unknown<long>(reason, now);
            _throttledShare = Reading.Unknown<double>(reason, now);
            _usageSource = UsageSource.None;
            _usageUnknownReason = reason;
            return false;
        }

        if (!inJob)
        {
            _cpuLimit = _memoryLimit = Reading.Measured(ResourceLimit.Unlimited, now, NotInJob);
            _throttledPeriods = Reading.Measured(0L, now, NotThrottledNoJob);
            _throttledShare = Reading.Measured(0.0, now, NotThrottledNoJob);
            _usageSource = UsageSource.None;
            _usageUnknownReason = null;
            _workingSet = Reading.NotSupported<long>(NotInJobUsage, now);
            return true;
        }

        bool cpuOk = ReadCpuLimit(now, out bool hardCap);
        if (!cpuOk)
        {
            string reason = $"throttling cannot be attributed: the CPU cap could not be read ({_cpuLimit.Reason})";
            _throttledPeriods = Reading.Unknown<long>(reason, now);
            _throttledShare = Reading.Unknown<double>(reason, now);
        }
        else if (hardCap)
        {
            _throttledPeriods = Reading.NotSupported<long>(NoThrottleCounter, now);
            _throttledShare = Reading.NotSupported<double>(NoThrottleCounter, now);
        }
        else
        {
            _throttledPeriods = Reading.Measured(0L, now, NotThrottledNoCap);
            _throttledShare = Reading.Measured(0.0, now, NotThrottledNoCap);
        }

        bool memoryOk = ReadMemoryLimit(now);
        return cpuOk && memoryOk;
    }

    /// <returns>False when the query failed or the values are implausible; <paramref name="hardCap"/> is true when a cap binds the job.</returns>
    private bool ReadCpuLimit(DateTimeOffset now, out bool hardCap)
    {
        hardCap = false;
        if (!_api.TryQueryCpuRateControl(out JobCpuRateControl rate, out int error))
        {
            _cpuLimit = Reading.Unknown<ResourceLimit>(Fail(Win32Error.Describe(RateSource, error)), now);
            return false;
        }

        uint flags = rate.ControlFlags;
        if ((flags & JobCpuRateControl.Enable) == 0)
        {
            _cpuLimit = Reading.Measured(ResourceLimit.Unlimited, now, $"{RateSource}: CPU rate control is off");
            return true;
        }

        if ((flags & JobCpuRateControl.WeightBased) != 0)
        {
            // A weight shares the CPUs among busy jobs; an idle machine lets the job use all of them.
            _cpuLimit = Reading.Measured(ResourceLimit.Unlimited, now, Invariant(
                $"{RateSource}: weight-based rate control (weight {rate.CpuRateOrWeight}) shares the CPUs among busy jobs; it is not a cap"));
            return true;
        }

        uint raw;
        string what;
        if ((flags & JobCpuRateControl.MinMaxRate) != 0)
        {
            raw = rate.MaxRate;
            what = "MaxRate";
        }
        else if ((flags & JobCpuRateControl.HardCap) != 0)
        {
            raw = rate.CpuRateOrWeight;
            what = "hard-cap CpuRate";
        }
        else
        {
            _cpuLimit = Reading.Measured(ResourceLimit.Unlimited, now, Invariant(
                $"{RateSource}: CpuRate {rate.CpuRateOrWeight} without JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP is a target the job may exceed while CPUs are idle; it is not a cap"));
            return true;
        }

        if (!JobPlausible.CpuRate.Contains(raw))
        {
            _cpuLimit = Reading.Unknown<ResourceLimit>(OutOfRange(Plausible.Reason(JobPlausible.CpuRate, $"{RateSource} {what}", raw.ToString(CultureInfo.InvariantCulture))), now);
            return false;
        }

        if (!_api.TryGetActiveProcessorCount(out int processors, out error))
        {
            _cpuLimit = Reading.Unknown<ResourceLimit>(Fail(Win32Error.Describe("GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)", error)), now);
            return false;
        }

        // The compute probe's range (1 to the model's 65 536): a count outside it would make a cap the model refuses.
        if (!ComputePlausible.ProcessorCount.Contains(processors))
        {
            _cpuLimit = Reading.Unknown<ResourceLimit>(OutOfRange(Plausible.Reason(ComputePlausible.ProcessorCount, "GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)", processors.ToString(CultureInfo.InvariantCulture))), now);
            return false;
        }

        // CpuRate is a share of every processor's cycles in 1/100 %: 2500 of 8 processors is 2 cores.
        double cores = raw / 10_000.0 * processors;
        hardCap = true;
        _cpuLimit = Reading.Measured(ResourceLimit.Of(cores), now, Invariant(
            $"{RateSource}: {what} {raw} (1/100 %) of {processors} processors"));
        return true;
    }

    private bool ReadMemoryLimit(DateTimeOffset now)
    {
        _usageUnknownReason = null;
        if (!_api.TryQueryMemoryLimits(out JobMemoryLimits limits, out int error))
        {
            string reason = Fail(Win32Error.Describe(LimitSource, error));
            _memoryLimit = Reading.Unknown<ResourceLimit>(reason, now);
            _usageSource = UsageSource.None;
            _usageUnknownReason = $"the memory charged to the job cannot be attributed: its limit could not be read ({reason})";
            return false;
        }

        if (_api.MemoryLimitsUnreadable is { } unreadable)
        {
            // Reported once per limits read: the reading is Unknown, not "no limit".
            _failures.Report(ProbeName, NotImplementedKind, unreadable);
            string reason = unreadable;
            _memoryLimit = Reading.Unknown<ResourceLimit>(reason, now);
            _usageSource = UsageSource.None;
            _usageUnknownReason = $"the memory charged to the job cannot be attributed: its limit could not be read ({reason})";
            return true;
        }

        ResourceLimit limit = ResourceLimit.Unlimited;
        string source = $"{LimitSource}: neither JOB_OBJECT_LIMIT_JOB_MEMORY nor JOB_OBJECT_LIMIT_PROCESS_MEMORY is set";
        UsageSource usage = UsageSource.Job;
        if ((limits.LimitFlags & JobMemoryLimits.JobMemory) != 0)
        {
            if (!TryLimit(limits.JobMemoryLimit, "JobMemoryLimit", now, out ResourceLimit job, out string jobSource))
            {
                return false;
            }

            limit = job;
            source = jobSource;
        }

        if ((limits.LimitFlags & JobMemoryLimits.ProcessMemory) != 0)
        {
            if (!TryLimit(limits.ProcessMemoryLimit, "ProcessMemoryLimit", now, out ResourceLimit process, out string processSource))
            {
                return false;
            }

            if (!process.IsUnlimited && (limit.IsUnlimited || process.Amount < limit.Amount))
            {
                limit = process;
                source = processSource;
                usage = UsageSource.Process;
            }
        }

        _memoryLimit = Reading.Measured(limit, now, source);
        _usageSource = usage;
        return true;
    }

    private bool TryLimit(ulong raw, string field, DateTimeOffset now, out ResourceLimit limit, out string source)
    {
        string text = raw.ToString(CultureInfo.InvariantCulture);
        if (raw >= JobPlausible.UnboundedMemoryLimitBytes)
        {
            limit = ResourceLimit.Unlimited;
            source = $"{LimitSource}: {field} {text} bytes is above 2^63 and binds nothing";
            return true;
        }

        if (!JobPlausible.MemoryLimitBytes.Contains(raw))
        {
            string reason = OutOfRange(Plausible.Reason(JobPlausible.MemoryLimitBytes, $"{LimitSource} {field}", text));
            _memoryLimit = Reading.Unknown<ResourceLimit>(reason, now);
            _usageSource = UsageSource.None;
            _usageUnknownReason = $"the memory charged to the job cannot be attributed: its limit is implausible ({reason})";
            limit = default;
            source = reason;
            return false;
        }

        limit = ResourceLimit.Of(raw);
        source = $"{LimitSource} {field}";
        return true;
    }

    /// <returns>False when a call failed (the next pass reads again).</returns>
    private bool ReadUsage(DateTimeOffset now)
    {
        switch (_usageSource)
        {
            case UsageSource.Job:
                if (!_api.TryQueryJobMemoryUsage(out ulong jobBytes, out int jobError))
                {
                    _workingSet = Reading.Unknown<long>(Fail(Win32Error.Describe("QueryInformationJobObject(JobObjectMemoryUsageInformation)", jobError)), now);
                    return false;
                }

                _workingSet = Reading.Measured((long)Math.Min(jobBytes, long.MaxValue), now, JobUsageSource);
                return true;
            case UsageSource.Process:
                if (!_api.TryGetProcessCommit(out ulong processBytes, out int processError))
                {
                    _workingSet = Reading.Unknown<long>(Fail(Win32Error.Describe("K32GetProcessMemoryInfo", processError)), now);
                    return false;
                }

                _workingSet = Reading.Measured((long)Math.Min(processBytes, long.MaxValue), now, ProcessUsageSource);
                return true;
            default:
                if (_usageUnknownReason is { } reason)
                {
                    _workingSet = Reading.Unknown<long>(reason, now);
                }

                return true;
        }
    }

    private string Fail(string reason)
    {
        _failures.Report(ProbeName, Win32Error.CallFailedKind, reason);
        return reason;
    }

    private string OutOfRange(string reason)
    {
        _failures.Report(ProbeName, Plausible.OutOfRangeKind, reason);
        return reason;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
