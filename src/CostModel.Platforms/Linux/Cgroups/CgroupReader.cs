using System.Runtime.Versioning;
using System.Text;
using CostModel.Factors;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Linux.Cgroups;

/// <summary>
/// Reads this process's cgroup limits and counters (v1, v2 or hybrid), shared by the container
/// and compute probes (a singleton). The layout and the files to read are found at construction
/// from <c>&lt;ProcRoot&gt;/self/mountinfo</c> and <c>&lt;ProcRoot&gt;/self/cgroup</c>, and again at
/// most every <see cref="RediscoverInterval"/> (or <see cref="FailureRediscoverInterval"/> after a
/// failed read). A pass only re-reads open files: no directory listing, no allocation on success.
/// </summary>
/// <remarks>
/// Limits are the smallest found walking up from the process's cgroup to the mount root. The
/// level that holds the binding CPU (memory) limit is remembered by <see cref="ReadCpuLimit"/>
/// (<see cref="ReadMemoryLimit"/>): throttling, CPU usage and the working set are read at that level,
/// because that is the group the limit applies to; with no limit they are read at the process's own group.
/// Not thread-safe: the collector calls probes one at a time.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class CgroupReader : IDisposable
{
    /// <summary>
    /// How often the layout is rediscovered: a process can be moved to another cgroup (systemd,
    /// <c>docker update</c>, a pod resize) and mounts change rarely; 30 s bounds the cost of
    /// rereading mountinfo (hundreds of lines on a Kubernetes node) while picking changes up quickly.
    /// </summary>
    internal static readonly TimeSpan RediscoverInterval = Rediscovery.DefaultInterval;

    /// <summary>
    /// After a failed read, rediscover at the next pass but not more often than this (5 s): a file
    /// that keeps failing must not turn every pass into a rediscovery.
    /// </summary>
    internal static readonly TimeSpan FailureRediscoverInterval = TimeSpan.FromSeconds(5);

    private readonly LinuxProbeOptions _options;
    private Plan _plan;
    private long? _discoveredAt;
    private bool _failureSeen;

    // The level (index into the controller's levels) holding the binding limit; -1 when none.
    private int _cpuHolder = -1;
    private int _memoryHolder = -1;

    // The binding memory limit in bytes (valid while _memoryHolder >= 0).
    private long _memoryLimitBytes;

    // The last limit read when it failed (default otherwise): without the limit the group it
    // applies to is not known, so throttling (working set) cannot be attributed and is Unknown
    // with the same failure kind, never "no quota".
    private CgroupResult<ResourceLimit> _cpuLimitFailure;
    private CgroupResult<ResourceLimit> _memoryLimitFailure;

    // v2 keeps throttling and CPU time in one cpu.stat: usage_usec parsed by ReadThrottling at
    // this level, handed once to the next ReadCpuUsageNanoseconds of the same pass (-1 = none),
    // so that the container and compute probes do not both make the kernel generate the file.
    private int _sharedUsageLevel = -1;
    private long _sharedUsageMicros;

    public CgroupReader(IOptions<LinuxProbeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _plan = Plan.Create(_options);
    }

    /// <summary>The layout found at the last discovery.</summary>
    public CgroupLayout Layout => _plan.Discovery.Layout;

    /// <summary>What the last discovery found (hierarchies and paths).</summary>
    public CgroupDiscoveryResult Discovery => _plan.Discovery;

    /// <summary>Incremented when rediscovery finds different paths: counters from before are not comparable.</summary>
    public int Generation { get; private set; }

    /// <summary>Rediscovers when <see cref="RediscoverInterval"/> has passed, or <see cref="FailureRediscoverInterval"/> after a failure. Cheap otherwise.</summary>
    /// <param name="time">The collector's clock.</param>
    public void Refresh(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        long now = time.GetTimestamp();
        if (_discoveredAt is not { } at)
        {
            _discoveredAt = now;
            return;
        }

        TimeSpan since = time.GetElapsedTime(at, now);
        if (since >= RediscoverInterval || (_failureSeen && since >= FailureRediscoverInterval))
        {
            Rediscover();
            _discoveredAt = now;
        }
    }

    /// <summary>Discovers again now (also used by <see cref="Refresh"/>).</summary>
    public void Rediscover()
    {
        _failureSeen = false;
        Plan fresh = Plan.Create(_options);
        if (string.Equals(fresh.Signature, _plan.Signature, StringComparison.Ordinal))
        {
            fresh.Dispose();
            return;
        }

        _plan.Dispose();
        _plan = fresh;
        _cpuHolder = -1;
        _memoryHolder = -1;
        _cpuLimitFailure = default;
        _memoryLimitFailure = default;
        _sharedUsageLevel = -1;
        Generation++;
    }

    /// <summary>The CPU quota in cores, smallest up the hierarchy (v2 <c>cpu.max</c>, v1 <c>cpu.cfs_quota_us</c>/<c>cpu.cfs_period_us</c>).</summary>
    public CgroupResult<ResourceLimit> ReadCpuLimit()
    {
        CgroupResult<ResourceLimit> result = ReadCpuLimitAtLevels();
        _cpuLimitFailure = result.Status == CgroupStatus.Failed ? result : default;
        return result;
    }

    private CgroupResult<ResourceLimit> ReadCpuLimitAtLevels()
    {
        _cpuHolder = -1;
        if (_plan.Cpu is not { } cpu)
        {
            return Unavailable<ResourceLimit>("cpu");
        }

        if (cpu.Problem is { } problem)
        {
            return Failed<ResourceLimit>("missing", problem);
        }

        double min = double.PositiveInfinity;
        int holder = -1;
        for (int i = 0; i < cpu.Levels.Length; i++)
        {
            CpuLevel level = cpu.Levels[i];
            if (level.Quota is null)
            {
                continue;
            }

            if (!level.Quota.TryRead(out ReadOnlySpan<byte> content))
            {
                return FileFailed<ResourceLimit>(level.Quota);
            }

            long quota;
            long period;
            if (cpu.IsV2)
            {
                if (!CgroupText.TryParseCpuMax(content, out bool unlimited, out quota, out period))
                {
                    return Garbage<ResourceLimit>(level.Quota.Path, "expected \"max 100000\" or \"$QUOTA $PERIOD\" in microseconds");
                }

                if (unlimited)
                {
                    continue;
                }
            }
            else
            {
                if (!KernelText.TryParseInt64(content, out quota) || (quota <= 0 && quota != -1))
                {
                    return Garbage<ResourceLimit>(level.Quota.Path, "expected -1 or a quota in microseconds");
                }

                if (quota == -1)
                {
                    continue;
                }

                if (level.Period is null)
                {
                    return Failed<ResourceLimit>("missing", $"{level.QuotaSource} has a quota but cpu.cfs_period_us is missing");
                }

                if (!level.Period.TryRead(out ReadOnlySpan<byte> periodText))
                {
                    return FileFailed<ResourceLimit>(level.Period);
                }

                if (!KernelText.TryParseInt64(periodText, out period) || period <= 0)
                {
                    return Garbage<ResourceLimit>(level.Period.Path, "expected a period in microseconds");
                }
            }

            double cores = (double)quota / period;
            if (!(cores > 0 && cores <= ComputeFactors.MaxCores))
            {
                return Failed<ResourceLimit>("out-of-range", $"{level.QuotaSource}: a quota of {quota} us per {period} us is {cores} cores, outside 0 to {ComputeFactors.MaxCores}");
            }

            if (cores < min)
            {
                min = cores;
                holder = i;
            }
        }

        _cpuHolder = holder;
        return holder < 0
            ? CgroupResult<ResourceLimit>.Ok(ResourceLimit.Unlimited, cpu.UnlimitedSource)
            : CgroupResult<ResourceLimit>.Ok(ResourceLimit.Of(min), cpu.Levels[holder].QuotaSource);
    }

    /// <summary>Cumulative throttling counters of the group holding the CPU quota; without a quota, zeros with <see cref="ThrottleCounters.HasQuota"/> false.</summary>
    /// <remarks>
    /// On v2 the same read of <c>cpu.stat</c> also yields the group's CPU time, which the next
    /// <see cref="ReadCpuUsageNanoseconds"/> call takes instead of reading the file again. The
    /// container probe calls this every pass before the compute probe asks for CPU time, and
    /// each call drops what an earlier call left untaken, so the value never outlives its pass.
    /// </remarks>
    public CgroupResult<ThrottleCounters> ReadThrottling()
    {
        _sharedUsageLevel = -1;
        if (_plan.Cpu is not { } cpu)
        {
            return Unavailable<ThrottleCounters>("cpu");
        }

        if (cpu.Problem is { } problem)
        {
            return Failed<ThrottleCounters>("missing", problem);
        }

        if (_cpuLimitFailure.Status == CgroupStatus.Failed)
        {
            // The quota may sit at any level: "no quota, nothing throttled" would be a guess.
            return Failed<ThrottleCounters>(_cpuLimitFailure.FailureKind ?? "io", $"throttling cannot be attributed: the CPU quota could not be read ({_cpuLimitFailure.Text})");
        }

        if (_cpuHolder < 0)
        {
            // No quota anywhere up the hierarchy: the scheduler has nothing to throttle against.
            return CgroupResult<ThrottleCounters>.Ok(new ThrottleCounters(0, 0, false), cpu.UnlimitedSource);
        }

        CpuLevel level = cpu.Levels[_cpuHolder];
        if (level.Stat is null)
        {
            return CgroupResult<ThrottleCounters>.NotSupported($"{level.Dir} has a CPU quota but no cpu.stat (kernel without CFS bandwidth statistics)");
        }

        if (!level.Stat.TryRead(out ReadOnlySpan<byte> content))
        {
            return FileFailed<ThrottleCounters>(level.Stat);
        }

        if (!KernelText.TryFindValue(content, "nr_periods"u8, out ReadOnlySpan<byte> periodsText)
            || !KernelText.TryFindValue(content, "nr_throttled"u8, out ReadOnlySpan<byte> throttledText)
            || !KernelText.TryParseInt64(periodsText, out long periods) || !KernelText.TryParseInt64(throttledText, out long throttled)
            || periods < 0 || throttled < 0)
        {
            return Garbage<ThrottleCounters>(level.Stat.Path, "expected nr_periods and nr_throttled counters");
        }

        if (cpu.IsV2 && TryParseUsageMicros(content, out long micros))
        {
            _sharedUsageLevel = _cpuHolder;
            _sharedUsageMicros = micros;
        }

        return CgroupResult<ThrottleCounters>.Ok(new ThrottleCounters(periods, throttled, true), level.StatSource!);
    }

    /// <summary>
    /// Cumulative CPU time in nanoseconds of the group holding the CPU quota (v2 <c>cpu.stat</c>
    /// usage_usec, v1 <c>cpuacct.usage</c> of the same cgroup path in the cpuacct hierarchy).
    /// </summary>
    public CgroupResult<long> ReadCpuUsageNanoseconds()
    {
        if (_plan.Cpu is not { } cpu)
        {
            return Unavailable<long>("cpu");
        }

        if (cpu.Problem is { } problem)
        {
            return Failed<long>("missing", problem);
        }

        int index = _cpuHolder >= 0 ? _cpuHolder : 0;
        CpuLevel level = cpu.Levels[index];
        if (cpu.IsV2)
        {
            if (level.Stat is null)
            {
                return CgroupResult<long>.NotSupported($"{level.Dir} has no cpu.stat");
            }

            // Taken from this pass's throttling read of the same file when there was one.
            bool shared = _sharedUsageLevel == index;
            _sharedUsageLevel = -1;
            long micros = _sharedUsageMicros;
            if (!shared)
            {
                if (!level.Stat.TryRead(out ReadOnlySpan<byte> content))
                {
                    return FileFailed<long>(level.Stat);
                }

                if (!TryParseUsageMicros(content, out micros))
                {
                    return Garbage<long>(level.Stat.Path, "expected a usage_usec counter");
                }
            }

            return CgroupResult<long>.Ok(micros * 1000, level.StatSource!);
        }

        if (level.Usage is null)
        {
            return CgroupResult<long>.NotSupported($"no cpuacct.usage for the cgroup {level.Path} (the cpuacct controller does not show it)");
        }

        if (!level.Usage.TryRead(out ReadOnlySpan<byte> usage))
        {
            return FileFailed<long>(level.Usage);
        }

        if (!KernelText.TryParseInt64(usage, out long nanos) || nanos < 0)
        {
            return Garbage<long>(level.Usage.Path, "expected nanoseconds of CPU time");
        }

        return CgroupResult<long>.Ok(nanos, level.UsageSource!);
    }

    /// <summary>The memory limit in bytes, smallest up the hierarchy (v2 <c>memory.max</c>, v1 <c>memory.limit_in_bytes</c>).</summary>
    public CgroupResult<ResourceLimit> ReadMemoryLimit()
    {
        CgroupResult<ResourceLimit> result = ReadMemoryLimitAtLevels();
        _memoryLimitFailure = result.Status == CgroupStatus.Failed ? result : default;
        return result;
    }

    private CgroupResult<ResourceLimit> ReadMemoryLimitAtLevels()
    {
        _memoryHolder = -1;
        if (_plan.Memory is not { } memory)
        {
            return Unavailable<ResourceLimit>("memory");
        }

        if (memory.Problem is { } problem)
        {
            return Failed<ResourceLimit>("missing", problem);
        }

        long min = long.MaxValue;
        int holder = -1;
        for (int i = 0; i < memory.Levels.Length; i++)
        {
            MemoryLevel level = memory.Levels[i];
            if (level.Limit is null)
            {
                continue;
            }

            if (!level.Limit.TryRead(out ReadOnlySpan<byte> content))
            {
                return FileFailed<ResourceLimit>(level.Limit);
            }

            if (!CgroupText.TryParseMemoryLimit(content, out bool unlimited, out long bytes))
            {
                return Garbage<ResourceLimit>(level.Limit.Path, "expected \"max\" or a number of bytes");
            }

            if (unlimited)
            {
                continue;
            }

            if (bytes <= 0)
            {
                return Failed<ResourceLimit>("out-of-range", $"{level.Limit.Path}: a memory limit of {bytes} bytes leaves no memory");
            }

            if (bytes < min)
            {
                min = bytes;
                holder = i;
            }
        }

        _memoryHolder = holder;
        _memoryLimitBytes = min;
        return holder < 0
            ? CgroupResult<ResourceLimit>.Ok(ResourceLimit.Unlimited, memory.UnlimitedSource)
            : CgroupResult<ResourceLimit>.Ok(ResourceLimit.Of(min), memory.Levels[holder].LimitSource);
    }

    /// <summary>Usage minus inactive file cache, in bytes, of the group holding the memory limit (or the process's own group without one).</summary>
    public CgroupResult<long> ReadMemoryWorkingSet()
    {
        if (_plan.Memory is not { } memory)
        {
            return Unavailable<long>("memory");
        }

        if (memory.Problem is { } problem)
        {
            return Failed<long>("missing", problem);
        }

        if (_memoryLimitFailure.Status == CgroupStatus.Failed)
        {
            // The limit may sit at any level, and the working set is read at the level holding it.
            return Failed<long>(_memoryLimitFailure.FailureKind ?? "io", $"the working set cannot be attributed: the memory limit could not be read ({_memoryLimitFailure.Text})");
        }

        MemoryLevel level = memory.Levels[_memoryHolder >= 0 ? _memoryHolder : 0];
        if (level.Usage is null || level.Stat is null)
        {
            return CgroupResult<long>.NotSupported(memory.IsV2
                ? $"{level.Dir} has no memory.current or memory.stat (the v2 root group does not account memory; see /proc/meminfo)"
                : $"{level.Dir} has no memory.usage_in_bytes or memory.stat");
        }

        if (!level.Usage.TryRead(out ReadOnlySpan<byte> usageText))
        {
            return FileFailed<long>(level.Usage);
        }

        if (!KernelText.TryParseInt64(usageText, out long usage) || usage < 0)
        {
            return Garbage<long>(level.Usage.Path, "expected a number of bytes");
        }

        if (_memoryHolder >= 0 && usage - Plausible.CgroupMemoryOverLimitSlackBytes > _memoryLimitBytes)
        {
            MemoryLevel holder = memory.Levels[_memoryHolder];
            return Failed<long>(Plausible.OutOfRangeKind, Plausible.Exceeds(
                "memory usage", level.Usage.Path, level.Usage.Excerpt(), "memory limit", holder.LimitSource,
                _memoryLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), Plausible.CgroupMemoryOverLimitWhy));
        }

        if (!level.Stat.TryRead(out ReadOnlySpan<byte> stat))
        {
            return FileFailed<long>(level.Stat);
        }

        // v1: total_inactive_file includes the group's children (usage_in_bytes does too); v2 counters are hierarchical already.
        ReadOnlySpan<byte> inactiveText = default;
        bool found = !memory.IsV2 && KernelText.TryFindValue(stat, "total_inactive_file"u8, out inactiveText);
        if (!found && !KernelText.TryFindValue(stat, "inactive_file"u8, out inactiveText))
        {
            return Garbage<long>(level.Stat.Path, "expected an inactive_file line");
        }

        if (!KernelText.TryParseInt64(inactiveText, out long inactive) || inactive < 0)
        {
            return Garbage<long>(level.Stat.Path, "expected a number of bytes for inactive_file");
        }

        // As cAdvisor and the kubelet do: inactive file pages above usage (racy counters) give 0, not a negative size.
        return CgroupResult<long>.Ok(Math.Max(0, usage - inactive), level.UsageSource!);
    }

    /// <summary>
    /// The CPUs this process may run on (v2 <c>cpuset.cpus.effective</c>; v1 <c>cpuset.effective_cpus</c>,
    /// else <c>cpuset.cpus</c>), nearest level up from the process's group that has the file.
    /// </summary>
    /// <param name="bits">Receives the CPU set, one bit per CPU (at least <see cref="CgroupText.MaxCpuId"/>+1 bits to hold any CPU).</param>
    public CgroupResult<int> ReadCpuset(Span<ulong> bits)
    {
        if (_plan.Cpuset is not { } cpuset)
        {
            return Unavailable<int>("cpuset");
        }

        if (cpuset.Problem is { } problem)
        {
            return Failed<int>("missing", problem);
        }

        if (cpuset.File is null)
        {
            return CgroupResult<int>.NotSupported($"no cpuset file from {cpuset.OwnDir} up to the mount root");
        }

        if (!cpuset.File.TryRead(out ReadOnlySpan<byte> content))
        {
            return FileFailed<int>(cpuset.File);
        }

        if (!CgroupText.TryParseCpuList(content, bits, out int count))
        {
            return Garbage<int>(cpuset.File.Path, "expected a CPU list such as 0-3,8,10-11");
        }

        if (count == 0)
        {
            return Failed<int>("out-of-range", $"{cpuset.File.Path} lists no CPU");
        }

        return CgroupResult<int>.Ok(count, cpuset.File.Path);
    }

    /// <summary>PSI <c>some avg10</c> (fraction 0 to 1) of the process's v2 group: <c>cpu.pressure</c> or <c>memory.pressure</c>.</summary>
    /// <param name="memory">True for memory.pressure, false for cpu.pressure.</param>
    public CgroupResult<double> ReadPressure(bool memory)
    {
        Plan plan = _plan;
        if (plan.Discovery.Unified is null)
        {
            return CgroupResult<double>.NotSupported(plan.Discovery.Layout == CgroupLayout.None
                ? plan.Discovery.Reason ?? "no cgroup file system"
                : "no cgroup v2 hierarchy (PSI files live in v2 groups)");
        }

        KernelFile? file = memory ? plan.MemoryPressure : plan.CpuPressure;
        if (file is null)
        {
            return CgroupResult<double>.NotSupported($"{plan.Discovery.Unified.OwnDir} has no {(memory ? "memory" : "cpu")}.pressure (kernel without PSI)");
        }

        if (!file.TryRead(out ReadOnlySpan<byte> content))
        {
            return FileFailed<double>(file);
        }

        if (!CgroupText.TryParsePressureSomeAvg10(content, out double fraction))
        {
            return Garbage<double>(file.Path, "expected \"some avg10=N.NN ...\"");
        }

        return CgroupResult<double>.Ok(fraction, file.Path);
    }

    public void Dispose() => _plan.Dispose();

    /// <summary>usage_usec of a v2 cpu.stat, in microseconds (small enough to convert to nanoseconds).</summary>
    private static bool TryParseUsageMicros(ReadOnlySpan<byte> cpuStat, out long micros)
    {
        micros = 0;
        return KernelText.TryFindValue(cpuStat, "usage_usec"u8, out ReadOnlySpan<byte> text)
            && KernelText.TryParseInt64(text, out micros) && micros >= 0 && micros <= long.MaxValue / 1000;
    }

    private CgroupResult<T> Unavailable<T>(string controller)
        where T : struct
    {
        CgroupDiscoveryResult discovery = _plan.Discovery;
        if (discovery.Layout == CgroupLayout.None)
        {
            string reason = discovery.Reason ?? "no cgroup file system";
            return discovery.FailureKind is { } kind ? Failed<T>(kind, reason) : CgroupResult<T>.NotSupported(reason);
        }

        return CgroupResult<T>.NotSupported(CgroupDiscoveryResult.MissingReason(controller));
    }

    private CgroupResult<T> FileFailed<T>(KernelFile file)
        where T : struct => Failed<T>(file.ErrorKind ?? "io", file.Error ?? $"{file.Path}: read failed");

    private CgroupResult<T> Garbage<T>(string path, string expected)
        where T : struct => Failed<T>("garbage", $"{path}: unexpected content ({expected})");

    private CgroupResult<T> Failed<T>(string kind, string reason)
        where T : struct
    {
        _failureSeen = true;
        return CgroupResult<T>.Failed(kind, reason);
    }

    private sealed class CpuLevel
    {
        public required string Dir { get; init; }

        public required string Path { get; init; }

        public KernelFile? Quota { get; init; }

        public KernelFile? Period { get; init; }

        public required string QuotaSource { get; init; }

        public KernelFile? Stat { get; init; }

        public string? StatSource { get; init; }

        public KernelFile? Usage { get; init; }

        public string? UsageSource { get; init; }
    }

    private sealed class CpuPlan
    {
        public required bool IsV2 { get; init; }

        public required CpuLevel[] Levels { get; init; }

        public required string UnlimitedSource { get; init; }

        public string? Problem { get; init; }
    }

    private sealed class MemoryLevel
    {
        public required string Dir { get; init; }

        public KernelFile? Limit { get; init; }

        public required string LimitSource { get; init; }

        public KernelFile? Usage { get; init; }

        public string? UsageSource { get; init; }

        public KernelFile? Stat { get; init; }
    }

    private sealed class MemoryPlan
    {
        public required bool IsV2 { get; init; }

        public required MemoryLevel[] Levels { get; init; }

        public required string UnlimitedSource { get; init; }

        public string? Problem { get; init; }
    }

    private sealed class CpusetPlan
    {
        public required string OwnDir { get; init; }

        public KernelFile? File { get; init; }

        public string? Problem { get; init; }
    }

    /// <summary>The files to read, decided at discovery. Owns its <see cref="KernelFile"/>s.</summary>
    private sealed class Plan : IDisposable
    {
        private readonly List<KernelFile> _files = [];

        private Plan(CgroupDiscoveryResult discovery) => Discovery = discovery;

        public CgroupDiscoveryResult Discovery { get; }

        /// <summary>Layout, directories and which files exist: equal signatures mean nothing changed.</summary>
        public string Signature { get; private set; } = string.Empty;

        public CpuPlan? Cpu { get; private set; }

        public MemoryPlan? Memory { get; private set; }

        public CpusetPlan? Cpuset { get; private set; }

        public KernelFile? CpuPressure { get; private set; }

        public KernelFile? MemoryPressure { get; private set; }

        public static Plan Create(LinuxProbeOptions options)
        {
            var plan = new Plan(DiscoverLayout(options));
            var signature = new StringBuilder();
            signature.Append(plan.Discovery.Layout).Append('|').Append(plan.Discovery.Reason).Append('|');
            plan.Cpu = plan.CreateCpu(signature);
            plan.Memory = plan.CreateMemory(signature);
            plan.Cpuset = plan.CreateCpuset(signature);
            if (plan.Discovery.Unified is { } unified)
            {
                plan.CpuPressure = plan.OpenIfExists(unified.OwnDir + "/cpu.pressure", signature);
                plan.MemoryPressure = plan.OpenIfExists(unified.OwnDir + "/memory.pressure", signature);
            }

            plan.Signature = signature.ToString();
            return plan;
        }

        public void Dispose()
        {
            foreach (KernelFile file in _files)
            {
                file.Dispose();
            }

            _files.Clear();
        }

        private static CgroupDiscoveryResult DiscoverLayout(LinuxProbeOptions options)
        {
            string mountInfoPath = System.IO.Path.Join(options.ProcRoot, "self", "mountinfo");
            string cgroupPath = System.IO.Path.Join(options.ProcRoot, "self", "cgroup");
            if (!KernelFile.TryReadText(mountInfoPath, out string mountInfo, out string? kind, out string? error))
            {
                // No mountinfo at all: a procfs without mount information (or not Linux); nothing to read limits from.
                return kind == "missing"
                    ? CgroupDiscoveryResult.None($"{mountInfoPath} does not exist, so no cgroup mount can be found")
                    : CgroupDiscoveryResult.None($"cannot read {mountInfoPath}: {error}", kind);
            }

            List<CgroupMount> mounts = CgroupDiscovery.ParseMountInfo(mountInfo);
            if (mounts.Count == 0)
            {
                return CgroupDiscoveryResult.None($"no cgroup file system is mounted (no cgroup or cgroup2 line in {mountInfoPath})");
            }

            if (!KernelFile.TryReadText(cgroupPath, out string procCgroup, out kind, out error))
            {
                return CgroupDiscoveryResult.None($"cgroups are mounted but {cgroupPath} cannot be read: {error}", kind);
            }

            return CgroupDiscovery.Discover(
                mountInfo,
                procCgroup,
                mountPoint => CgroupDiscovery.Reroot(mountPoint, options.SysRoot, options.ProcRoot),
                path => KernelFile.TryReadText(path, out string text, out _, out _) ? text : null);
        }

        private static string? DirectoryProblem(CgroupHierarchy hierarchy, string controller) =>
            Directory.Exists(hierarchy.OwnDir)
                ? null
                : $"the {controller} cgroup directory {hierarchy.OwnDir} (cgroup {hierarchy.CgroupPath}) does not exist";

        private CpuPlan? CreateCpu(StringBuilder signature)
        {
            if (Discovery.Cpu is not { } cpu)
            {
                return null;
            }

            string quotaName = cpu.IsV2 ? "cpu.max" : "cpu.cfs_quota_us";
            string unlimited = cpu.Note is null
                ? $"no CPU quota in {quotaName} from {cpu.OwnDir} up to {cpu.MountDir}"
                : $"no CPU quota in {quotaName} at {cpu.MountDir} ({cpu.Note})";
            signature.Append("cpu:").Append(cpu.OwnDir).Append(cpu.IsV2).Append('|');
            if (DirectoryProblem(cpu, "cpu") is { } problem)
            {
                return new CpuPlan { IsV2 = cpu.IsV2, Levels = [], UnlimitedSource = unlimited, Problem = problem };
            }

            var levels = new CpuLevel[cpu.LevelDirs.Length];
            for (int i = 0; i < levels.Length; i++)
            {
                string dir = cpu.LevelDirs[i];
                KernelFile? quota = OpenIfExists(dir + "/" + quotaName, signature);
                KernelFile? period = cpu.IsV2 ? null : OpenIfExists(dir + "/cpu.cfs_period_us", signature);
                KernelFile? stat = OpenIfExists(dir + "/cpu.stat", signature);
                KernelFile? usage = null;
                if (!cpu.IsV2 && Discovery.CpuAcct?.DirOf(cpu.LevelPaths[i]) is { } acctDir)
                {
                    usage = OpenIfExists(acctDir + "/cpuacct.usage", signature);
                }

                levels[i] = new CpuLevel
                {
                    Dir = dir,
                    Path = cpu.LevelPaths[i],
                    Quota = quota,
                    Period = period,
                    QuotaSource = quota?.Path ?? dir,
                    Stat = stat,
                    StatSource = stat?.Path,
                    Usage = usage,
                    UsageSource = usage?.Path,
                };
            }

            return new CpuPlan { IsV2 = cpu.IsV2, Levels = levels, UnlimitedSource = unlimited };
        }

        private MemoryPlan? CreateMemory(StringBuilder signature)
        {
            if (Discovery.Memory is not { } memory)
            {
                return null;
            }

            string limitName = memory.IsV2 ? "memory.max" : "memory.limit_in_bytes";
            string usageName = memory.IsV2 ? "memory.current" : "memory.usage_in_bytes";
            string unlimited = memory.Note is null
                ? $"no memory limit in {limitName} from {memory.OwnDir} up to {memory.MountDir}"
                : $"no memory limit in {limitName} at {memory.MountDir} ({memory.Note})";
            signature.Append("memory:").Append(memory.OwnDir).Append(memory.IsV2).Append('|');
            if (DirectoryProblem(memory, "memory") is { } problem)
            {
                return new MemoryPlan { IsV2 = memory.IsV2, Levels = [], UnlimitedSource = unlimited, Problem = problem };
            }

            var levels = new MemoryLevel[memory.LevelDirs.Length];
            for (int i = 0; i < levels.Length; i++)
            {
                string dir = memory.LevelDirs[i];
                KernelFile? limit = OpenIfExists(dir + "/" + limitName, signature);
                KernelFile? usage = OpenIfExists(dir + "/" + usageName, signature);
                levels[i] = new MemoryLevel
                {
                    Dir = dir,
                    Limit = limit,
                    LimitSource = limit?.Path ?? dir,
                    Usage = usage,
                    UsageSource = usage is null ? null : $"{usage.Path} minus inactive_file in memory.stat",
                    Stat = OpenIfExists(dir + "/memory.stat", signature),
                };
            }

            return new MemoryPlan { IsV2 = memory.IsV2, Levels = levels, UnlimitedSource = unlimited };
        }

        private CpusetPlan? CreateCpuset(StringBuilder signature)
        {
            if (Discovery.Cpuset is not { } cpuset)
            {
                return null;
            }

            signature.Append("cpuset:").Append(cpuset.OwnDir).Append('|');
            if (DirectoryProblem(cpuset, "cpuset") is { } problem)
            {
                return new CpusetPlan { OwnDir = cpuset.OwnDir, Problem = problem };
            }

            string[] names = cpuset.IsV2 ? ["cpuset.cpus.effective"] : ["cpuset.effective_cpus", "cpuset.cpus"];
            foreach (string dir in cpuset.LevelDirs)
            {
                foreach (string name in names)
                {
                    if (OpenIfExists(dir + "/" + name, signature) is { } file)
                    {
                        return new CpusetPlan { OwnDir = cpuset.OwnDir, File = file };
                    }
                }
            }

            return new CpusetPlan { OwnDir = cpuset.OwnDir };
        }

        /// <summary>
        /// Opens a file that exists, whatever it is: a directory or FIFO in place of <c>cpu.max</c>
        /// must fail its reads (Unknown), not look like an absent file ("no limit at this level").
        /// </summary>
        private KernelFile? OpenIfExists(string path, StringBuilder signature)
        {
            if (!System.IO.Path.Exists(path))
            {
                return null;
            }

            signature.Append(path).Append(';');
            var file = new KernelFile(path);
            _files.Add(file);
            return file;
        }
    }
}
