using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Native;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Compute;

/// <summary>
/// Fills <see cref="ComputeFactors"/> on macOS: CPU utilisation from per-CPU tick deltas
/// (<c>host_processor_info</c>), effective cores (<c>hw.logicalcpu</c>: every logical CPU,
/// performance and efficiency alike; macOS has no CPU quota or cpuset for a process), load per
/// core (<c>getloadavg</c>), memory (<c>hw.memsize</c>, <c>host_statistics64</c>) and memory
/// pressure (<c>kern.memorystatus_vm_pressure_level</c>). CPU pressure is NotSupported (no PSI).
/// The core count is re-read every <see cref="Cadence.LimitsInterval"/>; memory size and page
/// size once; everything else every pass (Mach calls and sysctls, no text to parse). See
/// docs/macos/compute.md.
/// </summary>
internal sealed class MacComputeProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "macos.compute";

    /// <summary>
    /// The largest plausible 1-minute load average: 1 048 576. XNU's load average is a decaying
    /// mean of runnable threads (osfmk/kern/sched_average.c), and the kernel caps the threads of
    /// the whole system (<c>kern.num_threads</c>, tens of thousands), so a larger value is a broken
    /// reply (NaN and infinities fail too).
    /// </summary>
    internal const double MaxLoadAverage = 1 << 20;

    /// <summary>How many performance levels are described in a core count's source: Apple Silicon has 2 (performance, efficiency).</summary>
    internal const int MaxPerfLevels = 4;

    internal const string TicksSource = "host_processor_info(PROCESSOR_CPU_LOAD_INFO)";
    internal const string LoadSource = "getloadavg";
    internal const string MemorySource = "host_statistics64(HOST_VM_INFO64) and sysctl hw.memsize";
    internal const string LogicalCpu = "hw.logicalcpu";
    internal const string MemSize = "hw.memsize";
    internal const string PressureLevel = "kern.memorystatus_vm_pressure_level";
    internal const string PerfLevelCount = "hw.nperflevels";

    private static readonly string[] PerfLevelNames = [.. Enumerable.Range(0, MaxPerfLevels).Select(i => $"hw.perflevel{i}.logicalcpu")];

    private readonly IMacComputeSource _source;
    private readonly IProbeFailureReporter _failures;
    private readonly bool _ownsSource;
    private readonly List<CpuLoadTicks> _ticks = [];
    private readonly MacCpuTicks _cpu = new();
    private readonly Cadence _coresCadence = new(Cadence.LimitsInterval);

    private Reading<double> _effective;
    private long _cores;
    private string? _coresSource;
    private long _totalBytes;
    private long _pageBytes;

    /// <summary>Creates the probe on the Mac's own Mach and sysctl calls.</summary>
    [SupportedOSPlatform("macos")]
    public MacComputeProbe(IProbeFailureReporter failures)
        : this(new NativeMacComputeSource(), failures, ownsSource: true)
    {
    }

    /// <summary>Creates the probe on a source (tests pass recorded readings).</summary>
    internal MacComputeProbe(IMacComputeSource source, IProbeFailureReporter failures, bool ownsSource = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(failures);
        _source = source;
        _failures = failures;
        _ownsSource = ownsSource;
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Compute;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider time = snapshot.TimeProvider;
        DateTimeOffset now = time.GetUtcNow();
        long timestamp = time.GetTimestamp();

        if (_coresCadence.IsDue(time, timestamp))
        {
            _effective = ReadCores(now);
            _coresCadence.Completed(timestamp, _effective.HasValue);
        }

        Reading<long> total = ReadTotal(now);
        Memory(total, now, out Reading<long> available, out Reading<long> used);

        snapshot.Compute = new ComputeFactors
        {
            EffectiveCores = _effective,
            CpuUtilization = Utilization(now),
            LoadPerCore = LoadPerCore(now),
            CpuPressure = Reading.NotSupported<double>(MacMemory.NoCpuPressure, now),
            MemoryPressure = MemoryPressure(now),
            MemoryTotalBytes = total,
            MemoryAvailableBytes = available,
            MemoryUsedBytes = used,
        };
    }

    public void Dispose()
    {
        if (_ownsSource && _source is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    private Reading<double> ReadCores(DateTimeOffset now)
    {
        MacRead read = _source.ReadSysctl(LogicalCpu, out long cores);
        if (!read.IsOk)
        {
            return Failed<double>(read, "sysctl " + LogicalCpu, now);
        }

        if (cores < 1 || cores > ComputeFactors.MaxCores)
        {
            return Implausible<double>(string.Create(CultureInfo.InvariantCulture,
                $"implausible logical CPU count '{cores}' in sysctl {LogicalCpu} (plausible 1..{ComputeFactors.MaxCores:G}: the model's bound)"), now);
        }

        if (cores != _cores || _coresSource is null)
        {
            _cores = cores;
            _coresSource = CoresSource();
        }

        return Reading.Measured((double)cores, now, _coresSource);
    }

    /// <summary>"sysctl hw.logicalcpu", with the performance levels' cores where the Mac has them (Apple Silicon).</summary>
    private string CoresSource()
    {
        const string plain = "sysctl " + LogicalCpu;
        MacRead read = _source.ReadSysctl(PerfLevelCount, out long levels);
        if (!read.IsOk || levels < 2)
        {
            // Intel Macs have no hw.nperflevels (or one level): every core is alike.
            return plain;
        }

        var counts = new List<long>();
        for (int level = 0; level < Math.Min(levels, MaxPerfLevels); level++)
        {
            if (!_source.ReadSysctl(PerfLevelNames[level], out long count).IsOk || count < 0 || count > ComputeFactors.MaxCores)
            {
                return plain;
            }

            counts.Add(count);
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{plain} (every logical CPU counted alike: {string.Join(" + ", counts)} by performance level, hw.perflevelN.logicalcpu, fastest first)");
    }

    private Reading<double> Utilization(DateTimeOffset now)
    {
        MacRead read = _source.ReadCpuTicks(_ticks);
        if (!read.IsOk)
        {
            _cpu.Reset();
            return Failed<double>(read, TicksSource, now);
        }

        Reading<double> utilization = _cpu.Sample(CollectionsMarshal.AsSpan(_ticks), now, TicksSource, out string? anomaly);
        if (anomaly is not null)
        {
            _failures.Report(ProbeName, Plausible.OutOfRangeKind, anomaly);
        }

        return utilization;
    }

    private Reading<double> LoadPerCore(DateTimeOffset now)
    {
        MacRead read = _source.ReadLoadAverage(out double load);
        if (!read.IsOk)
        {
            return Failed<double>(read, LoadSource, now);
        }

        if (!(load >= 0 && load <= MaxLoadAverage))
        {
            return Implausible<double>(string.Create(CultureInfo.InvariantCulture,
                $"implausible load average '{load:R}' from {LoadSource} (plausible 0..{MaxLoadAverage:G} threads: it averages runnable threads, which the kernel caps far below)"), now);
        }

        if (!_effective.HasValue)
        {
            return Reading.Unknown<double>(_effective.Reason ?? "effective cores unknown", now);
        }

        return Reading.Measured(load / _effective.GetValueOrDefault(default), now, LoadSource);
    }

    private Reading<long> ReadTotal(DateTimeOffset now)
    {
        if (_totalBytes == 0)
        {
            // The installed memory does not change while the machine runs: read once, retried until it succeeds.
            MacRead read = _source.ReadSysctl(MemSize, out long bytes);
            if (!read.IsOk)
            {
                return Failed<long>(read, "sysctl " + MemSize, now);
            }

            if (MacMemory.CheckTotal(bytes) is { } reason)
            {
                return Implausible<long>(reason, now);
            }

            _totalBytes = bytes;
        }

        return Reading.Measured(_totalBytes, now, "sysctl " + MemSize);
    }

    private void Memory(Reading<long> total, DateTimeOffset now, out Reading<long> available, out Reading<long> used)
    {
        if (!total.HasValue)
        {
            available = used = Reading.Unknown<long>(total.Reason ?? "memory size unknown", now);
            return;
        }

        if (_pageBytes == 0)
        {
            MacRead pageRead = _source.ReadPageSize(out long pageBytes);
            if (!pageRead.IsOk)
            {
                available = used = Failed<long>(pageRead, "host_page_size", now);
                return;
            }

            if (MacMemory.CheckPageSize(pageBytes) is { } pageReason)
            {
                available = used = Implausible<long>(pageReason, now);
                return;
            }

            _pageBytes = pageBytes;
        }

        MacRead read = _source.ReadVmStatistics(out VmStatistics64 vm, out uint filled);
        if (!read.IsOk)
        {
            available = used = Failed<long>(read, "host_statistics64(HOST_VM_INFO64)", now);
            return;
        }

        if (MacMemory.TryAvailable(vm, filled, _pageBytes, _totalBytes, out long bytes) is { } reason)
        {
            available = used = Implausible<long>(reason, now);
            return;
        }

        available = Reading.Measured(bytes, now, MemorySource);
        used = Reading.Measured(_totalBytes - bytes, now, MemorySource);
    }

    private Reading<double> MemoryPressure(DateTimeOffset now)
    {
        MacRead read = _source.ReadSysctl(PressureLevel, out long level);
        if (!read.IsOk)
        {
            return Failed<double>(read, "sysctl " + PressureLevel, now);
        }

        if (MacMemory.Pressure(level) is not { } pressure)
        {
            return Implausible<double>(string.Create(CultureInfo.InvariantCulture,
                $"unknown memory pressure level '{level}' in sysctl {PressureLevel} (defined: 1 normal, 2 warning, 4 critical)"), now);
        }

        // A level, not a share of stalled time as PSI measures: Estimated, with the mapping in the source.
        return Reading.Estimated(pressure, now, MacMemory.PressureSource);
    }

    /// <summary>A failed read: reported and Unknown; a missing value is NotSupported and not reported.</summary>
    private Reading<T> Failed<T>(MacRead read, string what, DateTimeOffset now)
        where T : struct
    {
        string reason = read.Error ?? what + " failed";
        if (read.Status == MacReadStatus.Missing)
        {
            return Reading.NotSupported<T>(reason, now);
        }

        _failures.Report(ProbeName, read.Kind ?? "io", reason);
        return Reading.Unknown<T>(reason, now);
    }

    private Reading<T> Implausible<T>(string reason, DateTimeOffset now)
        where T : struct
    {
        _failures.Report(ProbeName, Plausible.OutOfRangeKind, reason);
        return Reading.Unknown<T>(reason, now);
    }
}
