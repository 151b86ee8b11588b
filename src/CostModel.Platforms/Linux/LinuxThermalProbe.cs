using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Linux;

/// <summary>
/// Temperatures, thermal level and throttling from sysfs: thermal zones with their trip points,
/// hwmon temperature channels with their limits, the Intel thermal throttle counters and cpufreq.
/// Every rule is in docs/linux/thermal.md.
/// </summary>
/// <remarks>
/// Sensors, trip points, counters and cpufreq policies are found once per discovery (trip points
/// and maximum frequencies are read then too); a pass re-reads the open temperature and counter
/// files, and the current frequencies only while throttling is signalled.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class LinuxThermalProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "linux.thermal";

    /// <summary>
    /// How often sensors, trip points and counters are enumerated again (30 s): hwmon drivers
    /// load late after boot, firmware may move trip points, CPUs go on and offline. A read that
    /// finds a file gone ("missing") triggers discovery on the next pass.
    /// </summary>
    internal static readonly TimeSpan RediscoverInterval = Rediscovery.DefaultInterval;

    // Level mapping (docs/linux/thermal.md, "Thermal level"):
    //   Critical: a sensor within CriticalMarginCelsius of (or past) its critical trip / temp*_crit;
    //   Serious:  throttle counters advanced in the interval, or a sensor at or over its
    //             passive/hot trip / temp*_max;
    //   Fair:     a sensor within FairMarginCelsius of its lowest trip point;
    //   Nominal:  otherwise, when there is a trip point or a counter to judge against.

    /// <summary>
    /// 5 C: at the critical trip the kernel shuts the machine down (thermal zones) or the CPU
    /// clamps hard (coretemp's crit is TjMax); a sensor rises by more than 5 C within a second or
    /// two of a load burst, so within 5 C the next burst may reach it.
    /// </summary>
    internal const double CriticalMarginCelsius = 5;

    /// <summary>
    /// 10 C: the brief's margin for "warm": within 10 C of the lowest trip point fans are usually
    /// at high speed and a sustained load reaches the trip within tens of seconds.
    /// </summary>
    internal const double FairMarginCelsius = 10;

    /// <summary>
    /// Trip points and limits outside (0, 150] C are unset or sentinels (0 for a disabled trip,
    /// -273150 or -32768000 from some drivers, 255000 or more for "none") and are ignored.
    /// </summary>
    internal const double MinTripCelsius = 0;

    /// <summary>The highest plausible trip point: the model's plausible sensor maximum.</summary>
    internal const double MaxTripCelsius = ThermalFactors.MaxPlausibleCelsius;

    internal const string NoSensorsReason = "no thermal sensors";
    internal const string FirstSampleReason = "first sample; counting throttle events needs two";
    internal const string NoCountersReason = "no thermal throttle counters (cpu*/thermal_throttle, Intel CPUs only)";
    internal const string NoCpufreqReason = "no cpufreq (cpu*/cpufreq/scaling_cur_freq and cpuinfo_max_freq)";
    internal const string NoTripsReason = "no trip points or throttle counters to judge the thermal level against";
    internal const string CannotTellReason = "cannot tell thermal throttling from power-saving clock scaling: no trip points or throttle counters";

    // Sysfs temperatures are millidegrees Celsius; frequencies kHz.
    private const double MilliPerUnit = 1000;

    private const string CriticalSource = "a sensor within 5 C of its critical trip point (docs/linux/thermal.md)";
    private const string SeriousSource = "thermal throttling signalled: throttle counters advanced or a passive/hot trip reached (docs/linux/thermal.md)";
    private const string FairSource = "a sensor within 10 C of its lowest trip point (docs/linux/thermal.md)";
    private const string NominalSource = "no sensor near a trip point and no throttle events (docs/linux/thermal.md)";
    private const string NoThrottlingSource = "no thermal throttling signalled; a clock below maximum is power saving";

    private readonly string _sysRoot;
    private readonly string _cpuRoot;
    private readonly IProbeFailureReporter _failures;
    private readonly ProbeReads _reads;
    private Sensor[] _sensors = [];
    private Counter[] _counters = [];
    private CpuClock[] _clocks = [];
    private double _maxKhzSum;
    private bool _anySensorHasTrips;
    private string _counterSource = "";
    private string _clockSource = "";
    private readonly Rediscovery _discovery = new(RediscoverInterval);

    public LinuxThermalProbe(IOptions<LinuxProbeOptions> options, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(failures);
        _sysRoot = options.Value.SysRoot;
        _cpuRoot = Path.Combine(_sysRoot, "devices", "system", "cpu");
        _failures = failures;
        _reads = new ProbeReads(failures, Name, _discovery.Request);
        Discover();
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Thermal;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider clock = snapshot.TimeProvider;
        long stamp = clock.GetTimestamp();
        if (_discovery.IsDue(clock, stamp))
        {
            Discover();
        }

        DateTimeOffset now = clock.GetUtcNow();

        // Temperatures against trip points.
        double hottest = double.NegativeInfinity;
        string? hottestSource = null;
        string? sensorFailure = null;
        bool critical = false, atThrottleTrip = false, nearTrip = false, tripEvidence = false;
        foreach (Sensor sensor in _sensors)
        {
            if (!TryReadCelsius(sensor.File, out double celsius, out string? error))
            {
                sensorFailure ??= error;
                continue;
            }

            if (celsius > hottest)
            {
                hottest = celsius;
                hottestSource = sensor.Source;
            }

            if (sensor.HasTrips)
            {
                tripEvidence = true;
                critical |= celsius >= sensor.CriticalTrip - CriticalMarginCelsius;
                atThrottleTrip |= celsius >= sensor.ThrottleTrip;
                nearTrip |= celsius >= sensor.LowestTrip - FairMarginCelsius;
            }
        }

        // Throttle counters: the sum of increases since the previous pass.
        long events = 0;
        bool countersFirst = false;
        string? counterFailure = null;
        foreach (Counter counter in _counters)
        {
            if (!TryReadCount(counter.File, out long value, out string? error))
            {
                counterFailure ??= error;
                counter.HasPrevious = false;
                continue;
            }

            if (!counter.HasPrevious)
            {
                countersFirst = true;
            }
            else
            {
                // A counter below its previous value was reset (CPU offline and online again):
                // everything it counted since the reset is new.
                events += value >= counter.Previous ? value - counter.Previous : value;
            }

            counter.Previous = value;
            counter.HasPrevious = true;
        }

        bool countersKnown = _counters.Length > 0 && counterFailure is null && !countersFirst;
        bool throttling = critical || atThrottleTrip || (countersKnown && events > 0);
        bool evidence = tripEvidence || countersKnown;

        // Why a judgement cannot be made, most specific first.
        string? undecided = counterFailure
            ?? (countersFirst ? FirstSampleReason : null)
            ?? (_anySensorHasTrips ? sensorFailure : null);

        Reading<double> hottestReading =
            _sensors.Length == 0 ? Reading.NotSupported<double>(NoSensorsReason, now)
            : hottestSource is null ? Reading.Unknown<double>(sensorFailure!, now)
            : Reading.Measured(hottest, now, hottestSource);

        Reading<ThermalLevel> level =
            critical ? Reading.Estimated(ThermalLevel.Critical, now, CriticalSource)
            : throttling ? Reading.Estimated(ThermalLevel.Serious, now, SeriousSource)
            : nearTrip ? Reading.Estimated(ThermalLevel.Fair, now, FairSource)
            : evidence ? Reading.Estimated(ThermalLevel.Nominal, now, NominalSource)
            : undecided is not null ? Reading.Unknown<ThermalLevel>(undecided, now)
            : Reading.NotSupported<ThermalLevel>(_sensors.Length == 0 ? NoSensorsReason : NoTripsReason, now);

        Reading<long> eventsReading =
            _counters.Length == 0 ? Reading.NotSupported<long>(NoCountersReason, now)
            : counterFailure is not null ? Reading.Unknown<long>(counterFailure, now)
            : countersFirst ? Reading.Unknown<long>(FirstSampleReason, now)
            : Reading.Measured(events, now, _counterSource);

        Reading<double> ratio =
            _clocks.Length == 0 ? Reading.NotSupported<double>(NoCpufreqReason, now)
            : throttling ? ClockLoss(now)
            : evidence ? Reading.Measured(0.0, now, NoThrottlingSource)
            : Reading.Unknown<double>(undecided ?? CannotTellReason, now);

        snapshot.Thermal = new ThermalFactors
        {
            Level = level,
            ThrottleRatio = ratio,
            HottestCelsius = hottestReading,
            ThrottleEvents = eventsReading,
        };
    }

    public void Dispose()
    {
        DisposeDevices();
        foreach (Counter counter in _counters)
        {
            counter.File.Dispose();
        }

        _counters = [];
    }

    /// <summary>1 - mean current / mean maximum frequency, read only while throttling is signalled.</summary>
    private Reading<double> ClockLoss(DateTimeOffset now)
    {
        double currentKhz = 0;
        foreach (CpuClock cpu in _clocks)
        {
            if (!cpu.Current.TryRead(out ReadOnlySpan<byte> content))
            {
                return Reading.Unknown<double>(_reads.ReportRead(cpu.Current), now);
            }

            if (!KernelText.TryParseInt64(content, out long khz) || khz < 0)
            {
                return Reading.Unknown<double>(_reads.ReportGarbage(cpu.Current.Path, KernelText.Trim(content), "not a frequency in kHz"), now);
            }

            currentKhz += khz;
        }

        // Both sums run over the same CPUs, so their ratio is the ratio of the means.
        return Reading.Estimated(Math.Clamp(1 - (currentKhz / _maxKhzSum), 0, 1), now, _clockSource);
    }

    private bool TryReadCelsius(KernelFile file, out double celsius, out string? error)
    {
        celsius = 0;
        if (!file.TryRead(out ReadOnlySpan<byte> content))
        {
            error = _reads.ReportRead(file);
            return false;
        }

        if (!KernelText.TryParseInt64(content, out long milli))
        {
            error = _reads.ReportGarbage(file.Path, KernelText.Trim(content), "not a temperature in millidegrees");
            return false;
        }

        // 0 is kept: it is a real reading (a cold sensor, or a driver that reads 0 and says so).
        // Outside the plausible range a sensor is not counted, so it cannot become the hottest.
        celsius = milli / MilliPerUnit;
        if (!Plausible.SensorCelsius.Contains(celsius))
        {
            error = _reads.Implausible(Plausible.SensorCelsius, file.Path + " (millidegrees C)", file.Excerpt());
            return false;
        }

        error = null;
        return true;
    }

    private bool TryReadCount(KernelFile file, out long value, out string? error)
    {
        if (!file.TryRead(out ReadOnlySpan<byte> content))
        {
            value = 0;
            error = _reads.ReportRead(file);
            return false;
        }

        if (!KernelText.TryParseInt64(content, out value) || value < 0)
        {
            error = _reads.ReportGarbage(file.Path, KernelText.Trim(content), "not a count");
            return false;
        }

        error = null;
        return true;
    }

    private void Discover()
    {
        Counter[] previous = _counters;
        DisposeDevices();
        var sensors = new List<Sensor>();
        DiscoverZones(sensors);
        DiscoverHwmon(sensors);
        _sensors = [.. sensors];
        _anySensorHasTrips = false;
        foreach (Sensor sensor in _sensors)
        {
            _anySensorHasTrips |= sensor.HasTrips;
        }

        DiscoverCpus(previous);
        foreach (Counter old in previous)
        {
            old.File.Dispose();
        }
    }

    /// <summary>thermal_zone*/temp with the zone's passive, hot and critical trip points (active trips are fan stages and ignored).</summary>
    private void DiscoverZones(List<Sensor> sensors)
    {
        foreach (string zone in List(Path.Combine(_sysRoot, "class", "thermal"), "thermal_zone*"))
        {
            string temp = Path.Combine(zone, "temp");
            if (!Path.Exists(temp))
            {
                continue;
            }

            double throttle = double.NaN, critical = double.NaN;
            foreach (string typeFile in ListFiles(zone, "trip_point_*_type"))
            {
                string? type = ReadText(typeFile);
                if (type is not ("passive" or "hot" or "critical"))
                {
                    continue;
                }

                string tempFile = string.Concat(typeFile.AsSpan(0, typeFile.Length - "_type".Length), "_temp");
                if (TryReadTrip(tempFile, out double trip))
                {
                    if (type == "critical")
                    {
                        critical = MinOrNaN(critical, trip);
                    }
                    else
                    {
                        throttle = MinOrNaN(throttle, trip);
                    }
                }
            }

            string label = ReadText(Path.Combine(zone, "type")) ?? "unnamed";
            sensors.Add(new Sensor(new KernelFile(temp), $"{temp} ({label})", throttle, critical));
        }
    }

    /// <summary>hwmon*/temp*_input with temp*_max (treated like a hot trip) and temp*_crit (critical).</summary>
    private void DiscoverHwmon(List<Sensor> sensors)
    {
        foreach (string hwmon in List(Path.Combine(_sysRoot, "class", "hwmon"), "hwmon*"))
        {
            string label = ReadText(Path.Combine(hwmon, "name")) ?? "unnamed";
            foreach (string input in ListFiles(hwmon, "temp*_input"))
            {
                string prefix = input[..^"_input".Length];
                double max = TryReadTrip(prefix + "_max", out double m) ? m : double.NaN;
                double crit = TryReadTrip(prefix + "_crit", out double c) ? c : double.NaN;
                sensors.Add(new Sensor(new KernelFile(input), $"{input} ({label})", max, crit));
            }
        }
    }

    /// <summary>Throttle counters (one per core and one per package, deduplicated by topology) and cpufreq maxima.</summary>
    private void DiscoverCpus(Counter[] previous)
    {
        var byPath = new Dictionary<string, Counter>(previous.Length, StringComparer.Ordinal);
        foreach (Counter old in previous)
        {
            byPath[old.File.Path] = old;
        }

        var counters = new List<Counter>();
        var clocks = new List<CpuClock>();
        var cores = new HashSet<(long Package, long Die, long Core)>();
        var packages = new HashSet<(long Package, long Die)>();
        double maxSum = 0;
        foreach (string cpu in List(_cpuRoot, "cpu*"))
        {
            ReadOnlySpan<char> suffix = Path.GetFileName(cpu.AsSpan())[3..];
            if (!long.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
            {
                // cpufreq, cpuidle: not CPUs.
                continue;
            }

            // Without topology each CPU counts on its own (-1 never collides with a real id).
            string topology = Path.Combine(cpu, "topology");
            long package = ReadId(Path.Combine(topology, "physical_package_id")) ?? -1 - number;
            long die = ReadId(Path.Combine(topology, "die_id")) ?? 0;
            long core = ReadId(Path.Combine(topology, "core_id")) ?? -1 - number;

            // SMT siblings each count their core's events, and every CPU of a package counts the
            // package's: one counter per core and one per package, or events are multiplied.
            string throttle = Path.Combine(cpu, "thermal_throttle");
            AddCounter(counters, byPath, Path.Combine(throttle, "core_throttle_count"), cores.Add((package, die, core)));
            AddCounter(counters, byPath, Path.Combine(throttle, "package_throttle_count"), packages.Add((package, die)));

            string cpufreq = Path.Combine(cpu, "cpufreq");
            string current = Path.Combine(cpufreq, "scaling_cur_freq");
            if (Path.Exists(current) && TryReadKhz(Path.Combine(cpufreq, "cpuinfo_max_freq"), out double maxKhz))
            {
                clocks.Add(new CpuClock(new KernelFile(current)));
                maxSum += maxKhz;
            }
        }

        _counters = [.. counters];
        _clocks = [.. clocks];
        _maxKhzSum = maxSum;
        _counterSource = $"{_cpuRoot}/cpu*/thermal_throttle/{{core,package}}_throttle_count: increases since the previous pass ({_counters.Length} counters)";
        _clockSource = $"1 - mean scaling_cur_freq / mean cpuinfo_max_freq of {_clocks.Length} CPUs ({_cpuRoot}/cpu*/cpufreq) while thermal throttling is signalled";
    }

    private static void AddCounter(List<Counter> counters, Dictionary<string, Counter> previous, string path, bool firstOfItsScope)
    {
        if (!firstOfItsScope || !Path.Exists(path))
        {
            return;
        }

        var counter = new Counter(new KernelFile(path));
        if (previous.Remove(path, out Counter? old))
        {
            // Keep the previous value across discoveries, so a delta is not lost every 30 s.
            counter.Previous = old.Previous;
            counter.HasPrevious = old.HasPrevious;
        }

        counters.Add(counter);
    }

    private bool TryReadTrip(string path, out double celsius)
    {
        celsius = double.NaN;
        string? text = ReadText(path);
        if (text is null || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long milli))
        {
            return false;
        }

        celsius = milli / MilliPerUnit;
        return celsius is > MinTripCelsius and <= MaxTripCelsius;
    }

    private bool TryReadKhz(string path, out double khz)
    {
        string? text = ReadText(path);
        if (text is not null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0)
        {
            khz = value;
            return true;
        }

        if (text is not null)
        {
            _failures.Report(Name, "garbage", $"{path}: not a frequency in kHz: '{text}'");
        }

        khz = 0;
        return false;
    }

    private long? ReadId(string path) =>
        ReadText(path) is { } text && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id) ? id : null;

    /// <summary>A small attribute read at discovery; null when absent (not reported) or unreadable (reported).</summary>
    private string? ReadText(string path)
    {
        if (KernelFile.TryReadText(path, out string text, out string? kind, out string? error))
        {
            return text;
        }

        if (kind != "missing")
        {
            _failures.Report(Name, kind ?? "io", error ?? path);
        }

        return null;
    }

    /// <summary>Subdirectories (sysfs class entries are symbolic links to directories) in ordinal order.</summary>
    private string[] List(string dir, string pattern)
    {
        try
        {
            string[] found = Directory.GetDirectories(dir, pattern);
            Array.Sort(found, StringComparer.Ordinal);
            return found;
        }
        catch (DirectoryNotFoundException)
        {
            // The kernel lacks the class (no thermal or hwmon driver): nothing to measure, not a failure.
            return [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failures.Report(Name, ex is UnauthorizedAccessException ? "access-denied" : "io", $"{dir}: {ex.Message}");
            return [];
        }
    }

    private string[] ListFiles(string dir, string pattern)
    {
        try
        {
            string[] found = Directory.GetFiles(dir, pattern);
            Array.Sort(found, StringComparer.Ordinal);
            return found;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failures.Report(Name, ex is UnauthorizedAccessException ? "access-denied" : "io", $"{dir}: {ex.Message}");
            return [];
        }
    }

    private static double MinOrNaN(double current, double candidate) =>
        double.IsNaN(current) || candidate < current ? candidate : current;

    /// <summary>Closes sensor and cpufreq files; counters are closed by <see cref="Discover"/> once their values moved on.</summary>
    private void DisposeDevices()
    {
        foreach (Sensor sensor in _sensors)
        {
            sensor.File.Dispose();
        }

        foreach (CpuClock cpu in _clocks)
        {
            cpu.Current.Dispose();
        }

        _sensors = [];
        _clocks = [];
    }

    /// <summary>One temperature with its trip points in C (NaN when absent).</summary>
    private sealed class Sensor
    {
        public Sensor(KernelFile file, string source, double throttleTrip, double criticalTrip)
        {
            File = file;
            Source = source;
            ThrottleTrip = throttleTrip;
            CriticalTrip = criticalTrip;
            LowestTrip = MinOrNaN(throttleTrip, criticalTrip);
            HasTrips = !double.IsNaN(LowestTrip);
        }

        public KernelFile File { get; }

        public string Source { get; }

        /// <summary>The lowest passive or hot trip point (thermal zone) or temp*_max (hwmon).</summary>
        public double ThrottleTrip { get; }

        /// <summary>The critical trip point (thermal zone) or temp*_crit (hwmon).</summary>
        public double CriticalTrip { get; }

        public double LowestTrip { get; }

        public bool HasTrips { get; }
    }

    private sealed class Counter(KernelFile file)
    {
        public KernelFile File { get; } = file;

        public long Previous { get; set; }

        public bool HasPrevious { get; set; }
    }

    private sealed class CpuClock(KernelFile current)
    {
        public KernelFile Current { get; } = current;
    }
}
