using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux.Cgroups;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Linux;

/// <summary>
/// Fills <see cref="ContainerFactors"/> from the process's cgroups (v1, v2 or hybrid): CPU quota
/// in cores, memory limit, memory working set and CFS throttling since the previous pass.
/// Runs before <see cref="LinuxComputeProbe"/>, which normalises CPU load by these limits.
/// Limits are re-read every <see cref="Cadence.LimitsInterval"/> (and after a rediscovery or a
/// failed read), the working set every <see cref="Cadence.MemoryInterval"/>; between reads the
/// readings built from the last read are reused with their original observation time.
/// Throttling is read every pass. See docs/linux/containers.md.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class LinuxContainerProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "linux.container";

    private const string FirstSample = "first sample; throttling needs two";
    private const string NoPeriods = "no scheduler period elapsed since the previous sample (the group did not run)";

    private readonly IProbeFailureReporter _failures;
    private readonly CgroupReader _cgroups;
    private readonly Cadence _limits = new(Cadence.LimitsInterval);
    private readonly Cadence _memory = new(Cadence.MemoryInterval);

    // The readings of the last limit and working-set reads, reused until their cadence is due.
    private Reading<ResourceLimit> _cpuLimit;
    private Reading<ResourceLimit> _memoryLimit;
    private Reading<long> _workingSet;
    private int _limitsGeneration;

    // The previous cpu.stat counters, and which file and discovery they came from.
    private bool _hasPrevious;
    private long _previousPeriods;
    private long _previousThrottled;
    private string? _previousSource;
    private int _previousGeneration;

    public LinuxContainerProbe(IOptions<LinuxProbeOptions> options, IProbeFailureReporter failures, CgroupReader cgroups)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(cgroups);
        _failures = failures;
        _cgroups = cgroups;
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Container;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider time = snapshot.TimeProvider;
        _cgroups.Refresh(time);
        DateTimeOffset now = time.GetUtcNow();
        long timestamp = time.GetTimestamp();

        // The limits also decide which level the working set and throttling are read at, so a
        // rediscovery that found other paths (a new Generation) re-reads them at once.
        bool limitsRead = false;
        if (_limits.IsDue(time, timestamp) || _limitsGeneration != _cgroups.Generation)
        {
            CgroupResult<ResourceLimit> cpu = _cgroups.ReadCpuLimit();
            CgroupResult<ResourceLimit> memory = _cgroups.ReadMemoryLimit();
            _cpuLimit = cpu.ToReading(now, _failures, ProbeName);
            _memoryLimit = memory.ToReading(now, _failures, ProbeName);
            _limitsGeneration = _cgroups.Generation;
            _limits.Completed(timestamp, cpu.Status != CgroupStatus.Failed && memory.Status != CgroupStatus.Failed);
            limitsRead = true;
        }

        if (limitsRead || _memory.IsDue(time, timestamp))
        {
            CgroupResult<long> workingSet = _cgroups.ReadMemoryWorkingSet();
            _workingSet = workingSet.ToReading(now, _failures, ProbeName);
            _memory.Completed(timestamp, workingSet.Status != CgroupStatus.Failed);
        }

        ReadThrottling(now, out Reading<long> throttledPeriods, out Reading<double> throttledShare);

        snapshot.Container = new ContainerFactors
        {
            Layout = _cgroups.Layout,
            CpuLimitCores = _cpuLimit,
            MemoryLimitBytes = _memoryLimit,
            MemoryWorkingSetBytes = _workingSet,
            ThrottledPeriods = throttledPeriods,
            ThrottledShare = throttledShare,
        };
    }

    public void Dispose()
    {
        // The cgroup reader is a shared singleton owned by the container; this probe owns no file.
    }

    private void ReadThrottling(DateTimeOffset now, out Reading<long> periodsReading, out Reading<double> shareReading)
    {
        CgroupResult<ThrottleCounters> result = _cgroups.ReadThrottling();
        if (!result.IsOk)
        {
            _hasPrevious = false;
            periodsReading = result.As<long>().ToReading(now, _failures, ProbeName);
            shareReading = result.As<double>().ToReading(now, NullReporter.Instance, ProbeName);
            return;
        }

        ThrottleCounters counters = result.Value;
        if (!counters.HasQuota)
        {
            // Without a quota anywhere up the hierarchy the scheduler cannot throttle the group.
            _hasPrevious = false;
            periodsReading = Reading.Measured(0L, now, result.Text);
            shareReading = Reading.Measured(0.0, now, result.Text);
            return;
        }

        bool comparable = _hasPrevious
            && ReferenceEquals(_previousSource, result.Text)
            && _previousGeneration == _cgroups.Generation;
        long periods = counters.Periods - _previousPeriods;
        long throttled = counters.Throttled - _previousThrottled;
        _hasPrevious = true;
        _previousPeriods = counters.Periods;
        _previousThrottled = counters.Throttled;
        _previousSource = result.Text;
        _previousGeneration = _cgroups.Generation;

        if (!comparable)
        {
            periodsReading = Reading.Unknown<long>(FirstSample, now);
            shareReading = Reading.Unknown<double>(FirstSample, now);
            return;
        }

        if (periods < 0 || throttled < 0 || throttled > periods)
        {
            string reason = $"{result.Text}: counters went backwards or are inconsistent (nr_periods changed by {periods}, nr_throttled by {throttled} since the previous sample); the next sample starts afresh";
            _failures.Report(ProbeName, "out-of-range", reason);
            periodsReading = Reading.Unknown<long>(reason, now);
            shareReading = Reading.Unknown<double>(reason, now);
            return;
        }

        periodsReading = Reading.Measured(throttled, now, result.Text);

        // A share of a rate from two counters is derived: Estimated, as the model defines it.
        shareReading = periods == 0
            ? Reading.Estimated(0.0, now, NoPeriods)
            : Reading.Estimated((double)throttled / periods, now, result.Text);
    }

    /// <summary>Swallows reports: used where the same failure was already reported for a sibling reading.</summary>
    private sealed class NullReporter : IProbeFailureReporter
    {
        public static readonly NullReporter Instance = new();

        public void Report(string probe, string reason, string detail)
        {
        }
    }
}
