using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux.Cgroups;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Linux;

/// <summary>
/// Fills <see cref="ComputeFactors"/>: effective cores (host CPUs bounded by the cgroup CPU quota
/// and cpuset), CPU utilisation relative to those cores, load per core, PSI pressure and memory
/// bounded by the cgroup limit. Runs after <see cref="LinuxContainerProbe"/> and reads the
/// container limits from the snapshot. /proc/stat, loadavg and PSI are read every pass; the
/// cpuset every <see cref="Cadence.LimitsInterval"/> and /proc/meminfo every
/// <see cref="Cadence.MemoryInterval"/>, the memory readings built from it being reused, with
/// their observation time, until then. See docs/linux/compute.md.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class LinuxComputeProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "linux.compute";

    /// <summary>
    /// How often files that were absent (PSI on kernels before 4.20, the sysfs CPU list in some
    /// containers) are looked for again: 30 s, like device rediscovery, so that an absent file
    /// costs no failed open on every pass.
    /// </summary>
    internal static readonly TimeSpan RediscoverInterval = Rediscovery.DefaultInterval;

    private const string FirstSample = "first sample; utilisation needs two";
    private const string BoundChanged = "the CPU bound (quota, cpuset or cgroup) changed; utilisation needs two samples of the new counter";
    private const string NoTimeElapsed = "no time elapsed between samples";
    private const string HostFallbackSource = "/proc/stat busy CPUs of the host divided by the effective cores (the cgroup has no CPU usage counter)";
    private const string QuotaUnknownSource = "host CPUs and cpuset only: the CPU quota is unknown, so this is an upper bound";
    private const string MemoryLimitUnknownSource = "/proc/meminfo: the container memory limit is unknown, so this is an upper bound";
    private const string WorkingSetUnknownSource = "/proc/meminfo and the memory limit: the working set is unknown, so this is an upper bound";
    private const string NoMemAvailable = "/proc/meminfo has no MemAvailable (Linux before 3.14)";
    private const string NoPsi = "no PSI file (kernel before 4.20, or PSI disabled with psi=0)";

    // USER_HZ ticks; /proc/stat counters are unsigned long.
    private const int StatFields = 8;

    private readonly IProbeFailureReporter _failures;
    private readonly CgroupReader _cgroups;
    private readonly string _onlinePath;
    private readonly string _statPath;
    private readonly string _statCoresSource;
    private readonly string _loadAvgPath;
    private readonly string _memInfoPath;
    private readonly string _cpuPressurePath;
    private readonly string _memoryPressurePath;
    private readonly KernelFile _stat;
    private readonly KernelFile _loadAvg;
    private readonly KernelFile _memInfo;
    private readonly KernelFile _online;
    private readonly KernelFile _cpuPressure;
    private readonly KernelFile _memoryPressure;
    private readonly Cadence _cpusetCadence = new(Cadence.LimitsInterval);
    private readonly Cadence _memoryCadence = new(Cadence.MemoryInterval);

    // One bit per CPU of the cgroup's cpuset, and the set the previous cpuset sample used.
    private readonly ulong[] _cpuset = new ulong[(CgroupText.MaxCpuId + 1) / 64];
    private readonly ulong[] _previousCpuset = new ulong[(CgroupText.MaxCpuId + 1) / 64];

    private bool _hasOnline;

    // The last cpuset read (its bits are in _cpuset) and the cgroup generation it was read under.
    private CgroupResult<int> _cpusetResult;
    private int _cpusetGeneration;

    // The memory readings of the last /proc/meminfo read, and the container readings they were built from.
    private Reading<long> _memoryTotal;
    private Reading<long> _memoryAvailable;
    private Reading<long> _memoryUsed;
    private Reading<ResourceLimit> _memoryBuiltWithLimit;
    private Reading<long> _memoryBuiltWithWorkingSet;

    // CPUs in the sysfs online list when it was last read; 0 = read it on the next pass.
    private int _onlineCount;
    private bool _hasCpuPressure;
    private bool _hasMemoryPressure;
    private long? _checkedAt;

    // Baselines of the previous pass.
    private Mode _previousMode = Mode.None;
    private ulong _previousBusy;
    private ulong _previousIdle;
    private ulong _previousHostBusy;
    private ulong _previousHostIdle;
    private bool _hasPreviousHost;
    private long _previousUsage;
    private long _previousTimestamp;
    private string? _previousUsageSource;
    private int _previousGeneration;

    public LinuxComputeProbe(IOptions<LinuxProbeOptions> options, IProbeFailureReporter failures, CgroupReader cgroups)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(cgroups);
        LinuxProbeOptions o = options.Value;
        _failures = failures;
        _cgroups = cgroups;
        _onlinePath = Path.Join(o.SysRoot, "devices", "system", "cpu", "online");
        _statPath = Path.Join(o.ProcRoot, "stat");
        _statCoresSource = _statPath + " (cpuN lines)";
        _loadAvgPath = Path.Join(o.ProcRoot, "loadavg");
        _memInfoPath = Path.Join(o.ProcRoot, "meminfo");
        _cpuPressurePath = Path.Join(o.ProcRoot, "pressure", "cpu");
        _memoryPressurePath = Path.Join(o.ProcRoot, "pressure", "memory");
        _stat = new KernelFile(_statPath);
        _loadAvg = new KernelFile(_loadAvgPath);
        _memInfo = new KernelFile(_memInfoPath);
        _online = new KernelFile(_onlinePath);
        _cpuPressure = new KernelFile(_cpuPressurePath);
        _memoryPressure = new KernelFile(_memoryPressurePath);
        CheckOptionalFiles();
    }

    /// <summary>Which counter utilisation is computed from.</summary>
    private enum Mode
    {
        None,

        /// <summary>The aggregate "cpu" line of /proc/stat: no cgroup bound is tighter than the host.</summary>
        Host,

        /// <summary>The cpuN lines of the CPUs in the cgroup's cpuset (tighter than the host, no tighter quota).</summary>
        Cpuset,

        /// <summary>The cgroup's own CPU usage over quota x wall time (the quota is the binding bound).</summary>
        Quota,

        /// <summary>Quota binding but the group has no usage counter: host busy CPUs over the effective cores.</summary>
        QuotaFromHost,
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Compute;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider time = snapshot.TimeProvider;
        _cgroups.Refresh(time);
        long timestamp = time.GetTimestamp();
        if (_checkedAt is not { } checkedAt)
        {
            _checkedAt = timestamp;
        }
        else if (time.GetElapsedTime(checkedAt, timestamp) >= RediscoverInterval)
        {
            CheckOptionalFiles();
            _checkedAt = timestamp;
        }

        DateTimeOffset now = time.GetUtcNow();

        // The cpuset first: the /proc/stat pass sums the lines of its CPUs.
        if (_cpusetCadence.IsDue(time, timestamp) || _cpusetGeneration != _cgroups.Generation)
        {
            _cpusetResult = _cgroups.ReadCpuset(_cpuset);
            _cpusetResult.ReportIfFailed(_failures, ProbeName);
            _cpusetGeneration = _cgroups.Generation;
            _cpusetCadence.Completed(timestamp, _cpusetResult.Status != CgroupStatus.Failed);
        }

        CgroupResult<int> cpuset = _cpusetResult;

        bool statOk = ReadStat(cpuset.IsOk, out CpuTimes host, out CpuTimes inSet, out int statCpus, out string? statError);
        (double hostCores, string? hostSource, string? hostError) = ReadHostCores(statOk, statCpus, statError);

        // Bounds: quota from the container probe (NotSupported = no cgroup fs = no quota), cpuset from the reader.
        Reading<ResourceLimit> quotaReading = snapshot.Container.CpuLimitCores;
        bool quotaKnown = quotaReading.HasValue || quotaReading.Quality == SignalQuality.NotSupported;
        double quota = quotaReading.HasValue && !quotaReading.GetValueOrDefault(default).IsUnlimited ? quotaReading.GetValueOrDefault(default).Amount : double.PositiveInfinity;
        double cpusetCount = cpuset.IsOk ? cpuset.Value : double.PositiveInfinity;

        Reading<double> effective;
        Mode mode = Mode.None;
        if (hostError is not null)
        {
            effective = Reading.Unknown<double>(hostError, now);
        }
        else
        {
            double cores = Math.Min(hostCores, Math.Min(quota, cpusetCount));
            if (!quotaKnown || cpuset.Status == CgroupStatus.Failed)
            {
                effective = Reading.Estimated(cores, now, QuotaUnknownSource);
            }
            else
            {
                string source = quota <= cores ? quotaReading.Source! : cpusetCount <= cores && cpusetCount < hostCores ? cpuset.Text : hostSource!;
                effective = Reading.Measured(cores, now, source);
            }

            mode = quota <= cores ? Mode.Quota : cpusetCount < hostCores ? Mode.Cpuset : Mode.Host;
        }

        Reading<double> utilization = Utilization(mode, statOk, statError, host, inSet, hostCores, effective, timestamp, time, now);

        // Memory is rebuilt from a fresh /proc/meminfo when its cadence is due or when the
        // container's limit or working set is not the reading it was last built from.
        ContainerFactors container = snapshot.Container;
        if (_memoryCadence.IsDue(time, timestamp)
            || container.MemoryLimitBytes != _memoryBuiltWithLimit
            || container.MemoryWorkingSetBytes != _memoryBuiltWithWorkingSet)
        {
            bool ok = ReadMemory(container, now, out _memoryTotal, out _memoryAvailable, out _memoryUsed);
            _memoryBuiltWithLimit = container.MemoryLimitBytes;
            _memoryBuiltWithWorkingSet = container.MemoryWorkingSetBytes;
            _memoryCadence.Completed(timestamp, ok);
        }

        snapshot.Compute = new ComputeFactors
        {
            EffectiveCores = effective,
            CpuUtilization = utilization,
            LoadPerCore = LoadPerCore(effective, now),
            CpuPressure = Pressure(memory: false, now),
            MemoryPressure = Pressure(memory: true, now),
            MemoryTotalBytes = _memoryTotal,
            MemoryAvailableBytes = _memoryAvailable,
            MemoryUsedBytes = _memoryUsed,
        };
    }

    public void Dispose()
    {
        _stat.Dispose();
        _loadAvg.Dispose();
        _memInfo.Dispose();
        _online.Dispose();
        _cpuPressure.Dispose();
        _memoryPressure.Dispose();
    }

    /// <summary>Parses the cpu lines of /proc/stat into busy and idle ticks.</summary>
    /// <param name="fields">The fields after the "cpu"/"cpuN" label.</param>
    /// <param name="times">busy = user+nice+system+irq+softirq+steal; idle = idle+iowait. guest and guest_nice are already in user and nice.</param>
    internal static bool TryParseCpuLine(ReadOnlySpan<byte> fields, out CpuTimes times)
    {
        times = default;
        Span<ulong> v = stackalloc ulong[StatFields];
        int n = 0;
        while (n < StatFields && KernelText.NextField(ref fields, out ReadOnlySpan<byte> field))
        {
            if (!KernelText.TryParseUInt64(field, out v[n]))
            {
                return false;
            }

            n++;
        }

        // user nice system idle are present on every kernel; iowait, irq, softirq, steal came later (0 when absent).
        if (n < 4)
        {
            return false;
        }

        times = new CpuTimes(v[0] + v[1] + v[2] + v[5] + v[6] + v[7], v[3] + v[4]);
        return true;
    }

    /// <summary>
    /// Path.Exists, not File.Exists: a directory or FIFO in place of an optional file must fail
    /// its read (Unknown with the reason), not read as "this kernel has no such file".
    /// </summary>
    private void CheckOptionalFiles()
    {
        _onlineCount = 0;
        _hasOnline = Path.Exists(_onlinePath);
        _hasCpuPressure = Path.Exists(_cpuPressurePath);
        _hasMemoryPressure = Path.Exists(_memoryPressurePath);
    }

    private bool ReadStat(bool useCpuset, out CpuTimes host, out CpuTimes inSet, out int cpuCount, out string? error)
    {
        host = default;
        inSet = default;
        cpuCount = 0;
        error = null;
        if (!_stat.TryRead(out ReadOnlySpan<byte> content))
        {
            error = _stat.Error;
            _failures.Report(ProbeName, _stat.ErrorKind ?? "io", _stat.Error ?? _statPath);
            return false;
        }

        bool hasAggregate = false;
        ReadOnlySpan<byte> rest = content;
        while (KernelText.NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            if (!line.StartsWith("cpu"u8))
            {
                // The cpu lines come first; stop at the first other line.
                if (hasAggregate)
                {
                    break;
                }

                continue;
            }

            ReadOnlySpan<byte> fields = line;
            KernelText.NextField(ref fields, out ReadOnlySpan<byte> label);
            if (!TryParseCpuLine(fields, out CpuTimes times))
            {
                error = $"{_statPath}: unexpected content in a cpu line (expected at least user nice system idle ticks)";
                _failures.Report(ProbeName, "garbage", error);
                return false;
            }

            if (label.Length == 3)
            {
                hasAggregate = true;
                host = times;
            }
            else if (KernelText.TryParseInt64(label[3..], out long id) && id >= 0)
            {
                cpuCount++;
                if (useCpuset && CgroupText.IsSet(_cpuset, (int)Math.Min(id, int.MaxValue)))
                {
                    inSet = new CpuTimes(inSet.Busy + times.Busy, inSet.Idle + times.Idle);
                }
            }
        }

        if (!hasAggregate)
        {
            error = $"{_statPath}: no aggregate \"cpu\" line (truncated or not a /proc/stat file)";
            _failures.Report(ProbeName, "garbage", error);
            return false;
        }

        return true;
    }

    private (double Cores, string? Source, string? Error) ReadHostCores(bool statOk, int statCpus, string? statError)
    {
        if (_hasOnline)
        {
            // /proc/stat has one cpuN line per online CPU: while its count matches the list read
            // earlier, the list has not changed (hotplug changes both), so it is not re-read.
            if (_onlineCount > 0 && statOk && statCpus == _onlineCount)
            {
                return (_onlineCount, _onlinePath, null);
            }

            _onlineCount = 0;
            if (_online.TryRead(out ReadOnlySpan<byte> content))
            {
                if (CgroupText.TryParseCpuList(content, default, out int count) && count > 0)
                {
                    _onlineCount = count;
                    return (count, _onlinePath, null);
                }

                _failures.Report(ProbeName, "garbage", $"{_onlinePath}: unexpected content (expected a CPU list such as 0-3); counting /proc/stat cpu lines instead");
            }
            else
            {
                _failures.Report(ProbeName, _online.ErrorKind ?? "io", _online.Error ?? _onlinePath);
                if (_online.ErrorKind == "missing")
                {
                    _hasOnline = false;
                }
            }
        }

        if (statOk && statCpus > 0)
        {
            return (statCpus, _statCoresSource, null);
        }

        return (0, null, statOk
            ? $"no online CPU list ({_onlinePath}) and no cpuN line in {_statPath}"
            : $"no online CPU list ({_onlinePath}) and {_statPath} unreadable: {statError}");
    }

    private Reading<double> Utilization(
        Mode mode, bool statOk, string? statError, CpuTimes host, CpuTimes inSet, double hostCores,
        Reading<double> effective, long timestamp, TimeProvider time, DateTimeOffset now)
    {
        // The host baseline is kept every pass: the quota fallback needs it even when the mode changes.
        bool hostComparable = statOk && _hasPreviousHost;
        long hostBusy = statOk ? (long)(host.Busy - _previousHostBusy) : 0;
        long hostIdle = statOk ? (long)(host.Idle - _previousHostIdle) : 0;
        if (statOk)
        {
            _previousHostBusy = host.Busy;
            _previousHostIdle = host.Idle;
        }

        _hasPreviousHost = statOk;

        Mode previousMode = _previousMode;
        _previousMode = mode;
        if (mode == Mode.None)
        {
            return Reading.Unknown<double>(effective.Reason ?? "effective cores unknown", now);
        }

        if (mode == Mode.Quota)
        {
            CgroupResult<long> usage = _cgroups.ReadCpuUsageNanoseconds();
            if (!usage.IsOk)
            {
                usage.ReportIfFailed(_failures, ProbeName);
                mode = Mode.QuotaFromHost;
                _previousMode = mode;
            }
            else
            {
                bool comparable = previousMode == Mode.Quota
                    && ReferenceEquals(_previousUsageSource, usage.Text)
                    && _previousGeneration == _cgroups.Generation;
                long used = usage.Value - _previousUsage;
                TimeSpan wall = time.GetElapsedTime(_previousTimestamp, timestamp);
                _previousUsage = usage.Value;
                _previousTimestamp = timestamp;
                _previousUsageSource = usage.Text;
                _previousGeneration = _cgroups.Generation;
                if (!comparable)
                {
                    return Reading.Unknown<double>(previousMode == Mode.None ? FirstSample : BoundChanged, now);
                }

                if (used < 0)
                {
                    return Backwards(usage.Text, now);
                }

                if (wall <= TimeSpan.Zero)
                {
                    return Reading.Unknown<double>(NoTimeElapsed, now);
                }

                // A group can briefly run past its quota within a period boundary: clamp to 1.
                double share = used / (effective.GetValueOrDefault(default) * wall.TotalNanoseconds);
                return Reading.Estimated(Math.Clamp(share, 0, 1), now, usage.Text);
            }
        }

        if (!statOk)
        {
            return Reading.Unknown<double>(statError ?? $"{_statPath} unreadable", now);
        }

        if (mode == Mode.Cpuset)
        {
            bool comparable = previousMode == Mode.Cpuset && _cpuset.AsSpan().SequenceEqual(_previousCpuset);
            long busy = (long)(inSet.Busy - _previousBusy);
            long idle = (long)(inSet.Idle - _previousIdle);
            _previousBusy = inSet.Busy;
            _previousIdle = inSet.Idle;
            _cpuset.AsSpan().CopyTo(_previousCpuset);
            if (!comparable)
            {
                return Reading.Unknown<double>(previousMode == Mode.None ? FirstSample : BoundChanged, now);
            }

            return Share(busy, idle, _statPath, now);
        }

        if (!hostComparable)
        {
            return Reading.Unknown<double>(FirstSample, now);
        }

        if (mode == Mode.QuotaFromHost)
        {
            if (hostBusy < 0 || hostIdle < 0)
            {
                return Backwards(_statPath, now);
            }

            long total = hostBusy + hostIdle;
            if (total == 0)
            {
                return Reading.Unknown<double>(NoTimeElapsed, now);
            }

            double busyCores = (double)hostBusy / total * hostCores;
            return Reading.Estimated(Math.Clamp(busyCores / effective.GetValueOrDefault(default), 0, 1), now, HostFallbackSource);
        }

        return Share(hostBusy, hostIdle, _statPath, now);
    }

    private Reading<double> Share(long busy, long idle, string source, DateTimeOffset now)
    {
        // iowait alone may dip on NO_HZ kernels; the sums must not. A negative sum is a reset or hotplug.
        if (busy < 0 || idle < 0)
        {
            return Backwards(source, now);
        }

        long total = busy + idle;
        if (total == 0)
        {
            return Reading.Unknown<double>(NoTimeElapsed, now);
        }

        return Reading.Estimated((double)busy / total, now, source);
    }

    private Reading<double> Backwards(string source, DateTimeOffset now)
    {
        string reason = $"{source}: CPU counters went backwards (CPU hotplug or a counter reset); the next sample starts afresh";
        _failures.Report(ProbeName, "out-of-range", reason);
        return Reading.Unknown<double>(reason, now);
    }

    private Reading<double> LoadPerCore(Reading<double> effective, DateTimeOffset now)
    {
        if (!_loadAvg.TryRead(out ReadOnlySpan<byte> content))
        {
            _failures.Report(ProbeName, _loadAvg.ErrorKind ?? "io", _loadAvg.Error ?? _loadAvgPath);
            return Reading.Unknown<double>(_loadAvg.Error ?? _loadAvgPath, now);
        }

        ReadOnlySpan<byte> rest = content;
        if (!KernelText.NextField(ref rest, out ReadOnlySpan<byte> first) || !KernelText.TryParseDouble(first, out double load))
        {
            string reason = $"{_loadAvgPath}: unexpected content (expected \"0.44 0.56 0.29 1/88 5284\")";
            _failures.Report(ProbeName, "garbage", reason);
            return Reading.Unknown<double>(reason, now);
        }

        if (!Plausible.LoadAverage.Contains(load))
        {
            string reason = Plausible.Reason(Plausible.LoadAverage, _loadAvgPath, KernelText.Excerpt(first));
            _failures.Report(ProbeName, Plausible.OutOfRangeKind, reason);
            return Reading.Unknown<double>(reason, now);
        }

        if (!effective.HasValue || effective.GetValueOrDefault(default) <= 0)
        {
            return Reading.Unknown<double>(effective.Reason ?? "effective cores unknown", now);
        }

        return effective.Quality == SignalQuality.Measured
            ? Reading.Measured(load / effective.GetValueOrDefault(default), now, _loadAvgPath)
            : Reading.Estimated(load / effective.GetValueOrDefault(default), now, _loadAvgPath);
    }

    private Reading<double> Pressure(bool memory, DateTimeOffset now)
    {
        // The process's own v2 group first: inside a container /proc/pressure is the host's.
        CgroupResult<double> group = _cgroups.ReadPressure(memory);
        if (group.IsOk)
        {
            return Reading.Measured(group.Value, now, group.Text);
        }

        group.ReportIfFailed(_failures, ProbeName);
        KernelFile file = memory ? _memoryPressure : _cpuPressure;
        if (!(memory ? _hasMemoryPressure : _hasCpuPressure))
        {
            return Reading.NotSupported<double>(NoPsi, now);
        }

        if (!file.TryRead(out ReadOnlySpan<byte> content))
        {
            if (file.ErrorKind == "missing")
            {
                CheckOptionalFiles();
                return Reading.NotSupported<double>(NoPsi, now);
            }

            // EOPNOTSUPP when PSI is compiled in but disabled.
            _failures.Report(ProbeName, file.ErrorKind ?? "io", file.Error ?? file.Path);
            return Reading.Unknown<double>(file.Error ?? file.Path, now);
        }

        if (!CgroupText.TryParsePressureSomeAvg10(content, out double fraction))
        {
            string reason = $"{file.Path}: unexpected content (expected \"some avg10=N.NN avg60=... total=...\")";
            _failures.Report(ProbeName, "garbage", reason);
            return Reading.Unknown<double>(reason, now);
        }

        return Reading.Measured(fraction, now, file.Path);
    }

    /// <returns>False when /proc/meminfo could not be read or parsed (the readings are then Unknown).</returns>
    private bool ReadMemory(ContainerFactors container, DateTimeOffset now, out Reading<long> totalReading, out Reading<long> availableReading, out Reading<long> usedReading)
    {
        if (!_memInfo.TryRead(out ReadOnlySpan<byte> content))
        {
            string reason = _memInfo.Error ?? _memInfoPath;
            _failures.Report(ProbeName, _memInfo.ErrorKind ?? "io", reason);
            totalReading = availableReading = usedReading = Reading.Unknown<long>(reason, now);
            return false;
        }

        if (!TryKilobytes(content, "MemTotal"u8, out long total) || total <= 0)
        {
            string reason = $"{_memInfoPath}: unexpected content (no valid MemTotal line)";
            _failures.Report(ProbeName, "garbage", reason);
            totalReading = availableReading = usedReading = Reading.Unknown<long>(reason, now);
            return false;
        }

        // MemAvailable exists since Linux 3.14; without it there is no honest "available" figure.
        bool hasAvailable = TryKilobytes(content, "MemAvailable"u8, out long available) && available >= 0;
        available = Math.Min(available, total);
        Reading<ResourceLimit> limitReading = container.MemoryLimitBytes;
        Reading<long> workingSet = container.MemoryWorkingSetBytes;

        if (limitReading.HasValue && !limitReading.GetValueOrDefault(default).IsUnlimited)
        {
            long limit = (long)limitReading.GetValueOrDefault(default).Amount;

            // A limit above the host's memory does not bind: the host's figures stand.
            bool binding = limit < total;
            totalReading = binding
                ? Reading.Measured(limit, now, limitReading.Source!)
                : Reading.Measured(total, now, _memInfoPath);
            if (workingSet.HasValue)
            {
                long left = Math.Max(0, limit - workingSet.GetValueOrDefault(default));
                availableReading = !hasAvailable
                    ? Reading.Measured(Math.Min(left, total), now, workingSet.Source!)
                    : Reading.Measured(Math.Min(available, left), now, left < available ? workingSet.Source! : _memInfoPath);
                usedReading = binding
                    ? Reading.Measured(workingSet.GetValueOrDefault(default), now, workingSet.Source!)
                    : HostUsed(hasAvailable, total, available, now);
            }
            else
            {
                availableReading = hasAvailable
                    ? Reading.Estimated(Math.Min(available, limit), now, WorkingSetUnknownSource)
                    : Reading.Unknown<long>(workingSet.Reason ?? "working set unknown", now);
                usedReading = binding
                    ? Reading.Unknown<long>(workingSet.Reason ?? "working set unknown", now)
                    : HostUsed(hasAvailable, total, available, now);
            }

            return true;
        }

        // No limit (or no cgroup fs): the host's figures. An unknown limit makes them an upper bound.
        bool limitUnknown = !limitReading.HasValue && limitReading.Quality != SignalQuality.NotSupported;
        totalReading = limitUnknown ? Reading.Estimated(total, now, MemoryLimitUnknownSource) : Reading.Measured(total, now, _memInfoPath);
        availableReading = !hasAvailable
            ? Reading.NotSupported<long>(NoMemAvailable, now)
            : limitUnknown ? Reading.Estimated(available, now, MemoryLimitUnknownSource) : Reading.Measured(available, now, _memInfoPath);
        usedReading = HostUsed(hasAvailable, total, available, now);
        return true;
    }

    private Reading<long> HostUsed(bool hasAvailable, long total, long available, DateTimeOffset now) =>
        hasAvailable
            ? Reading.Measured(total - available, now, _memInfoPath)
            : Reading.NotSupported<long>(NoMemAvailable, now);

    private static bool TryKilobytes(ReadOnlySpan<byte> meminfo, ReadOnlySpan<byte> key, out long bytes)
    {
        bytes = 0;
        if (!KernelText.TryFindValue(meminfo, key, out ReadOnlySpan<byte> value) || !KernelText.TryParseInt64(value, out long kb)
            || kb < 0 || kb > long.MaxValue / 1024)
        {
            return false;
        }

        bytes = kb * 1024;
        return true;
    }

    /// <summary>Busy and idle ticks of one /proc/stat cpu line.</summary>
    internal readonly record struct CpuTimes(ulong Busy, ulong Idle);
}
